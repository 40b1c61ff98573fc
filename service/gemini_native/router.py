"""HTTP routes of the Gemini-native door (``/v1beta`` and ``/gemini_official/v1beta``): HTTP and
translation only; the chat servings answer (``service.chat.servings``). The key arrives as
``x-goog-api-key`` or ``?key=`` and is checked by ``service.auth.ApiKeyGate`` before this runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from service.catalog import CATALOG, Catalog, ModelSpec, OutputKind, offers_gem
from service.chat.checks import check_chat_request
from service.chat.emulation import emulation_for
from service.chat.inputs import fold_messages
from service.chat.protocol import new_completion_id
from service.chat.serving import estimate_tokens
from service.errors import InvalidRequest, ModelNotFound, NotImplementedYet
from service.gemini_native.errors import GoogleErrorRoute
from service.gemini_native.images import check_image_request, image_answer, image_chunks
from service.gemini_native.stream import GoogleArrayStreamResponse, GoogleEventStreamResponse, gemini_chunks
from service.gemini_native.translate import chat_request, from_chat, includes_thoughts
from service.gemini_native.wire import CountTokensRequest, GenerateContentRequest
from service.key_scopes import allows, check_model
from service.reasoning import ReasoningFormat
from service.state import CallerDep, GatewayDep
from service.streaming import cancel_on_disconnect
from service.temporary import HEADER, asked

__all__ = ["NATIVE_PREFIXES", "UPLOAD_PREFIXES", "router", "upload_router"]

NATIVE_PREFIXES = ("/gemini_official/v1beta", "/v1beta")
GENERATION_METHODS = ["generateContent", "streamGenerateContent", "countTokens"]
NATIVE_OUTPUTS = (OutputKind.TEXT, OutputKind.IMAGES)

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


def _served_model(catalog: Catalog, name: str, body: GenerateContentRequest | None = None) -> ModelSpec:
    """The text models answer with text, the imagen models with images (``inlineData`` parts); the
    video, canvas and research models' answers have no Gemini-native shape in this gateway (they are
    served by /v1/chat/completions)."""
    spec = catalog.find(name)
    if spec is None:
        raise ModelNotFound(name)
    if spec.output not in NATIVE_OUTPUTS:
        raise InvalidRequest(
            f"The model {spec.name} is not served on the Gemini-native routes; use /v1/chat/completions.",
            param="model",
        )
    if body is None:
        return spec
    if spec.output is OutputKind.IMAGES:
        check_image_request(spec.name, body)
        return spec
    modalities = body.generationConfig.responseModalities if body.generationConfig else None
    if modalities is not None and set(modalities) != {"TEXT"}:
        raise InvalidRequest(
            f"The model {spec.name} answers with text only: responseModalities must be [TEXT].",
            param="generationConfig.responseModalities",
        )
    return spec


def _temporary(request: Request) -> bool | None:
    """A temporary chat (``service.temporary``) is asked with the ``X-Gateway-Temporary`` header
    only: Google's request has no field for it (``labels`` are Vertex AI's, not this API's)."""
    return asked(field=None, metadata=None, header=request.headers.get(HEADER))


@router.post("/models/{model}:generateContent", response_model=None)
async def generate_content(
    model: str, body: GenerateContentRequest, request: Request, gateway: GatewayDep, caller: CallerDep
) -> Response:
    spec = _served_model(gateway.catalog, model, body)
    _check_thoughts(body, gateway)
    chat = chat_request(spec.name, body, stream=False)
    check_chat_request(chat, gateway.catalog)
    chat.temporary = _temporary(request)
    serving = gateway.chats.for_model(chat.model)
    timeout = gateway.settings.stop_timeout
    if spec.output is OutputKind.IMAGES:
        images = image_answer(serving, chat, caller.identity, new_completion_id())
        made = await cancel_on_disconnect(images, request.receive, cleanup_timeout=timeout)
        return JSONResponse(made.dump())
    answer = await cancel_on_disconnect(
        serving.create(chat, caller.identity), request.receive, cleanup_timeout=timeout
    )
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
    spec = _served_model(gateway.catalog, model, body)
    _check_thoughts(body, gateway)
    chat = chat_request(spec.name, body, stream=True)
    check_chat_request(chat, gateway.catalog)
    chat.temporary = _temporary(request)
    serving = gateway.chats.for_model(chat.model)
    settings = gateway.settings
    await serving.ready(chat, caller.identity)
    if spec.output is OutputKind.IMAGES:
        answers = image_chunks(serving, chat, caller.identity, new_completion_id())
    else:
        chunks = serving.stream(chat, caller.identity)
        answers = gemini_chunks(
            chunks, include_thoughts=includes_thoughts(body), think_tags=_think_tags(gateway)
        )
    return framing(answers, keep_alive=settings.keep_alive_interval, cleanup_timeout=settings.stop_timeout)


