"""End to end: the official ``google-genai`` SDK against the Gemini-native door (``/v1beta``), the real
app with the real ``BrowserPool`` on Chromium and the simulator as Google. Relies on the simulator's
plain answer (its echo of the prompt) and its request log (a refused request leaves no entry)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pydantic
import pytest
from google import genai
from google.genai import errors, types
from PIL import Image

from simulator.answers import CLOSING, base_text, sha16
from tests.e2e.conftest import KEY_A, Stack, marker, running_stack
from tests.support.clients import NODE_DIR, ToolMissing, install_node

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

FLASH = "gemini-2.5-flash"
IMAGEN = "gemini-2.5-flash-imagen"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("gemini-native"), ("paid",)) as running:
        yield running


@pytest.fixture(scope="module")
def tags_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A gateway whose OpenAI answers carry thoughts as ``<think>`` tags in the text."""
    with running_stack(
        tmp_path_factory.mktemp("gemini-tags"), ("paid",), reasoning_format="think_tags"
    ) as running:
        yield running


def client(stack: Stack, *, key: str = KEY_A, prefix: str = "") -> genai.Client:
    """A client the test keeps in a variable: the SDK closes its HTTP client when the ``Client`` is
    collected, even while a call made through ``client.models`` is still under way."""
    options = types.HttpOptions(base_url=stack.url + prefix, api_version="v1beta", timeout=90_000)
    return genai.Client(api_key=key, http_options=options)


def only(entries: list[dict[str, object]]) -> dict[str, object]:
    assert len(entries) == 1, entries
    return entries[0]


def test_generate_content_answers_with_the_simulators_text(stack: Stack) -> None:
    word = marker()
    gemini = client(stack)
    reply = gemini.models.generate_content(model=FLASH, contents=f"Hello {word}")
    entry = only(stack.requests_with(word))
    assert reply.text == base_text(1, str(entry["cid"]), f"Hello {word}", []) + CLOSING
    candidate = (reply.candidates or [])[0]
    assert candidate.finish_reason == types.FinishReason.STOP
    assert candidate.content is not None and candidate.content.role == "model"
    usage = reply.usage_metadata
    assert usage is not None and usage.prompt_token_count and usage.candidates_token_count
    thoughts = usage.thoughts_token_count or 0  # Google's sum: thoughts apart from the candidates
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count + thoughts
    assert reply.response_id and reply.model_version


def test_system_instruction_and_history_reach_the_page(stack: Stack) -> None:
    word = marker()
    config = types.GenerateContentConfig(system_instruction=f"Be terse {word}", temperature=0.5)
    contents = [
        types.Content(role="user", parts=[types.Part(text="first question")]),
        types.Content(role="model", parts=[types.Part(text="first answer")]),
        types.Content(role="user", parts=[types.Part(text=f"second {word}")]),
    ]
    gemini = client(stack, prefix="/gemini_official")
    reply = gemini.models.generate_content(model=FLASH, contents=contents, config=config)
    prompt = str(only(stack.requests_with(f"second {word}"))["prompt"])
    assert f"Be terse {word}" in prompt and "first answer" in prompt
    assert reply.text


@pytest.mark.parametrize("source", ["inlineData", "fileData"])
def test_image_is_uploaded_byte_for_byte(
    stack: Stack, image_server: Callable[[bytes], str], source: str
) -> None:
    word, buffer = marker(), io.BytesIO()
    Image.new("RGB", (16, 16), (len(word), 80, 160 + len(source))).save(buffer, format="PNG")
    data = buffer.getvalue()
    gemini = client(stack)
    if source == "inlineData":
        image = types.Part.from_bytes(data=data, mime_type="image/png")
    else:
        image = types.Part.from_uri(file_uri=image_server(data), mime_type="image/png")
    reply = gemini.models.generate_content(model=FLASH, contents=[f"Describe {word}", image])
    entry = only(stack.requests_with(word))
    files = entry["files"]
    assert isinstance(files, list) and [f["sha256"] for f in files] == [hashlib.sha256(data).hexdigest()]
    assert "Files received:" in (reply.text or "")


