"""LlamaIndex and instructor against the gateway, one scenario per run (run by this directory's own
venv, see tests/support/clients.py): ``python clients.py <scenario> <base URL> <API key> <marker>``.
Prints one JSON object with what the scenario saw."""

from __future__ import annotations

import json
import sys
from typing import Any


def llamaindex_complete(base_url: str, key: str, word: str) -> dict[str, Any]:
    """LlamaIndex's ``OpenAILike`` with its defaults: not a chat model, so the legacy completions."""
    from llama_index.llms.openai_like import OpenAILike

    llm = OpenAILike(model="gemini-2.5-flash", api_base=f"{base_url}/v1", api_key=key, max_retries=0)
    whole = llm.complete(f"{word} once upon a time")
    streamed = ""
    for part in llm.stream_complete(f"{word} streamed"):
        streamed = part.text
    return {"is_chat_model": llm.metadata.is_chat_model, "whole": whole.text, "streamed": streamed}


def instructor_responses_tools(base_url: str, key: str, word: str) -> dict[str, Any]:
    """instructor's RESPONSES_TOOLS mode: a forced function tool and text.format of its schema."""
    import instructor
    import openai
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        population: int

    client = instructor.from_openai(
        openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0),
        mode=instructor.Mode.RESPONSES_TOOLS,
    )
    city = client.responses.create(
        model="gemini-2.5-flash", input=f"{word} describe Paris", response_model=City, max_retries=0
    )
    return {"city": city.model_dump()}


SCENARIOS = {
    "llamaindex-complete": llamaindex_complete,
    "instructor-responses-tools": instructor_responses_tools,
}

if __name__ == "__main__":
    scenario, base_url, key, word = sys.argv[1:5]
    try:
        print(json.dumps(SCENARIOS[scenario](base_url, key, word)))
    except Exception as exc:  # the test reads the failure from the JSON
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        sys.exit(1)
