"""The deep research models through chat completions: plan, confirmation, report.

A research turn proposes a plan (title, steps, eta); the web app starts it when the user clicks
"Start research", which sends that text as the chat's next Deep Research turn. Here the plan is
confirmed at once, in the same chat, and the answer is the report (the document of the confirming
turn), its links gathered as a numbered list of sources. With ``research_confirm: false`` the answer
is the plan instead; the next message of that history continues the chat: a confirmation word
("start", "yes", ...) starts the research, anything else edits the plan (Gemini answers with a new
plan, confirmed at once unless the follow-up also sets ``research_confirm: false``).

The report comes with the confirming turn's answer, or (a research that runs for minutes) later:
the confirming turn then answers with a stub, and the research is followed outside any lease, its
status through ``kwDCne`` and its report, once written, from the chat's history (``hNvQHb``); the
wait shows as reasoning lines and is bounded by ``research_max_wait``. The research runs on Google's
side, so a client that goes away does not stop it (``stop()`` leaves the page alone), and the
confirmed research is recorded by its history (``service.chat.longrun_registry``): the same messages
sent again, also after a gateway restart, collect the report instead of starting another research.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace

from browser import USAGE_LIMIT, AccountInfo, GeneratedImage, Media, ResearchInfo, TurnRequest, TurnSnapshot
from service.backend import Backend, BackendTurn, BackendWrapper
from service.chat.longrun_registry import ResearchEntry
from service.cluster.forward import to_account_owner
from service.errors import InvalidRequest, UpstreamFailed, UpstreamTimedOut
from service.janitor import ChatJanitor
from service.stores.interfaces import ResearchLog

log = logging.getLogger(__name__)

__all__ = [
    "CONFIRM_FIELD",
    "CONFIRM_PROMPT",
    "ResearchBackend",
    "ResearchContext",
    "collect_where_driven",
    "plan_text",
    "report_text",
    "wants_confirm",
]

CONFIRM_FIELD = "research_confirm"
CONFIRM_PROMPT = "Start research"  # what the plan card's button sends
_MAX_READ_FAILURES = 5
_CONFIRM_WORDS = {"start", "start research", "yes", "ok", "okay", "confirm", "go", "go ahead", "proceed"}
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_SOURCES = re.compile(r"^#{1,6}\s*sources\b", re.IGNORECASE | re.MULTILINE)


def wants_confirm(extra: dict[str, object]) -> bool:
    value = extra.get(CONFIRM_FIELD, True)
    if not isinstance(value, bool):
        raise InvalidRequest(f"{CONFIRM_FIELD} must be true or false.", param=CONFIRM_FIELD)
    return value


def plan_text(plan: ResearchInfo) -> str:
    """The plan as markdown: title, numbered steps, eta, and how to go on."""
    lines = [f"**{plan.title or 'Research plan'}**", ""]
    for n, step in enumerate(plan.steps, 1):
        label = step.label or f"Step {n}"
        lines.append(f"{n}. **{label}**" + (f": {step.body}" if step.body else ""))
    if plan.eta:
        lines += ["", plan.eta]
    lines += ["", "Reply “start” to begin the research, or say what to change in the plan."]
    return "\n".join(lines)


def report_text(report: str) -> str:
    """The report, with its links listed as numbered sources when it has no sources section."""
    if _SOURCES.search(report):
        return report
    links: dict[str, str] = {}
    for title, url in _LINK.findall(report):
        links.setdefault(url, title)
    if not links:
        return report
    sources = [f"{n}. [{title}]({url})" for n, (url, title) in enumerate(links.items(), 1)]
    return report.rstrip() + "\n\n## Sources\n\n" + "\n".join(sources)


def collect_where_driven(known: ResearchEntry, accounts: Sequence[AccountInfo]) -> None:
    """A confirmed research is read from its account's page: raise ``Redirected`` when that
    account is not in ``accounts`` (the local pool's) and another live replica drives it."""
    if known.account_id not in {account.id for account in accounts}:
        to_account_owner(known.account_id)  # its account's page is another replica's


def _is_confirmation(prompt: str) -> bool:
    return prompt.strip().strip(".!").lower() in _CONFIRM_WORDS


class _Replay:
    """A finished turn replayed: its snapshots are already known; nothing runs on the page."""

    def __init__(self, account_id: str, snapshots: Sequence[TurnSnapshot], turn: BackendTurn) -> None:
        self._account_id = account_id
        self._snapshots = snapshots
        self._turn = turn

    @property
    def account_id(self) -> str:
        return self._account_id

    def __aiter__(self) -> AsyncIterator[TurnSnapshot]:
        return self._play()

    async def _play(self) -> AsyncIterator[TurnSnapshot]:
        for snapshot in self._snapshots:
            yield snapshot

    async def stop(self) -> None:
        return None

    async def fetch_media(self, url: str) -> Media:
        return await self._turn.fetch_media(url)

    async def fetch_original(self, image: GeneratedImage) -> Media:
        return await self._turn.fetch_original(image)


@dataclass(frozen=True)
class ResearchContext:
    """What a research request needs beyond the backend: where confirmed researches are recorded,
    the history's key, the limits, and the janitor that hears of a plan's chat left behind."""

    registry: ResearchLog
    key: str
    max_wait: float
    poll_interval: float
    janitor: ChatJanitor | None = None


class _Collect:
    """A confirmed research, waited for: progress lines as thoughts, then the report as the text.
    ``stop()`` does nothing: the research goes on at Google's whatever the client does."""

    def __init__(
        self,
        backend: Backend,
        ctx: ResearchContext,
        entry: ResearchEntry,
        answered: TurnSnapshot | None,
        turn: BackendTurn | None,
    ) -> None:
        self._backend = backend  # reads the research outside any lease: research_state, _report
        self._ctx = ctx
        self._entry = entry
        self._answered = answered  # the confirming turn's answer, when this request sent it
        self._turn = turn

    @property
    def account_id(self) -> str:
        return self._entry.account_id

    def __aiter__(self) -> AsyncIterator[TurnSnapshot]:
        return self._snapshots()

    async def _snapshots(self) -> AsyncIterator[TurnSnapshot]:
        entry, ctx = self._entry, self._ctx
        base = self._answered or TurnSnapshot(cid=entry.chat_id)
        thoughts = "Research started" + (f": {entry.title}" if entry.title else "") + "\n"
        yield replace(base, text="", thoughts=thoughts, completed=False)
        report = self._answered.canvas if self._answered is not None else None
        started, failures = time.monotonic(), 0
        while report is None:
            try:
                state = await self._backend.research_state(entry.account_id, entry.research_id)
                if state == "done":
                    report = await self._backend.research_report(entry.account_id, entry.chat_id)
                failures = 0
            except UpstreamFailed as exc:
                # The page asked from may be reloading between turns: a few misses in a row are
                # tolerated, more are the research's (or the account's) failure.
                failures += 1
                if failures > _MAX_READ_FAILURES:
                    raise UpstreamFailed(
                        f"The gateway cannot follow a running research: reading it failed {failures} "
                        f"times in a row; the last time: {exc.message}",
                        code=exc.code,
                    ) from exc
                state = "unknown"
            if report is not None:
                break
            if state == "awaiting":
                raise UpstreamFailed("The research was never started (its plan still awaits confirmation).")
            waited = time.monotonic() - started
            if waited >= ctx.max_wait:
                raise UpstreamTimedOut(
                    f"The research is still running after {ctx.max_wait:.0f}s; it goes on at Google. "
                    "Send the same messages again later to collect the report."
                )
            thoughts += f"Researching… {waited:.0f}s\n"
            yield replace(base, text="", thoughts=thoughts, completed=False)
            await asyncio.sleep(ctx.poll_interval)
        thoughts += "Report ready.\n"
        yield replace(base, cid=entry.chat_id, text=report_text(report), thoughts=thoughts, completed=True)

    async def stop(self) -> None:
        return None

    async def fetch_media(self, url: str) -> Media:
        if self._turn is None:
            raise UpstreamFailed("No media belongs to a collected research.")
        return await self._turn.fetch_media(url)

    async def fetch_original(self, image: GeneratedImage) -> Media:
        if self._turn is None:
            raise UpstreamFailed("No media belongs to a collected research.")
        return await self._turn.fetch_original(image)


def _plan_key(account_id: str, chat_id: str) -> str:
    return f"plan:{account_id}:{chat_id}"


async def _answer(turn: BackendTurn) -> list[TurnSnapshot]:
    return [snapshot async for snapshot in turn]


class ResearchBackend(BackendWrapper):
    """A ``Backend`` whose turn is the research exchange: the prompt's turn, then, when it proposed a
    plan and ``confirm`` is set, the confirming turn in the same chat, each lease given back before
    the next step; then the wait for the report (``_Collect``, reading it through ``inner``). A
    history whose research was confirmed before is collected, not researched again. The rest of
    the port passes on."""

    def __init__(self, inner: Backend, ctx: ResearchContext, *, confirm: bool) -> None:
        super().__init__(inner)
        self.ctx = ctx
        self.confirm = confirm

    def turn(self, spec: TurnRequest) -> AbstractAsyncContextManager[BackendTurn]:
        return self._turn(spec)

    async def _find(self) -> ResearchEntry | None:
        return await self.ctx.registry.find(self.ctx.key)

    @asynccontextmanager
    async def _turn(self, spec: TurnRequest) -> AsyncIterator[BackendTurn]:
        known = await self._find()
        if known is not None:
            collect_where_driven(known, self.inner.accounts())
            log.info("collecting the research already confirmed for this history")
            yield _Collect(self.inner, self.ctx, known, None, None)
            return
        if spec.chat_id is not None and _is_confirmation(spec.prompt):
            yield await self._confirm(spec, None)
            return
        yield await self._exchange(spec)

    async def _exchange(self, spec: TurnRequest) -> BackendTurn:
        """The prompt's turn, then (a plan, ``confirm`` set) the confirming turn in its chat.

        The confirming turn is pinned to the plan's account, so the pool cannot move it: when that
        account meets its usage limit there (1037: a free account's Pro allowance spent by the plan
        itself, or by other requests meanwhile), nothing has reached the client yet, and the whole
        exchange starts again, planned on another account. The pool cools the spent account for
        this quota until the reset its answer named, so the new plan goes elsewhere; with no other
        account left the new plan's lease is refused with that wait (429). An account is tried
        once: a second limit on an account already spent is the request's error."""
        spent: set[str] = set()
        while True:
            async with self.inner.turn(spec) as first:
                snapshots = await _answer(first)
                account_id = first.account_id
            last = snapshots[-1] if snapshots else None
            if last is None or last.failed or last.research is None or last.canvas is not None:
                # No plan: an error, a report already (a follow-up that started it), or plain text.
                return _Replay(account_id, [self._report_or_text(s) for s in snapshots], first)
            if not self.confirm:
                if last.cid and last.research.research_id:
                    await self._remember_plan(account_id, last.cid, last.research)
                return _Replay(account_id, [replace(last, text=plan_text(last.research))], first)
            if not last.cid:
                raise UpstreamFailed("Gemini proposed a research plan outside any chat.")
            confirm = replace(spec, attachments=(), account_id=account_id, chat_id=last.cid)
            try:
                return await self._confirm(confirm, last.research)
            except UpstreamFailed as exc:
                if exc.gemini_code != USAGE_LIMIT or account_id in spent:
                    raise
                spent.add(account_id)
                if self.ctx.janitor is not None:  # the plan's chat will never be continued
                    self.ctx.janitor.chat_unkept(account_id, last.cid)
                log.info(
                    "account %s reached its usage limit before the research started; planning it again "
                    "on another account",
                    account_id,
                )

    async def _confirm(self, spec: TurnRequest, plan: ResearchInfo | None) -> BackendTurn:
        """Send "Start research" in the plan's chat, record the research, and wait for its report."""
        assert spec.chat_id is not None
        async with self.inner.turn(replace(spec, prompt=CONFIRM_PROMPT)) as turn:
            snapshots = await _answer(turn)
            account_id = turn.account_id
        last = snapshots[-1] if snapshots else None
        if last is None or last.failed:
            return _Replay(account_id, snapshots, turn)
        if last.research is not None and last.canvas is None:
            raise UpstreamFailed("Gemini did not start the research (it proposed a plan again).")
        research = plan or last.research or await self._plan_of(account_id, spec.chat_id)
        research_id = research.research_id if research is not None else None
        title = research.title if research is not None else None
        chat_id = last.cid or spec.chat_id
        if last.canvas is not None:  # the report came with the answer: nothing to follow or record
            answered = ResearchEntry(self.ctx.key, account_id, chat_id, "", title, 0.0)
            return _Collect(self.inner, self.ctx, answered, last, turn)
        if research_id is None:
            raise UpstreamFailed("Gemini started a research without an id to follow it by.")
        entry = ResearchEntry(self.ctx.key, account_id, chat_id, research_id, title, time.time())
        await self.ctx.registry.record(entry.key, entry.account_id, entry.chat_id, research_id, title)
        return _Collect(self.inner, self.ctx, entry, last, turn)

    async def _remember_plan(self, account_id: str, chat_id: str, plan: ResearchInfo) -> None:
        """A plan returned to the client: its id, for the follow-up that confirms it."""
        if plan.research_id is not None:
            key = _plan_key(account_id, chat_id)
            await self.ctx.registry.record(key, account_id, chat_id, plan.research_id, plan.title)

    async def _plan_of(self, account_id: str, chat_id: str) -> ResearchInfo | None:
        entry = await self.ctx.registry.find(_plan_key(account_id, chat_id))
        if entry is None:
            return None
        return ResearchInfo(title=entry.title, steps=(), eta=None, state=None, research_id=entry.research_id)

    @staticmethod
    def _report_or_text(snapshot: TurnSnapshot) -> TurnSnapshot:
        if snapshot.canvas:
            return replace(snapshot, text=report_text(snapshot.canvas))
        return snapshot