def test_max_output_tokens_cuts_the_answer(stack: Stack) -> None:
    word = marker()
    config = types.GenerateContentConfig(max_output_tokens=3)
    gemini = client(stack)
    reply = gemini.models.generate_content(model=FLASH, contents=f"Long {word}", config=config)
    candidate = (reply.candidates or [])[0]
    assert candidate.finish_reason == types.FinishReason.MAX_TOKENS
    assert len(reply.text or "") < len(base_text(1, "c", f"Long {word}", []))


def test_stream_arrives_in_chunks_with_usage_last(stack: Stack) -> None:
    word = marker()
    gemini = client(stack)
    chunks = list(gemini.models.generate_content_stream(model=FLASH, contents=f"Stream {word}"))
    entry = only(stack.requests_with(word))
    assert len(chunks) > 1
    text = "".join(chunk.text or "" for chunk in chunks)
    assert text == base_text(1, str(entry["cid"]), f"Stream {word}", []) + CLOSING
    last = chunks[-1]
    assert (last.candidates or [])[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata is not None and last.usage_metadata.total_token_count
    assert all((chunk.candidates or [])[0].finish_reason is None for chunk in chunks[:-1])


def test_pro_thoughts_come_as_thought_parts_when_asked_for(stack: Stack) -> None:
    word = marker()
    prompt = f"Think about {word}"
    gemini = client(stack)
    thinking = types.ThinkingConfig(include_thoughts=True, thinking_level=types.ThinkingLevel.HIGH)
    config = types.GenerateContentConfig(thinking_config=thinking)
    reply = gemini.models.generate_content(model="gemini-2.5-pro", contents=prompt, config=config)
    parts = ((reply.candidates or [])[0].content or types.Content()).parts or []
    thoughts = "".join(part.text or "" for part in parts if part.thought)
    assert f"sha256 {sha16(prompt)}" in thoughts  # the simulator's thoughts about this prompt
    entry = only(stack.requests_with(word))
    assert reply.text == base_text(1, str(entry["cid"]), prompt, []) + CLOSING  # .text leaves thoughts out
    streamed = list(gemini.models.generate_content_stream(model="gemini-2.5-pro", contents=prompt + "!"))
    assert not any(
        part.thought for chunk in streamed for part in (chunk.candidates or [])[0].content.parts or []
    )


class City(pydantic.BaseModel):
    name: str
    population: int


GOOGLE_CITY = {
    "type": "OBJECT",
    "properties": {"name": {"type": "STRING"}, "population": {"type": "INTEGER"}},
    "required": ["name", "population"],
}


@pytest.mark.parametrize("schema", [GOOGLE_CITY, City], ids=["google-schema", "pydantic"])
def test_structured_output_follows_the_schema(stack: Stack, schema: object) -> None:
    word = marker()
    config = types.GenerateContentConfig(response_mime_type="application/json", response_schema=schema)
    gemini = client(stack)
    reply = gemini.models.generate_content(model=FLASH, contents=f"{word} describe Paris", config=config)
    assert json.loads(reply.text or "") == {"name": "sim-name", "population": 1}
    if schema is City:
        assert reply.parsed == City(name="sim-name", population=1)
    assert len(stack.requests_with(word)) == 1


def test_think_tags_never_reach_googles_text(tags_stack: Stack) -> None:
    word = marker()
    prompt = f"Think about {word}"
    gemini = client(tags_stack)
    reply = gemini.models.generate_content(model="gemini-2.5-pro", contents=prompt)
    cid = str(only(tags_stack.requests_with(word))["cid"])
    assert reply.text == base_text(1, cid, prompt, []) + CLOSING
    streamed = list(gemini.models.generate_content_stream(model="gemini-2.5-pro", contents=f"{prompt}?"))
    assert "<think>" not in "".join(chunk.text or "" for chunk in streamed)
    with pytest.raises(errors.ClientError) as refused:
        config = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(include_thoughts=True))
        gemini.models.generate_content(model="gemini-2.5-pro", contents=prompt, config=config)
    assert refused.value.code == 400 and "reasoning_format" in (refused.value.message or "")


WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="Current weather of a city",
    parameters=types.Schema(
        type=types.Type.OBJECT,
        properties={
            "city": types.Schema(type=types.Type.STRING),
            "unit": types.Schema(type=types.Type.STRING, enum=["C", "F"]),
        },
        required=["city", "unit"],
    ),
)


def test_function_calling_round_trip(stack: Stack) -> None:
    word = marker()
    gemini = client(stack)
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[WEATHER])])
    ask = types.Content(role="user", parts=[types.Part(text=f"{word} What is the weather in Paris?")])
    first = gemini.models.generate_content(model=FLASH, contents=[ask], config=config)
    (call,) = first.function_calls or []
    assert (call.name, call.args) == ("get_weather", {"city": "sim-city", "unit": "C"})
    (entry,) = stack.requests_with(word)
    assert '- get_weather: "Current weather of a city"' in str(entry["prompt"])
    said = (first.candidates or [])[0].content
    assert said is not None
    answer = types.Part.from_function_response(name="get_weather", response={"temp": 21})
    second = gemini.models.generate_content(
        model=FLASH, contents=[ask, said, types.Content(role="user", parts=[answer])], config=config
    )
    assert second.text == 'Thanks, I used the tool results: get_weather returned {"temp": 21}.'
    assert not second.function_calls
    streamed = list(
        gemini.models.generate_content_stream(
            model=FLASH, contents=f"{marker()} What is the weather in Rome?", config=config
        )
    )
    assert [(c.name, c.args) for c in streamed[-1].function_calls or []] == [
        ("get_weather", {"city": "sim-city", "unit": "C"})
    ]


def test_models_list_and_get(stack: Stack) -> None:
    gemini = client(stack)
    names = [model.name for model in gemini.models.list()]
    assert f"models/{FLASH}" in names and "models/gemini-2.5-pro" in names
    assert f"models/{IMAGEN}" in names  # answers with inlineData image parts
    assert "models/gemini-2.5-pro-deepsearch" not in names  # no Gemini-native shape for reports
    model = gemini.models.get(model=FLASH)
    assert model.name == f"models/{FLASH}"
    assert model.supported_actions == ["generateContent", "streamGenerateContent", "countTokens"]


def test_errors_come_through_the_sdks_exception_types(stack: Stack) -> None:
    word, gemini, stranger = marker(), client(stack), client(stack, key="wrong-key")
    with pytest.raises(errors.ClientError) as unauthenticated:
        stranger.models.generate_content(model=FLASH, contents=word)
    assert unauthenticated.value.code == 401 and unauthenticated.value.status == "UNAUTHENTICATED"
    with pytest.raises(errors.ClientError) as unknown:
        gemini.models.generate_content(model="gemini-0-nope", contents=word)
    assert unknown.value.code == 404 and unknown.value.status == "NOT_FOUND"
    with pytest.raises(errors.ClientError) as invalid:
        config = types.GenerateContentConfig(candidate_count=2)
        gemini.models.generate_content(model=FLASH, contents=word, config=config)
    assert invalid.value.code == 400 and invalid.value.status == "INVALID_ARGUMENT"
    assert "candidateCount" in (invalid.value.message or "")
    with pytest.raises(errors.ServerError) as files:
        list(gemini.files.list())
    assert files.value.code == 501 and files.value.status == "UNIMPLEMENTED"
    assert stack.requests_with(word) == []  # no page was driven for a refused request


