"""Decide what one StreamGenerate answers: an error body, or a turn of a chat with its answer.

This is where accounts, the served model, uploads, chat state and the answer meet; the pacing of
the bytes lives in ``stream``.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from simulator import payloads
from simulator.accounts import Account, AccountKind
from simulator.answers import Answer, ReceivedFile, compose
from simulator.chats import Chat, Turn
from simulator.models import ServedModel, UnknownModel, served_model
from simulator.music import MusicTrack
from simulator.payloads import IMAGE_PLACEHOLDER, GeneratedImage, WebImageRef
from simulator.requests import GenerateRequest
from simulator.state import SimState, VideoJob
from simulator.toolbox import TOOL_IMAGE, tool_codes
from simulator.usage import Window


@dataclass(frozen=True)
class ErrorPlan:
    """An error-only body: optional leading payloads, then the BardErrorInfo envelope."""

    status: int
    code: int
    before: list[list[object]] = field(default_factory=list)


@dataclass
class AnswerPlan:
    cid: str
    rid: str
    rcid: str
    model: ServedModel
    answer: Answer
    images: list[GeneratedImage]
    video: tuple[str, str] | None  # (thumbnail, mp4) of a Create-video turn
    # (mp3 thumb, mp3, mp4 thumb, mp4) of a Create-music turn: only the final frame names them.
    music: tuple[str, str, str, str] | None
    persisted: bool
    context_token: str
    chat_status: str
    locator_token: str
    quota: list[Window] = field(default_factory=list)  # usage windows after this turn (persisted only)
    web_images: list[WebImageRef] = field(default_factory=list)
    # stream flow: the final frame carries ``video``; poll flow: no frame ever does (J1).
    video_in_stream: bool = False
    temporary: bool = False  # the chat is a temporary one (inner[45] = 1 when it started)


_ACCOUNT_ERRORS = {
    AccountKind.LIMITED: (8, 1037),
    AccountKind.BLOCKED: (9, 1060),
    AccountKind.TERMS: (9, 1040),
    AccountKind.REGION: (9, 1060),
}
UPLOAD_ERROR = (7, 1100)
# A temporary chat continued after its lifetime (peers-late-2026.md §7: 1135, quiper #4); the
# status is our choice.
TEMPORARY_EXPIRED = (9, 1135)
MODEL_ERROR = (9, 1052)
USAGE_LIMIT = (8, 1037)


def account_error(account: Account) -> ErrorPlan | None:
    pair = _ACCOUNT_ERRORS.get(account.kind)
    return ErrorPlan(*pair) if pair else None


def received_files(state: SimState, account: Account, request: GenerateRequest) -> list[ReceivedFile] | None:
    """The referenced uploads, or None when one is unknown or the visitor is signed out (1100)."""
    files: list[ReceivedFile] = []
    for ref in request.files:
        upload = state.uploads.get(ref.ref)
        if upload is None or not account.session_valid:
            return None
        files.append(
            ReceivedFile(ref.name or upload.name, ref.mime or upload.mime, upload.sha256, len(upload.data))
        )
    return files


def honoured_tool(account: Account, tool: int | None) -> int | None:
    """Signed-in plans get only the tools their menu lists (a free account's video request is a
    plain turn); signed-out turns keep the code (image/video answer "Are you signed in?")."""
    if tool is None or not account.signed_in:
        return tool
    return tool if tool in tool_codes(account.plan) else None


def free_features(model: ServedModel, tool: int | None) -> list[str]:
    """The free-tier allowances this turn draws on (D8: limited Pro, daily images)."""
    used = ["pro"] if model.family == "pro" else []
    return [*used, "image"] if tool == TOOL_IMAGE else used


def quota_error(
    state: SimState, account: Account, model: ServedModel, features: list[str]
) -> ErrorPlan | None:
    """1037 once a free allowance is used up in the window, after a quota frame whose reset is
    when the window frees up (the same shape as the ``usage_limit`` behaviour's)."""
    limits = {"pro": state.settings.free_pro_turns, "image": state.settings.free_image_turns}
    now = time.time()
    for feature in features:
        used, reset = state.usage.feature_use(account.public_id, feature, now)
        if used >= limits[feature]:
            return ErrorPlan(*USAGE_LIMIT, [payloads.exhausted_quota(None, "", model.hex, reset)])
    return None


def plan_turn(
    state: SimState, account: Account, request: GenerateRequest, base_url: str
) -> AnswerPlan | ErrorPlan:
    """Resolve chat, model and files; on success the turn is recorded in the chat right away."""
    error = account_error(account)
    if error is not None:
        return error
    settings = state.settings
    try:
        model = served_model(account, request.mode, request.inner_thinking, settings.ui)
    except UnknownModel:
        return ErrorPlan(*MODEL_ERROR)
    files = received_files(state, account, request)
    if files is None:
        return ErrorPlan(*UPLOAD_ERROR)
    tool = honoured_tool(account, request.tool)
    features = free_features(model, tool) if account.plan == "free" else []
    refused = quota_error(state, account, model, features)
    if refused is not None:
        return refused
    persist = account.session_valid
    sim_now = state.clock.now()
    chat, status = state.chats.resolve(
        request.cid,
        request.rid,
        request.rcid,
        persist,
        account.public_id,
        temporary=request.temporary,
        now=sim_now,
    )
    if chat.temporary and chat.turns and sim_now - chat.started_sim > settings.temporary_chat_lifetime:
        return ErrorPlan(*TEMPORARY_EXPIRED)
    rid, rcid = state.chats.next_ids(chat, request.prompt)
    turn = len(chat.turns) + 1
    answer = compose(
        turn=turn,
        cid=chat.cid,
        prompt=request.prompt,
        earlier_prompts=chat.prompts,
        files=files,
        model=model,
        tool=tool,
        gem=request.gem,
        signed_in=account.session_valid,
        gem_used=state.gems.find(account, request.gem) if request.gem else None,
        research_topic=chat.pending_research,
        video_flow=settings.video_flow,
        research_report_slot=settings.research_report,
    )
    pending = chat.pending_research_id
    if pending and answer.report is not None and persist and settings.research_seconds > 0:
        # The research runs on after this turn (simulator/research_runs.py).
        seconds = settings.research_seconds
        state.research_runs.begin(
            answer, research_id=pending, cid=chat.cid, rid=rid, seconds=seconds, slot=settings.research_report
        )
        chat.research[pending] = "running"
    images = _register_images(state, answer, base_url, account)
    video = _register_video(state, answer, base_url, account)
    music = _register_music(state, answer, base_url, account, chat.cid, turn, request.prompt)
    web = _web_images(answer, base_url)
    token = state.chats.context_token(chat, turn) if persist else ""
    quota: list[Window] = []
    if persist:
        _record(chat, request.prompt, answer, images, video, web, rid, rcid, token, settings.video_flow)
        chat.turns[-1].music = music
        now = time.time()
        state.usage.record_turn(account.public_id, now)
        for feature in features:
            state.usage.record_feature(account.public_id, feature, now)
        quota = state.usage.windows(account.public_id, now)
    return AnswerPlan(
        cid=chat.cid,
        rid=rid,
        rcid=rcid,
        model=model,
        answer=answer,
        images=images,
        video=video,
        music=music,
        persisted=persist,
        context_token=token,
        chat_status=status,
        locator_token=_locator_token(rid),
        quota=quota,
        web_images=web,
        video_in_stream=settings.video_flow == "stream",
        temporary=chat.temporary,
    )


def _record(
    chat: Chat,
    prompt: str,
    answer: Answer,
    images: list[GeneratedImage],
    video: tuple[str, str] | None,
    web: list[WebImageRef],
    rid: str,
    rcid: str,
    token: str,
    video_flow: str,
) -> None:
    urls = [image.url for image in images]
    plan = answer.research
    pending = chat.pending_research_id
    if pending and answer.report is not None:
        # The "Start research" follow-up delivered the report (or started the run that will).
        chat.research[pending] = "done"
    research_id = plan.research_id if plan is not None else ""
    if research_id:
        chat.research[research_id] = "awaiting"
    turn = Turn(
        prompt,
        answer.text,
        answer.thoughts,
        urls,
        rid,
        rcid,
        plan is not None,
        research_id,
        video,
        video_job=answer.video_job if video is not None else "",
        video_flow=video_flow if video is not None else "",
        web_images=web,
    )
    chat.turns.append(turn)
    chat.context_token = token


def _token(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()


def _locator_token(rid: str) -> str:
    return _token("locator", rid)[:43]


def _register_images(
    state: SimState, answer: Answer, base_url: str, account: Account
) -> list[GeneratedImage]:
    images = []
    for index, spec in enumerate(answer.images):
        token = "AHiVA1" + _token("image", spec.seed, account.public_id)[:58]
        state.images[token] = spec
        images.append(
            GeneratedImage(
                url=f"{base_url}/gg-dl/{token}=s1024-rj",
                name=f"image_{index}.png",
                token="$Aesy" + _token("image-token", token)[:24],
                placeholder=IMAGE_PLACEHOLDER.format(n=index),
                prompt=spec.prompt,
                index=index,
                edited=spec.edited,
            )
        )
    return images


def _register_video(
    state: SimState, answer: Answer, base_url: str, account: Account
) -> tuple[str, str] | None:
    if not answer.video:
        return None
    token = _token("video", answer.video_job)[:48]
    state.videos.setdefault(token, VideoJob(token, time.monotonic(), account.public_id))
    return (
        f"{base_url}/download?c={token}&filename=thumbnail.jpg",
        f"{base_url}/download?c={token}&filename=video.mp4",
    )


def _register_music(
    state: SimState, answer: Answer, base_url: str, account: Account, cid: str, turn: int, prompt: str
) -> tuple[str, str, str, str] | None:
    """The track's download URLs (protocol.md §7: ``/download?c=<token>&filename=…``), behind the
    account's cookies like the video's."""
    if not answer.music:
        return None
    token = _token("music", cid, turn, account.public_id)[:48]
    state.music[token] = MusicTrack(token, account.public_id, prompt)
    url = f"{base_url}/download?c={token}&filename="
    return (f"{url}cover.jpg", f"{url}track.mp3", f"{url}cover.jpg", f"{url}track.mp4")


def _web_images(answer: Answer, base_url: str) -> list[WebImageRef]:
    """Web images are public pictures: their URLs need no cookie (simulator/routes/media.py)."""
    return [
        WebImageRef(f"{base_url}/webimg/{image.seed}.jpg", image.alt, f"Source page {i + 1}")
        for i, image in enumerate(answer.web_images)
    ]
