"""The MCP server at ``/mcp``: the official SDK's low-level ``Server`` with the gateway's tools,
served over streamable HTTP by the SDK's session manager, stateless.

Stateless because the API key is the credential, checked on every HTTP request by the key gate
(``service.auth.ApiKeyGate``, 401 before anything of MCP runs) with its rate and concurrency limits:
no MCP session is kept that a request could reach with another key, any worker can answer any
call, and what continues across calls is the tools' own ids (a conversation, a video job).

Each tool call finds the running gateway and its caller in the HTTP request that carried it (the
request state the lifespan and the key gate filled) and runs with that caller as
``CURRENT_CALLER``, so the key's scopes and metering apply below as on ``/v1``. On a cluster it
also runs with a forwarding route (``service.cluster.forward.routed``): a call whose work lives on
another replica is carried out there (``service.mcp.forwarding``), unless it came from one.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from mcp.server import Server, ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    Tool,
    ToolAnnotations,
)
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from service.auth import CURRENT_CALLER, Caller
from service.cluster.forward import FORWARDING_KEY, ForwardedResponse, Forwarding, routed
from service.cluster.signing import FORWARDED_KEY
from service.errors import Redirected, ServiceError
from service.key_scopes import KIND_SCOPES
from service.mcp import forwarding as forwarding_mcp
from service.mcp import results, tools
from service.mcp.arguments import (
    ChatArgs,
    EditImageArgs,
    GenerateImageArgs,
    ListModelsArgs,
    MakeVideoArgs,
    MusicArgs,
    ResearchArgs,
    ToolArgs,
    VideoStatusArgs,
    describe_invalid,
)
from service.mcp.video_links import VideoLinks
from service.request_ids import CURRENT_REQUEST_ID, request_id_of
from service.state import get_caller, get_gateway

log = logging.getLogger(__name__)

__all__ = ["MCP_PATH", "TOOLS", "McpEndpoint", "McpTool"]

MCP_PATH = "/mcp"
SERVER_NAME = "gemini-gateway"

INSTRUCTIONS = (
    "Gemini through this gateway: chat (keep the conversation_id it returns to continue), "
    "generate or edit images, make videos (make_video starts a job, video_status follows it), "
    "make music, and deep research. list_models shows the models this key may use."
)


@dataclass(frozen=True)
class McpTool:
    """One tool: its name, what a model reads about it, its arguments and the kind of work it is
    (a key scope, ``service.key_scopes``; None: any key may list it)."""

    name: str
    description: str
    arguments: type[ToolArgs]
    run: tools.Handler
    kind: str | None
    read_only: bool = False

    def tool(self) -> Tool:
        return Tool(
            name=self.name,
            description=self.description,
            input_schema=self.arguments.schema_for_tool(),
            annotations=ToolAnnotations(read_only_hint=self.read_only, open_world_hint=True),
        )


TOOLS: tuple[McpTool, ...] = (
    McpTool(
        "chat",
        "Send a message to a Gemini chat model and get its answer. Returns the answer and a "
        "conversation_id; pass that conversation_id on the next call to continue the same "
        "conversation (the model remembers it), or omit it to start a new one.",
        ChatArgs,
        tools.chat,
        "chat",
    ),
    McpTool(
        "generate_image",
        "Generate images from a text prompt with Gemini. Returns the images (PNG).",
        GenerateImageArgs,
        tools.generate_image,
        "images",
    ),
    McpTool(
        "edit_image",
        "Edit an image with Gemini from a prompt (e.g. 'make the sky purple'). The image is base64 "
        "data or an https URL. Returns the edited image (PNG).",
        EditImageArgs,
        tools.edit_image,
        "images",
    ),
    McpTool(
        "make_video",
        "Start making an 8-second video from a prompt (Veo, through Gemini). Returns a job_id at "
        "once; rendering takes minutes: poll video_status with that job_id.",
        MakeVideoArgs,
        tools.make_video,
        "video",
    ),
    McpTool(
        "video_status",
        "The status and progress of a video job started by make_video; once completed, a link to "
        "the MP4 (and the video itself as base64 when small or include_data is true).",
        VideoStatusArgs,
        tools.video_status,
        "video",
        read_only=True,
    ),
    McpTool(
        "make_music",
        "Make a music track of about 30 seconds from a prompt (Lyria, through Gemini; takes about a "
        "minute). Returns the MP3 as audio content and a download link.",
        MusicArgs,
        tools.make_music,
        "music",
    ),
    McpTool(
        "deep_research",
        "Research a question on the web with Gemini Deep Research and return the report with its "
        "sources. Takes minutes. If the call times out, call it again with the same query: the "
        "running research is collected, not started again.",
        ResearchArgs,
        tools.deep_research,
        "research",
    ),
    McpTool(
        "list_models",
        "List the models this API key may use: id, output (text, images, video, report, ...) and "
        "whether an account can serve it now.",
        ListModelsArgs,
        tools.list_models,
        None,
        read_only=True,
    ),
)
_BY_NAME = {spec.name: spec for spec in TOOLS}


def _listed(spec: McpTool, caller: Caller) -> bool:
    """Whether the caller's key may do the tool's kind of work (a key naming kinds of work sees
    only those tools; families are checked on the model, at the call)."""
    kinds = caller.scopes.intersection(KIND_SCOPES) if caller.scopes else frozenset()
    return spec.kind is None or not kinds or spec.kind in kinds


def _request(ctx: ServerRequestContext[Any, Any]) -> Request:
    request = ctx.request
    if not isinstance(request, Request):  # only served over HTTP, through the key gate
        raise RuntimeError("an MCP call without its HTTP request")
    return request


async def list_tools(
    ctx: ServerRequestContext[Any, Any], _: PaginatedRequestParams | None
) -> ListToolsResult:
    caller = get_caller(_request(ctx))
    return ListToolsResult(tools=[spec.tool() for spec in TOOLS if _listed(spec, caller)])


async def call_tool(
    ctx: ServerRequestContext[Any, Any], params: CallToolRequestParams, video_links: VideoLinks
) -> CallToolResult:
    spec = _BY_NAME.get(params.name)
    if spec is None:
        raise MCPError(code=INVALID_PARAMS, message=f"Unknown tool: {params.name}")
    request = _request(ctx)

    async def progress(done: float, message: str) -> None:
        await ctx.session.report_progress(done, None, message)  # a no-op unless the client asked

    call = tools.Call(
        gateway=get_gateway(request), caller=get_caller(request), video_links=video_links, progress=progress
    )
    try:
        arguments = spec.arguments.model_validate(params.arguments or {})
    except ValidationError as exc:
        return results.invalid(describe_invalid(exc))
    token = CURRENT_CALLER.set(call.caller)  # what the scoped backend reads, below the services
    # The tool runs in the MCP session's task: the request's id (its log lines, a forwarded call's
    # header) is set again here from the request that carried the call.
    id_token = CURRENT_REQUEST_ID.set(request_id_of(request.scope))
    try:
        forwarding = _forwarding(request)
        if forwarding is None or ctx.request_id is None:
            return await _run(spec, call, arguments)
        body = forwarding_mcp.tool_call_body(
            ctx.request_id, params.model_dump(by_alias=True, exclude_none=True, mode="json")
        )
        with routed(forwarding, body):
            try:
                return await _run(spec, call, arguments)
            except Redirected as exc:
                if not isinstance(exc.response, ForwardedResponse):  # only the forwarding hooks raise it
                    raise
                target = exc.response.target
        log.info("MCP tool %s forwarded to replica %s", spec.name, target.replica)
        answer = await forwarding_mcp.call_on(forwarding, target, request.scope, body, progress)
        # Unreachable: served here as without replicas (the hooks find no open route now).
        return answer if answer is not None else await _run(spec, call, arguments)
    finally:
        CURRENT_REQUEST_ID.reset(id_token)
        CURRENT_CALLER.reset(token)


async def _run(spec: McpTool, call: tools.Call, arguments: ToolArgs) -> CallToolResult:
    """The tool here; ``Redirected`` (another replica serves it) goes up to be sent on."""
    try:
        return await spec.run(call, arguments)
    except ServiceError as exc:
        log.info("MCP tool %s refused or failed: %s", spec.name, exc.code or type(exc).__name__)
        return results.failure(exc)
    except Redirected:
        raise
    except Exception:
        log.exception("MCP tool %s broke", spec.name)
        return results.unexpected()


def _forwarding(request: Request) -> Forwarding | None:
    """This replica's way to the others, for a call that may go there: clustered with forwarding
    on, and not itself forwarded by a replica (one hop: that one is served here)."""
    state = request.scope.get("state") or {}
    forwarding = state.get(FORWARDING_KEY)
    if not isinstance(forwarding, Forwarding) or state.get(FORWARDED_KEY) is not None:
        return None
    return forwarding


def build_server(video_links: VideoLinks) -> Server[Any]:
    """The server of one app: its tool calls share that app's ``VideoLinks``."""

    async def on_call_tool(
        ctx: ServerRequestContext[Any, Any], params: CallToolRequestParams
    ) -> CallToolResult:
        return await call_tool(ctx, params, video_links)

    return Server(
        SERVER_NAME,
        instructions=INSTRUCTIONS,
        get_tool_input_schema=_schema,
        on_list_tools=list_tools,
        on_call_tool=on_call_tool,
    )