def test_key_in_the_query_is_accepted(stack: Stack) -> None:
    word = marker()
    body = {"contents": [{"role": "user", "parts": [{"text": f"Query {word}"}]}]}
    url = f"{stack.url}/v1beta/models/{FLASH}:generateContent"
    answer = httpx.post(url, params={"key": KEY_A}, json=body, timeout=90)
    assert answer.status_code == 200, answer.text
    assert answer.json()["candidates"][0]["finishReason"] == "STOP"
    refused = httpx.post(url, params={"key": "nope"}, json=body, timeout=90)
    assert refused.status_code == 401
    assert refused.json() == {
        "error": {"code": 401, "message": "Invalid API key.", "status": "UNAUTHENTICATED"}
    }
    missing = httpx.post(url, json=body, timeout=90)
    assert missing.status_code == 401 and "x-goog-api-key" in missing.json()["error"]["message"]
    stream_url = f"{stack.url}/v1beta/models/{FLASH}:streamGenerateContent"
    refused_alt = httpx.post(stream_url, params={"key": KEY_A, "alt": "proto"}, json=body, timeout=90)
    assert refused_alt.status_code == 400 and refused_alt.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_stream_without_alt_sse_is_one_json_array(stack: Stack) -> None:
    word = marker()
    body = {"contents": [{"parts": [{"text": f"Array {word}"}]}]}
    url = f"{stack.url}/v1beta/models/{FLASH}:streamGenerateContent"
    answer = httpx.post(url, headers={"x-goog-api-key": KEY_A}, json=body, timeout=90)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    chunks = answer.json()
    assert isinstance(chunks, list) and len(chunks) > 1
    cid = str(only(stack.requests_with(word))["cid"])
    text = "".join(chunk["candidates"][0]["content"]["parts"][0]["text"] for chunk in chunks)
    assert text == base_text(1, cid, f"Array {word}", []) + CLOSING
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP" and chunks[-1]["usageMetadata"]


def test_imagen_answers_with_inline_data_images(stack: Stack) -> None:
    word = marker()
    gemini = client(stack)
    config = types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"])
    reply = gemini.models.generate_content(model=IMAGEN, contents=f"draw a fish {word}", config=config)
    parts = (reply.candidates or [])[0].content.parts or []  # type: ignore[union-attr]
    assert parts[0].text and "Here are the images" in parts[0].text  # the page's words, first
    images = [part.inline_data for part in parts if part.inline_data is not None]
    assert images and all(image.mime_type == "image/png" for image in images)
    assert Image.open(io.BytesIO(images[0].data or b"")).format == "PNG"
    assert only(stack.requests_with(word))["prompt"].startswith(f"draw a fish {word}")


@pytest.fixture(scope="module")
def gemini_cli() -> Path:
    """Gemini CLI from tests/node (its package-lock.json), as ``make clients`` installs it."""
    try:
        install_node()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    return NODE_DIR / "node_modules" / ".bin" / "gemini"


def test_gemini_cli_runs_a_tool_turn_through_the_door(stack: Stack, gemini_cli: Path, tmp_path: Path) -> None:
    """``gemini -p`` with an API key and GOOGLE_GEMINI_BASE_URL: its streamed generateContent with
    its own tools (the simulator calls the one it is told to), then the tool result sent back."""
    home = tmp_path / "home"
    (home / ".gemini").mkdir(parents=True)
    settings = {
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "privacy": {"usageStatisticsEnabled": False},
        "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
    }
    (home / ".gemini" / "settings.json").write_text(json.dumps(settings))
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "GEMINI_API_KEY": KEY_A,
        "GOOGLE_GEMINI_BASE_URL": stack.url,
        "GEMINI_CLI_TRUST_WORKSPACE": "true",  # headless runs need a trusted folder
        "GEMINI_CLI_NO_RELAUNCH": "true",  # one process, ended below
        "NO_COLOR": "1",
    }
    word = marker()
    prompt = f"Note {word}. You must call the tool update_topic now"
    command = [str(gemini_cli), "-p", prompt, "-m", FLASH, "--output-format", "json"]
    cli = subprocess.Popen(
        command,
        cwd=home,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = cli.communicate(timeout=240)
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGKILL)
            cli.wait()
    assert cli.returncode == 0, f"{out[-2000:]}\n{err[-2000:]}"
    answer = json.loads(out)["response"]
    assert "Thanks, I used the tool results: update_topic returned" in answer
    first = only(stack.requests_with(word))
    assert "- update_topic:" in str(
        first["prompt"]
    )  # its tools reached the page, as the emulation lists them
    # The tool result went back in the same chat (the gateway continued it).
    later = [entry for entry in stack.sim_requests() if entry["cid"] == first["cid"] and entry != first]
    assert any("[Tool result] update_topic" in str(entry["prompt"]) for entry in later)
