"""What each MCP tool does, on the gateway's own services (built once by the lifespan, shared with
the HTTP routes): nothing here talks to the pool but through them, so scopes, metering, account
groups and conversation reuse apply exactly as on ``/v1``.

- ``chat``: the Responses service with one of the gateway's conversations (``/v1/conversations``):
  the conversation holds the history, chat serving (the engine of ``/v1/chat/completions``)
  answers and continues the Gemini chat that already holds that history.
- ``generate_image`` / ``edit_image``: the images service (``/v1/images/...``), base64 out.
- ``make_video`` / ``video_status``: the video jobs (``/v1/videos``), owned by the calling key.
- ``make_music``: the music serving of chat completions (``service.chat.music``), streamed inside
  so that its waiting lines reach the client as progress: the MP3 as audio content and its link.
- ``deep_research``: the deep research serving of chat completions; the research is recorded by its
  question, so calling again with the same question collects it instead of starting another.
- ``list_models``: the catalog the key's scopes allow.

On a cluster, the services' forwarding hooks (``Redirected``) send a call whose work lives on another
replica there (``service.mcp.forwarding``): ``video_status`` adds its own, for a video file kept by
the replica that rendered it (as ``GET /v1/videos/{id}/content`` does).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from mcp.types import CallToolResult
from pydantic import ValidationError

from browser import Attachment
from service.auth import Caller
from service.catalog import (
    CATALOG,
    Catalog,
    ModelSpec,
    OutputKind,
    can_serve,
    fitting_accounts,
)
from service.chat.images import load_image
from service.chat.longrun import check_accounts
from service.chat.music import MusicChat
from service.chat.protocol import ChatCompletionRequest, ChatMessage
from service.cluster.forward import to_account_owner
from service.errors import InvalidRequest, ModelNotFound, NotFound, ServiceError
from service.images.protocol import DEFAULT_IMAGE_MODEL, ImageEditRequest, ImageGenerationRequest
from service.images.serving import image_model
from service.key_scopes import allows, check_model
from service.mcp import results
from service.mcp.arguments import (
    VIDEO_SIZES,
    ChatArgs,
    EditImageArgs,
    GenerateImageArgs,
    MakeVideoArgs,
    MusicArgs,
    ResearchArgs,
    VideoStatusArgs,
)
from service.mcp.video_links import VideoLinks, link_lifetime
from service.responses.convert import ResponsesRequest
from service.state import Gateway

__all__ = [
    "DEFAULT_MUSIC_MODEL",
    "DEFAULT_VIDEO_MODEL",
    "Call",
    "Progress",
    "chat",
    "deep_research",
    "edit_image",
    "generate_image",
    "list_models",
    "make_music",
    "make_video",
    "video_status",
]

DEFAULT_VIDEO_MODEL = "gemini-2.5-pro-video"
DEFAULT_MUSIC_MODEL = "gemini-2.5-flash-music"
VIDEO_SECONDS = "8"  # Veo makes 8-second clips


Progress = Callable[[float, str], Awaitable[None]]


async def no_progress(_: float, __: str) -> None:
    return None


@dataclass(frozen=True)
class Call:
    """One tool call: the running gateway, the caller the API-key gate let in, and where to report
    progress (MCP progress notifications, sent only when the client asked for them)."""

    gateway: Gateway
    caller: Caller
    video_links: VideoLinks  # the app's: a finished video's link is delivered once
    progress: Progress = no_progress

    @property
    def identity(self) -> str:
        return self.caller.identity


def _model(catalog: Catalog, name: str, output: OutputKind, hint: str) -> ModelSpec:
    spec = catalog.find(name)
    if spec is None:
        raise ModelNotFound(name)
    if spec.output is not output:
        raise InvalidRequest(f"The model {name} {hint}", param="model", code="model_not_supported")
    return spec


async def chat(call: Call, args: ChatArgs) -> CallToolResult:
    spec = _model(
        call.gateway.catalog,
        args.model,
        OutputKind.TEXT,
        "is not a chat model (list_models shows each model's output).",
    )
    check_model(call.caller, spec)
    responses = call.gateway.responses
    if responses.chat.options.temporary(args.temporary):
        return await _temporary_chat(call, args, spec)
    conversation = args.conversation_id
    started = conversation is None
    if conversation is None:
        created = await asyncio.to_thread(responses.conversations.create, call.identity, {}, [])
        conversation = str(created["id"])
    try:
        request = ResponsesRequest(
            model=spec.name,
            input=args.message,
            instructions=args.system,
            conversation=conversation,
            store=False,
            temporary=False,  # decided above, whatever the gateway's default
        )
        prepared = await responses.prepare(request, call.identity)
        body = await responses.create(prepared, call.identity)
    except BaseException:
        if started:  # a conversation that never got a turn is not left behind
            forget = asyncio.to_thread(responses.conversations.delete, call.identity, conversation)
            await asyncio.shield(forget)
        raise
    return results.chat_answer(body, conversation)


async def _temporary_chat(call: Call, args: ChatArgs, spec: ModelSpec) -> CallToolResult:
    """A temporary chat (``service.temporary``, by the argument or the gateway's default): one
    turn kept nowhere, so there is no conversation to name or to continue."""
    if args.conversation_id is not None:
        raise InvalidRequest(
            "A temporary chat is kept in no conversation: leave conversation_id out, or send "
            "temporary: false to continue that conversation.",
            param="conversation_id",
        )
    request = ResponsesRequest(
        model=spec.name, input=args.message, instructions=args.system, store=False, temporary=True
    )
    responses = call.gateway.responses
    body = await responses.create(await responses.prepare(request, call.identity), call.identity)
    return results.chat_answer(body, None)


async def generate_image(call: Call, args: GenerateImageArgs) -> CallToolResult:
    request = _image_request(ImageGenerationRequest, prompt=args.prompt, model=args.model, n=args.n)
    check_model(call.caller, image_model(call.gateway.catalog, request.model))
    images = call.gateway.images
    result = await images.create(images.plan("generation", request))
    return results.images(result.response, f"image/{request.output_format or 'png'}")


async def edit_image(call: Call, args: EditImageArgs) -> CallToolResult:
    request = _image_request(ImageEditRequest, prompt=args.prompt, model=args.model)
    check_model(call.caller, image_model(call.gateway.catalog, request.model))
    attachment = await _image_input(call, args.image)
    images = call.gateway.images
    result = await images.create(images.plan("edit", request, (attachment,)))
    return results.images(result.response, f"image/{request.output_format or 'png'}")


def _image_request(kind: type[ImageGenerationRequest], *, model: str | None, **fields: Any) -> Any:
    try:
        return kind(model=model or DEFAULT_IMAGE_MODEL, **fields)
    except ValidationError as exc:  # the arguments' own checks come first: this is a backstop
        raise InvalidRequest(f"Invalid image request: {exc.errors()[0]['msg']}.") from None


async def _image_input(call: Call, image: str) -> Attachment:
    """The image to edit: an http(s) URL is fetched under the gateway's fetch policy and the key's
    image admission (as an edit's image URLs on ``/v1/images/edits``); base64 is decoded as a
    data URL, within the same size and type limits."""
    options = call.gateway.chat.options
    policy = options.fetch_policy
    value = image.strip()
    try:
        if value.startswith(("http://", "https://")):
            with options.admission.admit(call.identity) as budget:
                capped = replace(policy, max_bytes=min(policy.max_bytes, budget.remaining))
                loaded = await load_image(value, policy=capped)
                budget.charge(len(loaded.data))
            return loaded
        if not value.startswith("data:"):  # bare base64: the type is sniffed from the bytes
            value = "data:image/*;base64," + "".join(value.split())
        return await load_image(value, policy=policy)
    except ServiceError as exc:
        exc.param = "image"
        raise


async def make_video(call: Call, args: MakeVideoArgs) -> CallToolResult:
    hint = f"does not make videos; use {DEFAULT_VIDEO_MODEL}."
    spec = _model(call.gateway.catalog, args.model or DEFAULT_VIDEO_MODEL, OutputKind.VIDEO, hint)
    check_model(call.caller, spec)
    check_accounts(spec, call.gateway.backend.accounts())
    files = (await _image_input(call, args.image),) if args.image else ()
    prompt = args.prompt.strip()
    record = await call.gateway.videos.create(
        owner=call.identity,
        model=spec.name,
        prompt=prompt,
        typed=f"{prompt}\n\nAspect ratio {VIDEO_SIZES[args.size]}.",
        seconds=VIDEO_SECONDS,
        size=args.size,
        files=files,
    )
    return results.video_started(record)


async def video_status(call: Call, args: VideoStatusArgs) -> CallToolResult:
    jobs = call.gateway.videos
    record = await asyncio.to_thread(jobs.store.get, args.job_id, call.identity)
    if record is None:  # another key's job does not exist for this one
        raise NotFound(f"No video job {args.job_id!r}.")
    spec = call.gateway.catalog.find(record.model)
    if spec is not None:
        check_model(call.caller, spec)
    if record.status != "completed":
        return results.video_progress(record)
    path = jobs.store.file(record.id, "video")
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except FileNotFoundError:
        if record.account_id is not None:  # kept by the replica that rendered it: polled there
            to_account_owner(record.account_id)
        raise NotFound(f"The video {record.id} is no longer kept by the gateway.") from None
    media = call.gateway.media
    lifetime = link_lifetime(call.gateway.settings.media)

    def deliver() -> Awaitable[str]:
        return media.url_for(data, "video/mp4", suffix=".mp4")

    # Polled again once finished, it answers the link delivered first (while it lasts), no new copy.
    link = await call.video_links.link(call.identity, record.id, media, lifetime, deliver)
    inline = args.include_data or len(data) <= call.gateway.settings.video_inline_max_bytes
    return results.video_done(record, link, data if inline else None)


async def make_music(call: Call, args: MusicArgs) -> CallToolResult:
    spec = _model(
        call.gateway.catalog,
        args.model or DEFAULT_MUSIC_MODEL,
        OutputKind.MUSIC,
        f"does not make music; use {DEFAULT_MUSIC_MODEL}.",
    )
    check_model(call.caller, spec)
    serving = call.gateway.chats.for_model(spec.name)
    if not isinstance(serving, MusicChat):  # the catalog's music models are served by MusicChat
        raise TypeError(f"expected the music serving, got {type(serving).__name__}")
    question = ChatMessage(role="user", content=args.prompt)
    request = ChatCompletionRequest.model_validate(
        {"model": spec.name, "messages": [question], "stream": True}
    )
    steps = 0

    async def step(line: str) -> None:  # composing, rendering: MCP progress, as deep_research's steps
        nonlocal steps
        steps += 1
        await call.progress(steps, line)

    audio, link, video_link = await serving.compose(request, call.identity, step)
    return results.music(audio, link, spec.name, video_link)


def _research_model(name: str | None, call: Call) -> ModelSpec:
    if name is not None:
        return _model(
            call.gateway.catalog,
            name,
            OutputKind.REPORT,
            "is not a deep research model (list_models shows them).",
        )
    researchers = [spec for spec in CATALOG if spec.output is OutputKind.REPORT]
    accounts = call.gateway.backend.accounts()
    # The first one the accounts can serve; without any, the first, whose refusal says why.
    return next((spec for spec in researchers if can_serve(spec, accounts)), researchers[0])


async def deep_research(call: Call, args: ResearchArgs) -> CallToolResult:
    """Streamed inside, so that each step the research reports (the reasoning lines of a streamed
    research) reaches the client as progress: a client that resets its timeout on progress waits
    for the report; one that does not may call again with the same query to collect it."""
    spec = _research_model(args.model, call)
    check_model(call.caller, spec)
    question = ChatMessage(role="user", content=args.query)
    request = ChatCompletionRequest.model_validate(
        {"model": spec.name, "messages": [question], "stream": True}
    )
    chunks = call.gateway.chats.for_model(spec.name).stream(request, call.identity)
    report: list[str] = []
    steps = 0
    async with contextlib.aclosing(chunks):  # type: ignore[type-var]
        async for chunk in chunks:
            for choice in chunk.choices:
                report.append(choice.delta.content or "")
                step = (choice.delta.reasoning_content or "").strip()
                if step:
                    steps += 1
                    await call.progress(steps, step)
    return results.report("".join(report), spec.name)


async def list_models(call: Call, _: object) -> CallToolResult:
    """The catalog and the accounts' Gem models, as ``GET /v1/models`` lists them for the key."""
    accounts = call.gateway.backend.accounts()
    gems = call.gateway.catalog.gem_specs(accounts)
    cards = [
        {
            "id": spec.name,
            "output": spec.output.value,
            "family": spec.family.value,
            "image_input": spec.image_input,
            "available": bool(fitting_accounts(spec, accounts)),
        }
        for spec in (*CATALOG, *gems)
        if allows(call.caller.scopes, spec)
    ]
    return results.model_list(cards)


Handler = Callable[[Call, Any], Awaitable[CallToolResult]]
