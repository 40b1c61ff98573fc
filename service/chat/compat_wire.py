"""Wire models of the OpenAI features emulated on top of chat (tools, structured output, limits):
request shapes tolerant like every request model, response pieces exact."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import Field

from service.wire import RequestModel, ResponseModel, ToolName

__all__ = [
    "FunctionCall",
    "FunctionCallDelta",
    "FunctionSpec",
    "JsonSchemaFormat",
    "NamedFunction",
    "NamedToolChoice",
    "ResponseFormat",
    "ToolCall",
    "ToolCallDelta",
    "ToolSpec",
    "new_call_id",
]


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


class FunctionSpec(RequestModel):
    name: ToolName
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolSpec(RequestModel):
    type: Literal["function"]
    function: FunctionSpec


class NamedFunction(RequestModel):
    name: str = Field(min_length=1)


class NamedToolChoice(RequestModel):
    type: Literal["function"] = "function"
    function: NamedFunction


class FunctionCall(RequestModel):
    """A call as it travels both ways: arguments are a JSON string."""

    name: str
    arguments: str = ""

    def dump(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments}


class ToolCall(RequestModel):
    id: str = Field(default_factory=new_call_id)
    type: Literal["function"] = "function"
    function: FunctionCall

    def dump(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "function": self.function.dump()}


class FunctionCallDelta(ResponseModel):
    name: str | None = None
    arguments: str | None = None


class ToolCallDelta(ResponseModel):
    index: int
    id: str | None = None
    type: Literal["function"] | None = None
    function: FunctionCallDelta


class JsonSchemaFormat(RequestModel):
    name: str = "response"
    description: str | None = None
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    strict: bool | None = None


class ResponseFormat(RequestModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None