@router.post("/models/{model}:countTokens", response_model=None)
async def count_tokens(
    model: str, body: CountTokensRequest, gateway: GatewayDep, caller: CallerDep
) -> JSONResponse:
    """An estimate, named as one: the prompt the page would be sent (history folded, tools and
    schema instructions included), at about four characters a token, as ``usageMetadata`` counts."""
    if (body.contents is None) == (body.generateContentRequest is None):
        raise InvalidRequest("Send contents or generateContentRequest (one of them).", param="contents")
    inner = body.generateContentRequest or GenerateContentRequest(contents=body.contents or [])
    spec = _served_model(gateway.catalog, model, inner)
    check_model(caller, spec)
    chat = chat_request(spec.name, inner, stream=False)
    prompt = fold_messages(emulation_for(chat).prompt_messages(chat.messages))
    return JSONResponse({"totalTokens": estimate_tokens(prompt)})


def _card(spec: ModelSpec) -> dict[str, object]:
    kind = "images (inlineData parts)" if spec.output is OutputKind.IMAGES else "text"
    what = "a Gem of the accounts" if spec.gem_model else f"{spec.family.value} family"
    return {
        "name": f"models/{spec.name}",
        "baseModelId": spec.name,
        "version": "web",
        "displayName": spec.name,
        "description": f"Gemini web app, {what}, answering with {kind}, served through this gateway.",
        "supportedGenerationMethods": GENERATION_METHODS,
    }


@router.get("/models", response_model=None)
async def list_models(gateway: GatewayDep, caller: CallerDep) -> JSONResponse:
    # The accounts' Gem models follow the catalog, as GET /v1/models lists them (service.models).
    gems = gateway.catalog.gem_specs(gateway.backend.accounts())
    cards = [
        _card(spec)
        for spec in (*CATALOG, *gems)
        if spec.output in NATIVE_OUTPUTS and allows(caller.scopes, spec)
    ]
    return JSONResponse({"models": cards})


@router.get("/models/{model}", response_model=None)
async def get_model(model: str, gateway: GatewayDep, caller: CallerDep) -> JSONResponse:
    spec = _served_model(gateway.catalog, model)
    accounts = gateway.backend.accounts()
    if spec.gem_model and not any(offers_gem(spec, account) for account in accounts):
        raise ModelNotFound(model)  # a Gem name no account has
    check_model(caller, spec)
    return JSONResponse(_card(spec))


# What Google's API offers beyond generateContent and this gateway does not: a clear 501 in Google's
# envelope (``UNIMPLEMENTED``; clients do not retry it), never a bare 404 in another API's shape.
_NO_FILES = (
    "The Files API is not served by this gateway: send images inline (inlineData) or as fileData "
    "with an http(s) URL the gateway can fetch."
)
_NO_CACHE = "Context caching (cachedContents) is not served by this gateway: send the whole contents."
# Google's routes of each (method, path): list, create, get, update, delete.
_UNSERVED = [
    (_NO_FILES, "/files", ["GET", "POST"]),
    (_NO_FILES, "/files/{name}", ["GET", "DELETE"]),
    (_NO_CACHE, "/cachedContents", ["GET", "POST"]),
    (_NO_CACHE, "/cachedContents/{name}", ["GET", "PATCH", "DELETE"]),
]


def _unserved(message: str) -> Callable[[], Awaitable[Response]]:
    async def refuse() -> Response:
        raise NotImplementedYet(message)

    return refuse


for _message, _path, _methods in _UNSERVED:
    router.add_api_route(_path, _unserved(_message), methods=_methods, include_in_schema=False)

# google-genai uploads to <base>/upload/v1beta/files (resumable protocol): the same refusal there.
UPLOAD_PREFIXES = ("/gemini_official/upload/v1beta", "/upload/v1beta")
upload_router = APIRouter(route_class=GoogleErrorRoute)
upload_router.add_api_route("/files", _unserved(_NO_FILES), methods=["POST"], include_in_schema=False)
