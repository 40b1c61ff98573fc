"""Wire models of the Images API, in OpenAI's shapes (openai-python ``types/images_response.py``,
``image_gen_completed_event.py``, ``image_edit_completed_event.py``), plus this gateway's two switches.

Every field of OpenAI's image requests a copied snippet sends is accepted with OpenAI's values:
``size`` and ``output_format`` (with ``output_compression`` for jpeg/webp) apply to the page's image;
``quality``, ``style``, ``moderation``, ``complexity``, ``background`` ``auto``/``opaque``,
``partial_images`` (no partial images are sent, only each finished one) and ``safety_identifier``
are checked and ignored, as docs/guides/images.md lists; ``background: transparent`` is refused
(``service.images.serving``): Gemini's images are opaque. Unknown fields are refused, never
silently ignored.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.wire import ResponseModel

__all__ = [
    "DEFAULT_IMAGE_MODEL",
    "EditImageRef",
    "ImageData",
    "ImageEditRequest",
    "ImageGenerationRequest",
    "ImageStreamEvent",
    "ImageUsage",
    "ImagesResponse",
    "InputTokensDetails",
]

DEFAULT_IMAGE_MODEL = "gemini-2.5-flash-imagen"
MAX_N = 4

OutputFormat = Literal["png", "jpeg", "webp"]


class ImageGenerationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str
    model: str = DEFAULT_IMAGE_MODEL
    n: int = Field(1, ge=1, le=MAX_N)
    size: str | None = "auto"
    response_format: Literal["b64_json", "url"] | None = "b64_json"
    output_format: OutputFormat | None = "png"
    output_compression: int | None = Field(None, ge=0, le=100)
    user: str | None = None
    stream: bool = False
    # Checked against OpenAI's values, then ignored: the page takes none of them.
    quality: Literal["auto", "low", "medium", "high", "xhigh", "max", "standard", "hd"] | None = None
    style: Literal["vivid", "natural"] | None = None
    moderation: Literal["low", "auto"] | None = None
    complexity: Literal["low", "medium", "high"] | None = None
    safety_identifier: str | None = None
    background: Literal["auto", "opaque", "transparent"] | None = None
    # No partial images are streamed, only each finished image. An int, not a literal: a form field
    # is text ("0"), which a literal refuses and an int reads.
    partial_images: int | None = Field(None, ge=0, le=3)
    return_origin_image: bool = False
    remove_watermark: bool = False


class EditImageRef(BaseModel):
    """One input image of the JSON form of an edit: a ``data:`` URL or an http(s) URL."""

    model_config = ConfigDict(extra="forbid")

    image_url: str


class ImageEditRequest(ImageGenerationRequest):
    """The edit's fields; the images come as multipart files or, in JSON, as ``images``."""

    images: list[EditImageRef] | None = None
    input_fidelity: Literal["low", "high"] | None = None


class ImageData(ResponseModel):
    b64_json: str | None = None
    url: str | None = None
    revised_prompt: str | None = None


class InputTokensDetails(ResponseModel):
    image_tokens: int
    text_tokens: int


class ImageUsage(ResponseModel):
    """Estimates: the page reports no token counts."""

    input_tokens: int
    input_tokens_details: InputTokensDetails
    output_tokens: int
    total_tokens: int


class ImagesResponse(ResponseModel):
    created: int
    data: list[ImageData]
    output_format: OutputFormat
    size: str
    usage: ImageUsage


class ImageStreamEvent(ResponseModel):
    """``image_generation.completed`` / ``image_edit.completed``: one event per image."""

    type: Literal["image_generation.completed", "image_edit.completed"]
    b64_json: str | None = None
    url: str | None = None
    revised_prompt: str | None = None
    created_at: int
    output_format: OutputFormat
    size: str
    quality: Literal["auto"] = "auto"
    background: Literal["opaque"] = "opaque"
    usage: ImageUsage
