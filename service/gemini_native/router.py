"""HTTP routes of the Gemini-native door (``/v1beta`` and ``/gemini_official/v1beta``): HTTP and
translation only; the chat servings answer (``service.chat.servings``). The key arrives as
``x-goog-api-key`` or ``?key=`` and is checked by ``service.auth.ApiKeyGate`` before this runs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from service.catalog import CATALOG, ModelSpec, OutputKind, find_model
from service.chat.checks import check_chat_request
from service.errors import InvalidRequest, ModelNotFound
from service.gemini_native.errors import GoogleErrorRoute
from service.gemini_native.stream import GoogleArrayStreamResponse, GoogleEventStreamResponse, gemini_chunks
from service.gemini_native.translate import chat_request, from_chat, includes_thoughts
from service.gemini_native.wire import GenerateContentRequest
from service.key_scopes import allows, check_model
from service.reasoning import ReasoningFormat
from service.state import CallerDep, GatewayDep
from service.streaming import cancel_on_disconnect

__all__ = ["NATIVE_PREFIXES", "router"]

NATIVE_PREFIXES = ("/gemini_official/v1beta", "/v1beta")
GENERATION_METHODS = ["generateContent", "streamGenerateContent"]

router = APIRouter(route_class=GoogleErrorRoute)


def _think_tags(gateway: GatewayDep) -> bool:
    return gateway.settings.reasoning_format is ReasoningFormat.THINK_TAGS


def _check_thoughts(body: GenerateContentRequest, gateway: GatewayDep) -> None:
    """Thought parts come from the chat answer's ``reasoning_content``, which only the default
    ``reasoning_format`` keeps apart from the text."""
    if includes_thoughts(body) and gateway.settings.reasoning_format is not ReasoningFormat.REASONING_CONTENT:
        raise InvalidRequest(
            "includeThoughts needs the gateway's reasoning_format to be reasoning_content.",
            param="generationConfig.thinkingConfig.includeThoughts",
        )


def _text_model(name: str) -> ModelSpec:
    """Only the text models answer here: the image, video, canvas and research models' answers have
    no Gemini-native shape in this gateway yet (they are served by /v1/chat/completions)."""
    spec = find_model(name)
    if spec is None:
        raise ModelNotFound(name)
    if spec.output is not OutputKind.TEXT:
        raise InvalidRequest(
            f"The model {spec.name} is not served on the Gemini-native routes yet; use /v1/chat/completions.",
            param="model",
        )
    return spec


@router.post("/models/{model}:generateContent", response_model=None)
async def generate_content(
    model: str, body: GenerateContentRequest, request: Request, gateway: GatewayDep, caller: CallerDep
) -> Response:
    spec = _text_model(model)
    _check_thoughts(body, gateway)
    chat = chat_request(spec.name, body, stream=False)
    check_chat_request(chat)
    work = gateway.chats.for_model(chat.model).create(chat, caller.identity)
    answer = await cancel_on_disconnect(work, request.receive, cleanup_timeout=gateway.settings.stop_timeout)
    shaped = from_chat(answer, include_thoughts=includes_thoughts(body), think_tags=_think_tags(gateway))
    return JSONResponse(shaped.dump())


@router.post("/models/{model}:streamGenerateContent", response_model=None)
async def stream_generate_content(
    model: str, body: GenerateContentRequest, request: Request, gateway: GatewayDep, caller: CallerDep
) -> Response:
    alt = request.query_params.get("alt")
    if alt not in (None, "sse", "json"):
        raise InvalidRequest(f"alt={alt!r} is not supported: sse, or json (the default).", param="alt")
    # With alt=sse server-sent events (what the SDK asks for); without, one streamed JSON array.
    framing = GoogleEventStreamResponse if alt == "sse" else GoogleArrayStreamResponse
    spec = _text_model(model)
    _check_thoughts(body, gateway)
    chat = chat_request(spec.name, body, stream=True)
    check_chat_request(chat)
    chunks = gateway.chats.for_model(chat.model).stream(chat, caller.identity)
    settings = gateway.settings
    return framing(
        gemini_chunks(chunks, include_thoughts=includes_thoughts(body), think_tags=_think_tags(gateway)),
        keep_alive=settings.keep_alive_interval,
        cleanup_timeout=settings.stop_timeout,
    )


def _card(spec: ModelSpec) -> dict[str, object]:
    return {
        "name": f"models/{spec.name}",
        "baseModelId": spec.name,
        "version": "web",
        "displayName": spec.name,
        "description": f"Gemini web app, {spec.family.value} family, served through this gateway.",
        "supportedGenerationMethods": GENERATION_METHODS,
    }


@router.get("/models", response_model=None)
async def list_models(caller: CallerDep) -> JSONResponse:
    cards = [
        _card(spec) for spec in CATALOG if spec.output is OutputKind.TEXT and allows(caller.scopes, spec)
    ]
    return JSONResponse({"models": cards})


@router.get("/models/{model}", response_model=None)
async def get_model(model: str, caller: CallerDep) -> JSONResponse:
    spec = _text_model(model)
    check_model(caller, spec)
    return JSONResponse(_card(spec))
