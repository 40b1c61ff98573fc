"""Checks of a chat request made before anything else (any model, any route that reaches chat): what
no page can answer is refused at once, naming the field, and no page is driven for it."""

from __future__ import annotations

from collections.abc import Sequence

from service.catalog import CATALOG, Catalog, OutputKind
from service.chat.protocol import ChatCompletionRequest, ChatMessage, TextPart
from service.chat.sampling import refuse_logprobs
from service.errors import InvalidRequest

__all__ = ["check_chat_request", "is_blank", "refuse_audio_output", "refuse_blank_user_messages"]


def check_chat_request(request: ChatCompletionRequest, catalog: Catalog) -> None:
    refuse_logprobs(bool(request.logprobs), param="logprobs")
    refuse_logprobs(bool(request.top_logprobs), param="top_logprobs")
    refuse_blank_user_messages(request.messages)
    refuse_audio_output(request, catalog)


def refuse_audio_output(request: ChatCompletionRequest, catalog: Catalog) -> None:
    """Audio answers come from the music model only (service.chat.music checks its own fields):
    any other model asked for audio is a 400, not a text answer that drops the request."""
    model = catalog.find(request.model)
    if model is None or model.output is OutputKind.MUSIC:
        return
    extra = request.model_extra or {}
    modalities = extra.get("modalities")
    if extra.get("audio") is not None or (isinstance(modalities, list) and "audio" in modalities):
        music = ", ".join(spec.name for spec in CATALOG if spec.output is OutputKind.MUSIC)
        raise InvalidRequest(
            f"{model.name} answers text; audio output comes from {music} (a Create-music track).",
            param="audio" if extra.get("audio") is not None else "modalities",
        )


def is_blank(message: ChatMessage) -> bool:
    """No text but whitespace, and no image, file or audio part (such a part alone is content)."""
    if isinstance(message.content, list):
        return all(isinstance(part, TextPart) and not part.text.strip() for part in message.content)
    return not (message.content or "").strip()


def refuse_blank_user_messages(messages: Sequence[ChatMessage], *, field: str = "messages") -> None:
    """A 400 naming the first user message without content: the page cannot send an empty prompt,
    and folded into a history it would still be a turn saying nothing."""
    for index, message in enumerate(messages):
        if message.role == "user" and is_blank(message):
            raise InvalidRequest(
                f"{field}[{index}] is a user message without content (empty or only whitespace); "
                "send text, an image or a file.",
                param=f"{field}[{index}].content",
            )
