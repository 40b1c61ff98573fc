"""The shared base of every wire model: tolerant on input (unknown fields are kept, logged once per
request and ignored), exact on output."""

from __future__ import annotations

import logging
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

log = logging.getLogger(__name__)

__all__ = ["RequestModel", "ResponseModel", "ToolName"]

# A function tool's name, as every door takes it (OpenAI's rule; Anthropic's and Google's are within
# it): checked where the request is read, so a bad name is a 400 naming the field, never a 500 when
# a door converts its tools into the chat pipeline's.
ToolName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class RequestModel(BaseModel):
    """Input model: accepts fields it does not know and logs their names (never their values)."""

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="after")
    def _log_ignored(self) -> RequestModel:
        if self.model_extra:
            log.info("%s: ignoring fields %s", type(self).__name__, sorted(self.model_extra))
        return self

    def ignored_fields(self) -> list[str]:
        return sorted(self.model_extra or {})


class ResponseModel(BaseModel):
    """Output model: exactly the declared fields; ``None`` fields are left out of the JSON except
    those in ``keep_null`` (OpenAI sends e.g. ``"finish_reason": null`` on every chunk)."""

    model_config = ConfigDict(extra="forbid")
    keep_null: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _drop_nulls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if value is not None or key in self.keep_null}

    def dump(self) -> dict[str, Any]:
        return self.model_dump()
