"""Wire models of Google's ``generateContent``: the request as the google-genai SDK sends it
(camelCase), and the response and its usage metadata. Only what the translation understands is
declared; any other field is refused by ``service.gemini_native.translate`` (never ignored)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, AliasGenerator, ConfigDict, Field
from pydantic.alias_generators import to_snake

from service.wire import RequestModel, ResponseModel, ToolName

__all__ = [
    "Blob",
    "BlobOut",
    "CallOut",
    "Candidate",
    "Content",
    "CountTokensRequest",
    "FunctionCallOut",
    "FunctionDeclaration",
    "GenerateContentRequest",
    "GenerateContentResponse",
    "GenerationConfig",
    "InlineDataOut",
    "Part",
    "PartOut",
    "ResponseContent",
    "TextOut",
    "ThinkingConfig",
    "UsageMetadata",
]


def _both_spellings(name: str) -> AliasChoices:
    return AliasChoices(name, to_snake(name))


class GoogleRequest(RequestModel):
    """Google's JSON takes each field in camelCase or snake_case (proto3 JSON), and the SDK sends some
    (``thinking_config``'s) in snake_case: both are read."""

    model_config = ConfigDict(extra="allow", alias_generator=AliasGenerator(validation_alias=_both_spellings))


class Blob(GoogleRequest):
    """Field names are Google's own (camelCase), as the SDK sends them."""

    mimeType: str = Field(min_length=1)
    data: str = Field(min_length=1)  # base64


class FileData(GoogleRequest):
    fileUri: str = Field(min_length=1)
    mimeType: str | None = None


class FunctionCall(GoogleRequest):
    name: str = Field(min_length=1)
    args: dict[str, Any] | None = None
    id: str | None = None


class FunctionResponse(GoogleRequest):
    name: str = Field(min_length=1)
    response: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


class Part(GoogleRequest):
    """A text, inline-data, functionCall or functionResponse part; other kinds (fileData...) arrive
    as extra fields (refused)."""

    text: str | None = None
    inlineData: Blob | None = None
    fileData: FileData | None = None  # an image at an http(s) URL (no Files API here)
    functionCall: FunctionCall | None = None
    functionResponse: FunctionResponse | None = None
    # Sent back with a model turn's parts by Google's clients (Gemini CLI, the SDK's chats): a
    # thought part is skipped, a signature accepted and not checked (this gateway issues none).
    thought: bool | None = None
    thoughtSignature: str | None = None


class Content(GoogleRequest):
    role: Literal["user", "model"] | None = None
    parts: list[Part] = Field(min_length=1)


class ThinkingConfig(GoogleRequest):
    """Mapped to the page's thinking level as ``reasoning_effort`` is (``service.reasoning``)."""

    thinkingBudget: Annotated[int | None, Field(ge=-1)] = None
    thinkingLevel: Literal["MINIMAL", "LOW", "MEDIUM", "HIGH"] | None = None
    includeThoughts: bool | None = None


class GenerationConfig(GoogleRequest):
    # Accepted within Google's ranges and ignored, as the OpenAI route does (the page has no knobs).
    temperature: Annotated[float | None, Field(ge=0, le=2)] = None
    topP: Annotated[float | None, Field(ge=0, le=1)] = None
    topK: Annotated[int | None, Field(ge=1)] = None  # Gemini CLI sends 64
    maxOutputTokens: Annotated[int | None, Field(ge=1)] = None
    stopSequences: Annotated[list[str] | None, Field(max_length=5)] = None
    candidateCount: Annotated[int | None, Field(ge=1)] = None  # more than 1 is refused (translate)
    thinkingConfig: ThinkingConfig | None = None
    # Structured output, emulated as ``response_format`` is (``service.chat.structured``).
    responseMimeType: str | None = None
    responseSchema: dict[str, Any] | None = None  # Google's OpenAPI-subset Schema
    responseJsonSchema: dict[str, Any] | None = None  # plain JSON Schema
    # What the answer may hold: TEXT for the text models, IMAGE (and TEXT) for the imagen models.
    responseModalities: list[Literal["TEXT", "IMAGE", "AUDIO"]] | None = None


class FunctionDeclaration(GoogleRequest):
    name: ToolName
    description: str | None = None
    parameters: dict[str, Any] | None = None  # Google's Schema
    parametersJsonSchema: dict[str, Any] | None = None  # JSON Schema


class GoogleTool(GoogleRequest):
    functionDeclarations: list[FunctionDeclaration] | None = None


class FunctionCallingConfig(GoogleRequest):
    mode: Literal["AUTO", "ANY", "NONE"] | None = None
    allowedFunctionNames: list[str] | None = None


class ToolConfig(GoogleRequest):
    functionCallingConfig: FunctionCallingConfig | None = None


class GenerateContentRequest(GoogleRequest):
    contents: list[Content] = Field(min_length=1)
    tools: list[GoogleTool] | None = None  # function declarations, emulated as the OpenAI tools are
    toolConfig: ToolConfig | None = None
    systemInstruction: Content | None = None
    generationConfig: GenerationConfig | None = None


class CountTokensRequest(GoogleRequest):
    """``countTokens``: bare ``contents`` (what the SDK sends), or a whole ``generateContentRequest``."""

    contents: list[Content] | None = Field(default=None, min_length=1)
    generateContentRequest: GenerateContentRequest | None = None


class TextOut(ResponseModel):
    text: str
    thought: bool | None = None  # true on the page's thoughts (asked for with includeThoughts)


class CallOut(ResponseModel):
    name: str
    args: dict[str, Any]
    id: str | None = None


class FunctionCallOut(ResponseModel):
    functionCall: CallOut


class BlobOut(ResponseModel):
    mimeType: str
    data: str  # base64


class InlineDataOut(ResponseModel):
    """An image of the imagen models' answer (``service.gemini_native.images``)."""

    inlineData: BlobOut


PartOut = TextOut | FunctionCallOut | InlineDataOut


class ResponseContent(ResponseModel):
    role: Literal["model"] = "model"
    parts: list[PartOut]


FinishReason = Literal["STOP", "MAX_TOKENS"]


class Candidate(ResponseModel):
    content: ResponseContent
    finishReason: FinishReason | None = None  # (absent on all but a stream's last chunk)
    index: int = 0


class UsageMetadata(ResponseModel):
    """Estimates, as for the OpenAI routes: the page reports no token counts."""

    promptTokenCount: int
    candidatesTokenCount: int  # the answer without its thoughts, as Google counts
    totalTokenCount: int
    # When the answer had thoughts the door saw (``reasoning_format`` reasoning_content or
    # think_tags); absent otherwise, as Google leaves it out for an answer without thinking.
    thoughtsTokenCount: int | None = None


class GenerateContentResponse(ResponseModel):
    candidates: list[Candidate]
    usageMetadata: UsageMetadata | None = None
    modelVersion: str
    responseId: str
