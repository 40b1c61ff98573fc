"""The tools' arguments: one pydantic model each, the one place both their JSON schema (what
``tools/list`` shows a model) and their validation come from. Unknown arguments are refused
(``additionalProperties: false``): a tool never accepts a parameter and ignores it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from service.images.protocol import MAX_N

__all__ = [
    "VIDEO_SIZES",
    "ChatArgs",
    "EditImageArgs",
    "GenerateImageArgs",
    "ListModelsArgs",
    "MakeVideoArgs",
    "MusicArgs",
    "ResearchArgs",
    "ToolArgs",
    "VideoStatusArgs",
    "describe_invalid",
]

# What Veo makes, told to the page as the aspect ratio (the same sizes as POST /v1/videos).
VIDEO_SIZES: dict[str, str] = {
    "1280x720": "16:9",
    "1792x1024": "16:9",
    "720x1280": "9:16",
    "1024x1792": "9:16",
}

Text = Annotated[str, StringConstraints(min_length=1)]
ModelName = Annotated[str, StringConstraints(min_length=1)]


class ToolArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def schema_for_tool(cls) -> dict[str, Any]:
        schema = cls.model_json_schema()
        schema.pop("title", None)
        for field in schema.get("properties", {}).values():
            field.pop("title", None)
        return schema


class ChatArgs(ToolArgs):
    model: Annotated[str, StringConstraints(min_length=1)] = Field(
        description=(
            "The chat model, e.g. gemini-2.5-flash, gemini-2.5-pro or a Gem model gem-<name> "
            "(list_models shows them)."
        )
    )
    message: Text = Field(description="What to say to the model (the user's message of this turn).")
    conversation_id: str | None = Field(
        None,
        description=(
            "The conversation_id a previous chat call returned, to continue that conversation. "
            "Omit it to start a new one."
        ),
    )
    system: str | None = Field(
        None,
        description=(
            "Instructions for this call (a system prompt). Not stored with the conversation: "
            "send it again on each call where it should apply."
        ),
    )
    temporary: bool | None = Field(
        None,
        description=(
            "true: a temporary chat (Gemini's own temporary mode): kept in no conversation and in "
            "no history, so no conversation_id is returned and none may be given. Omit it for the "
            "gateway's default."
        ),
    )


class GenerateImageArgs(ToolArgs):
    prompt: Text = Field(description="What the image should show.")
    model: ModelName | None = Field(None, description="An image model; default gemini-2.5-flash-imagen.")
    n: int = Field(1, ge=1, le=MAX_N, description=f"How many images (1 to {MAX_N}).")


class EditImageArgs(ToolArgs):
    prompt: Text = Field(description="How to change the image.")
    image: Text = Field(
        description=(
            "The image to edit: base64 data (PNG, JPEG, WebP or GIF), a data: URL, or an https URL "
            "the gateway downloads."
        )
    )
    model: ModelName | None = Field(None, description="An image model; default gemini-2.5-flash-imagen.")


class MakeVideoArgs(ToolArgs):
    prompt: Text = Field(description="What the 8-second video should show.")
    model: ModelName | None = Field(None, description="A video model; default gemini-2.5-pro-video.")
    size: Literal["1280x720", "1792x1024", "720x1280", "1024x1792"] = Field(
        "1280x720", description="Landscape (1280x720, 1792x1024) or portrait (720x1280, 1024x1792)."
    )
    image: str | None = Field(
        None,
        description=(
            "An image to start from: base64 data (PNG, JPEG, WebP or GIF), a data: URL, or an https "
            "URL the gateway downloads."
        ),
    )


class MusicArgs(ToolArgs):
    prompt: Text = Field(
        description="The track to make: genre, mood, instruments, and any lyrics or vocals it should have."
    )
    model: ModelName | None = Field(None, description="A music model; default gemini-2.5-flash-music.")


class VideoStatusArgs(ToolArgs):
    job_id: Text = Field(description="The job_id make_video returned.")
    include_data: bool = Field(
        False,
        description=(
            "Also return the finished video as base64 data, whatever its size (by default only "
            "small videos are; every finished video comes with a download link)."
        ),
    )


class ResearchArgs(ToolArgs):
    query: Text = Field(description="The question or topic to research on the web.")
    model: ModelName | None = Field(
        None, description="A deep research model; default: the first one the gateway's accounts offer."
    )


class ListModelsArgs(ToolArgs):
    pass


def describe_invalid(error: ValidationError) -> str:
    """The arguments' problems in words a model can act on; the rejected values are left out."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "arguments"
        if item["type"] == "extra_forbidden":
            problems.append(f"{where}: unknown argument")
        elif item["type"] == "missing":
            problems.append(f"{where}: required")
        else:
            problems.append(f"{where}: {item['msg']}")
    return "Invalid arguments: " + "; ".join(problems) + "."
