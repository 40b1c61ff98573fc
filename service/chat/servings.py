"""Which serving answers a chat completion: the catalog names each model's output
(``ModelSpec.output``) and each output has one serving, built once in the app's lifespan. The chat
router asks ``ChatServings.for_model`` and does HTTP only.

    text      ChatService (service.chat.serving)
    images    ImagenChat (service.images.chat): the imagen models' answer with its images
    document  ShapedChat (service.chat.longrun): canvas
    story     ShapedChat: storybook
    video     ShapedChat: video, waited for in the answer
    report    ResearchChat (service.chat.longrun): deep research, plan, confirmation and report
    music     MusicChat (service.chat.music): Create music, the track as ``message.audio``
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol, assert_never

from service.catalog import Catalog, OutputKind
from service.chat.protocol import ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse
from service.errors import ModelNotFound

__all__ = ["ChatServing", "ChatServings"]


class ChatServing(Protocol):
    """Serves chat completions of one kind of model; raises ``service.errors`` classes."""

    @property
    def opens_early(self) -> bool:
        """Whether a stream should open before its first chunk (keep-alives while it is prepared)."""
        ...

    async def ready(self, request: ChatCompletionRequest, identity: str) -> None:
        """What must be known before its stream opens, awaited by the doors before a streamed
        answer: raises while an HTTP status can still be sent (an error, or ``Redirected`` to the
        replica the request belongs to: ``service.cluster.forward``)."""
        ...

    async def create(self, request: ChatCompletionRequest, identity: str) -> ChatCompletionResponse: ...
    def stream(self, request: ChatCompletionRequest, identity: str) -> AsyncIterator[ChatCompletionChunk]: ...


@dataclass(frozen=True)
class ChatServings:
    """One serving per output kind of the catalog."""

    chat: ChatServing
    imagen: ChatServing
    canvas: ChatServing
    storybook: ChatServing
    video: ChatServing
    deep_research: ChatServing
    music: ChatServing
    catalog: Catalog = field(default_factory=Catalog)  # the app's (its Gem aliases)

    def for_model(self, name: str) -> ChatServing:
        """The serving of the model ``name`` (``ModelNotFound`` when the catalog has no such model)."""
        model = self.catalog.find(name)
        if model is None:
            raise ModelNotFound(name)
        match model.output:
            case OutputKind.TEXT:
                return self.chat
            case OutputKind.IMAGES:
                return self.imagen
            case OutputKind.DOCUMENT:
                return self.canvas
            case OutputKind.STORY:
                return self.storybook
            case OutputKind.VIDEO:
                return self.video
            case OutputKind.REPORT:
                return self.deep_research
            case OutputKind.MUSIC:
                return self.music
            case _:
                assert_never(model.output)
