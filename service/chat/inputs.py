"""From an OpenAI message list to what is typed into the page.

Folding: a history that cannot continue an existing Gemini chat is folded into ONE prompt. A lone
user message is sent as its text. Anything longer becomes role-tagged blocks, in order::

    [System]
    <system and developer messages>

    [User]
    <text>

    [Assistant]
    <text>

    [User]
    <the message to answer>

preceded by one line telling the model to answer the last user message. Image parts are
replaced in the text by ``[image N]`` and uploaded as files in the same order.

A prompt over ``max_prompt_bytes`` (UTF-8, measured on the folded prompt: exactly what would be
typed) is uploaded as ``message.txt`` and the typed prompt becomes a short instruction to answer it.
``PreparedPrompt.text`` keeps the full folded prompt either way: it is what Gemini reads, and what
usage estimates count.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from browser import Attachment
from service.chat.admission import ByteBudget
from service.chat.files import attached_files, file_label
from service.chat.images import load_image
from service.chat.protocol import AudioPart, ChatMessage, FilePart, ImagePart, TextPart
from service.errors import InvalidRequest, PayloadTooLarge
from service.fetch import FetchPolicy

__all__ = [
    "ATTACHED_PROMPT_NAME",
    "FOLD_PREAMBLE",
    "OVERSIZED_INSTRUCTION",
    "PreparedPrompt",
    "fold_messages",
    "message_text",
    "prepare_prompt",
]

ATTACHED_PROMPT_NAME = "message.txt"
FOLD_PREAMBLE = (
    "Below is a conversation, one block per message, each headed by its role in brackets. "
    "Answer the last [User] message as the assistant; do not repeat the role tags."
)
OVERSIZED_INSTRUCTION = (
    f"My message is in the attached file {ATTACHED_PROMPT_NAME}. Read all of it and answer it "
    "as if I had typed it here."
)
_ROLE_TAGS = {"system": "System", "developer": "System", "user": "User", "assistant": "Assistant"}


@dataclass(frozen=True)
class PreparedPrompt:
    prompt: str  # what is typed into the page
    files: tuple[Attachment, ...]
    text: str  # the whole folded prompt, typed or attached as message.txt


def message_text(message: ChatMessage, first_image: int = 1) -> str:
    """The message as text, with each image part replaced by an ``[image N]`` marker."""
    if not isinstance(message.content, list):
        return message.content or ""
    pieces: list[str] = []
    number = first_image
    for part in message.content:
        if isinstance(part, TextPart):
            pieces.append(part.text)
        elif isinstance(part, ImagePart):
            pieces.append(f"[image {number}]")
            number += 1
        elif isinstance(part, FilePart | AudioPart):
            pieces.append(f"[file {file_label(part)}]")  # uploaded after the images (service.chat.files)
    return "\n\n".join(pieces)


def fold_messages(messages: Sequence[ChatMessage]) -> str:
    """One prompt holding the whole history (see the module docstring for the format)."""
    if len(messages) == 1 and messages[0].role == "user":
        return message_text(messages[0])
    blocks: list[str] = [FOLD_PREAMBLE]
    images = 1
    for message in messages:
        blocks.append(f"[{_ROLE_TAGS[message.role]}]\n{message_text(message, images)}")
        images += len(message.image_urls())
    return "\n\n".join(blocks)


async def prepare_prompt(
    messages: Sequence[ChatMessage],
    *,
    policy: FetchPolicy,
    max_images: int,
    max_prompt_bytes: int,
    budget: ByteBudget | None = None,
) -> PreparedPrompt:
    """Fold ``messages``, load their images, and move an oversized prompt into ``message.txt``.
    With a ``budget`` (service.chat.admission), each image may use only what is left of it."""
    urls = [url for message in messages for url in message.image_urls()]
    if len(urls) > max_images:
        raise InvalidRequest(f"At most {max_images} images per request.", param="messages")
    files: list[Attachment] = []
    for url in urls:
        if budget is None:
            files.append(await load_image(url, policy=policy))
            continue
        if budget.remaining == 0:
            raise budget.exceeded()
        capped = dataclasses.replace(policy, max_bytes=min(policy.max_bytes, budget.remaining))
        try:
            image = await load_image(url, policy=capped)
        except PayloadTooLarge:
            if capped.max_bytes < policy.max_bytes:  # over the request's budget, not the image limit
                raise budget.exceeded() from None
            raise
        budget.charge(len(image.data))
        files.append(image)
    files.extend(attached_files(messages, max_bytes=policy.max_bytes))
    folded = fold_messages(messages)
    prompt = folded
    if len(folded.encode()) > max_prompt_bytes:
        files.append(Attachment(ATTACHED_PROMPT_NAME, "text/plain", folded.encode()))
        prompt = OVERSIZED_INSTRUCTION
    return PreparedPrompt(prompt=prompt, files=tuple(files), text=folded)