def _schema(name: str) -> dict[str, Any] | None:
    spec = _BY_NAME.get(name)
    return spec.arguments.schema_for_tool() if spec is not None else None


class McpEndpoint:
    """The ASGI app at ``/mcp``. ``running()`` (entered by the app's lifespan) starts the SDK's
    session manager, a fresh one each time: the SDK's cannot be started twice."""

    def __init__(self, *, max_body_bytes: int) -> None:
        self.video_links = VideoLinks()  # the finished videos' delivered links (service.mcp.video_links)
        self.server = build_server(self.video_links)
        self.max_body_bytes = max_body_bytes
        self._manager: StreamableHTTPSessionManager | None = None
        # POST only: stateless, it opens no stream to GET and keeps no session to DELETE (405).
        self.route = Route(MCP_PATH, self, methods=["POST"], include_in_schema=False)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        manager = StreamableHTTPSessionManager(
            app=self.server,
            stateless=True,
            # The key gate authenticates every request with a header (never a cookie): a page
            # rebinding DNS gains nothing, and the gateway answers under any host name it is given.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            max_request_body_size=self.max_body_bytes,
        )
        async with manager.run():
            self._manager = manager
            try:
                yield
            finally:
                self._manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Named in the scope as FastAPI's routes name themselves: the request metrics count /mcp
        # by its template (service.metrics), not as an unmatched path.
        scope["route"] = self.route
        manager = self._manager
        if manager is None:  # the lifespan has not started, or has ended
            body = {"error": {"message": "The MCP server is not running.", "type": "server_error"}}
            await JSONResponse(body, status_code=503)(scope, receive, send)
            return
        await manager.handle_request(scope, receive, send)
