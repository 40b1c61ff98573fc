"""OpenAI's sampling fields, checked against OpenAI's own ranges and then ignored: Gemini's web app
has no sampling knobs, but an out-of-range value is the client's mistake, and OpenAI answers it
with a 400 naming the field (pydantic's range errors become exactly that in ``service.errors``).

Token probabilities are refused outright: the page reports none, so a client asking for them would
otherwise get ``null`` where it expects numbers.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from service.errors import InvalidRequest
from service.wire import RequestModel

__all__ = [
    "NO_LOGPROBS",
    "Penalty",
    "SamplingFields",
    "Temperature",
    "TopLogprobs",
    "TopP",
    "refuse_logprobs",
]

Temperature = Annotated[float | None, Field(ge=0, le=2)]
TopP = Annotated[float | None, Field(ge=0, le=1)]
Penalty = Annotated[float | None, Field(ge=-2, le=2)]
TopLogprobs = Annotated[int | None, Field(ge=0, le=20)]
# Token ids (as strings) to a bias between -100 (never) and 100 (always).
LogitBias = dict[str, Annotated[float, Field(ge=-100, le=100)]] | None

NO_LOGPROBS = "Gemini's web app reports no token probabilities, so this gateway cannot return logprobs."


class SamplingFields(RequestModel):
    """The sampling fields chat and the legacy completions share; accepted within OpenAI's ranges
    and ignored (docs/guides/chat.md lists them)."""

    temperature: Temperature = None
    top_p: TopP = None
    presence_penalty: Penalty = None
    frequency_penalty: Penalty = None
    logit_bias: LogitBias = None
    seed: int | None = None
    user: str | None = None


def refuse_logprobs(asked: bool, *, param: str) -> None:
    """A 400 naming ``param`` when the request asks for token probabilities."""
    if asked:
        raise InvalidRequest(NO_LOGPROBS, param=param, code="logprobs_not_supported")
