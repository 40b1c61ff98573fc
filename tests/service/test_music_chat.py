"""The music model through chat completions (service.chat.music), on a scripted pool: the track as
``message.audio`` and as a delivered link, streamed as ``delta.audio`` pieces, and the refusals."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from browser import Media, MusicInfo, Tool, TurnSnapshot
from simulator.music import mp3
from tests.service.conftest import API_KEY, Served
from tests.service.scripted_pool import Script, ScriptedPool, account

MODEL = "gemini-2.5-flash-music"
MP3_URL = "https://contribution.usercontent.google.com/download?c=t&filename=track.mp3"
TRACK = mp3("a song about tea")
SAID = "Here's a 30-second track for you, made with Lyria."


def _pool(track: bytes = TRACK) -> ScriptedPool:
    pool = ScriptedPool()
    music = MusicInfo(MP3_URL, None, None, None)
    pool.queue(
        Script(
            [
                TurnSnapshot(cid="c_1", text=SAID[:10], frames=1),
                TurnSnapshot(cid="c_1", text=SAID, music=music, completed=True, frames=2),
            ]
        )
    )
    pool.media[MP3_URL] = Media(track, "audio/mpeg", MP3_URL)
    return pool


def test_the_track_is_the_messages_audio_and_a_delivered_link(serve_gateway: Callable[..., Served]) -> None:
    served = serve_gateway(_pool())
    answer = served.client().chat.completions.create(
        model=MODEL,
        modalities=["text", "audio"],
        audio={"format": "mp3", "voice": "alloy"},  # the SDK's type requires a voice: ignored
        messages=[{"role": "user", "content": "a song about tea"}],
    )
    message = answer.choices[0].message
    assert message.audio is not None and base64.b64decode(message.audio.data) == TRACK
    assert message.audio.transcript == SAID and message.audio.id.startswith("audio_")
    assert message.audio.expires_at > answer.created
    content = message.content or ""
    assert content.startswith(SAID) and "[track.mp3](" in content
    link = content.split("[track.mp3](", 1)[1].rstrip(")")
    assert httpx.get(link, timeout=10).content == TRACK  # the signed link, no key needed
    assert [request.tool for request in served.pool.requests] == [Tool.MUSIC]


def test_a_stream_sends_the_audio_before_the_finish(serve_gateway: Callable[..., Served]) -> None:
    served = serve_gateway(_pool())
    body = {"model": MODEL, "stream": True, "messages": [{"role": "user", "content": "tea"}]}
    headers = {"Authorization": f"Bearer {API_KEY}"}
    chunks: list[dict[str, Any]] = []
    url = f"{served.url}/v1/chat/completions"
    with httpx.stream("POST", url, json=body, headers=headers, timeout=15) as response:
        for line in response.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                chunks.append(json.loads(line[6:]))
    deltas = [chunk["choices"][0] for chunk in chunks if chunk["choices"]]
    pieces = [choice["delta"]["audio"] for choice in deltas if "audio" in choice["delta"]]
    assert pieces[0]["transcript"] == SAID and "expires_at" in pieces[-1]
    assert base64.b64decode("".join(piece.get("data", "") for piece in pieces)) == TRACK
    finish = next(i for i, choice in enumerate(deltas) if choice["finish_reason"] == "stop")
    assert "audio" in deltas[finish - 1]["delta"] and finish == len(deltas) - 1
    content = "".join(choice["delta"].get("content") or "" for choice in deltas)
    assert content.startswith(SAID) and "[track.mp3](" in content
    reasoning = "".join(choice["delta"].get("reasoning_content") or "" for choice in deltas)
    assert "Composing the track" in reasoning


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"audio": {"format": "wav"}}, "audio.format"),
        ({"audio": {"format": "mp3", "voice": 7}}, "audio.voice"),
        ({"modalities": ["text"]}, "modalities"),
        ({"image_delivery": "url"}, "image_delivery"),
    ],
)
def test_what_the_track_cannot_be_is_refused_naming_the_field(
    serve_gateway: Callable[..., Served], fields: dict[str, Any], param: str
) -> None:
    served = serve_gateway(ScriptedPool())
    with pytest.raises(openai.BadRequestError) as refused:
        served.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], extra_body=fields
        )
    assert refused.value.param == param
    assert served.pool.requests == []


def test_no_page_offering_music_is_403_and_an_answer_without_a_track_502(
    serve_gateway: Callable[..., Served],
) -> None:
    tools = frozenset({Tool.IMAGE, Tool.CANVAS})
    served = serve_gateway(ScriptedPool(account_list=[account(tools=tools)]))
    with pytest.raises(openai.PermissionDeniedError) as refused:
        served.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    assert refused.value.code == "not_offered" and "Create music" in refused.value.message

    pool = ScriptedPool()
    pool.queue(Script([TurnSnapshot(cid="c_1", text="I can't make music.", completed=True, frames=1)]))
    served = serve_gateway(pool)
    with pytest.raises(openai.InternalServerError) as failed:
        served.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    assert failed.value.code == "no_music" and "I can't make music." in failed.value.message


def test_the_responses_api_refuses_the_music_model(serve_gateway: Callable[..., Served]) -> None:
    """A track has no Responses output item here: refused rather than answered as text alone."""
    served = serve_gateway(ScriptedPool())
    with pytest.raises(openai.BadRequestError) as refused:
        served.client().responses.create(model=MODEL, input="a song")
    assert refused.value.param == "model" and "/v1/chat/completions" in refused.value.message
    assert served.pool.requests == []


def test_other_models_asked_for_audio_are_refused(serve_gateway: Callable[..., Served]) -> None:
    served = serve_gateway(ScriptedPool())
    for fields, param in (
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"audio": {"format": "mp3"}}, "audio"),
    ):
        with pytest.raises(openai.BadRequestError) as refused:
            served.client().chat.completions.create(
                model="gemini-2.5-flash", messages=[{"role": "user", "content": "x"}], extra_body=fields
            )
        assert refused.value.param == param and MODEL in refused.value.message
    assert served.pool.requests == []
