"""Canvas, storybook and video through chat completions, end to end: the official openai SDK against
uvicorn, the real pool on Chromium and the simulator (docs/simulator-contract.md)."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from simulator.answers import sha16
from simulator.music import mp3
from tests.e2e.conftest import Stack, marker, running_stack

ASSETS = Path(__file__).resolve().parents[2] / "simulator" / "assets"


def _ask(stack: Stack, model: str, messages: list[Any], **extra: Any) -> str:
    answer = stack.client().chat.completions.create(model=model, messages=messages, extra_body=extra or None)
    content = answer.choices[0].message.content
    assert content is not None
    return content


def _stream(stack: Stack, model: str, messages: list[Any], **extra: Any) -> tuple[str, str]:
    chunks = stack.client().chat.completions.create(
        model=model, messages=messages, stream=True, extra_body=extra or None
    )
    content, reasoning = [], []
    for chunk in chunks:
        if chunk.choices:
            delta = chunk.choices[0].delta
            content.append(delta.content or "")
            reasoning.append(getattr(delta, "reasoning_content", None) or "")
    return "".join(content), "".join(reasoning)


@pytest.mark.parametrize("model", ["gemini-2.5-flash-canvas", "gemini-2.5-pro-canvas"])
def test_canvas_answers_with_the_document_and_a_follow_up_edits_it(stack: Stack, model: str) -> None:
    prompt = f"a landing page {marker()}"
    messages: list[Any] = [{"role": "user", "content": prompt}]
    content = _ask(stack, model, messages)
    # The document at c[30], not the chat's "I put the document in Canvas".
    assert content.startswith("```html\n<!DOCTYPE html>") and content.endswith("```")
    assert f"sha256 {sha16(prompt)}" in content and "Canvas turn 1" in content
    assert "I put the document" not in content
    entry = stack.requests_with(prompt)[-1]
    assert entry["tool"] == 2  # the Canvas tool was chosen on the page
    follow = f"make the title red {marker()}"
    messages += [{"role": "assistant", "content": content}, {"role": "user", "content": follow}]
    edited, _ = _stream(stack, model, messages)
    assert "Canvas turn 2" in edited and f"sha256 {sha16(follow)}" in edited
    again = stack.requests_with(follow)[-1]
    assert again["cid"] == entry["cid"] and again["tool"] == 2  # the same chat, so the same canvas


@pytest.mark.parametrize("model", ["gemini-2.5-flash-storybook", "gemini-2.5-pro-storybook"])
def test_storybook_holds_every_page_and_picture_in_order(stack: Stack, model: str) -> None:
    prompt = f"a robot who reads {marker()}"
    messages: list[Any] = [{"role": "user", "content": prompt}]
    content = _ask(stack, model, messages)
    page1, page2 = content.index("**Page 1.**"), content.index("**Page 2.**")
    pictures = [m.start() for m in re.finditer(r"!\[[^\]]*\]\(http", content)]
    assert len(pictures) == 2 and page1 < pictures[0] < page2 < pictures[1]
    title = content.index(f"# The Storybook of {' '.join(prompt.split()[:6])}")
    assert title < page1, "the book's title comes before its pages"
    assert "googleusercontent.com" not in content  # no placeholder left
    url = re.findall(r"!\[[^\]]*\]\((\S+?)\)", content)[0]
    # The preview the page shows (``=s1024-rj``), as the imagen models' chat answers deliver it.
    assert Image.open(io.BytesIO(httpx.get(url, timeout=20).content)).format == "JPEG"
    assert stack.requests_with(prompt)[-1]["gem"] == "storybook"
    streamed, _ = _stream(
        stack, model, [{"role": "user", "content": f"a cat {marker()}"}], image_delivery="data_url"
    )
    inline = re.findall(r"!\[[^\]]*\]\(data:image/jpeg;base64,([A-Za-z0-9+/=]+)\)", streamed)
    assert len(inline) == 2 and streamed.index("**Page 1.**") < streamed.index("data:image/jpeg")
    assert Image.open(io.BytesIO(base64.b64decode(inline[1]))).format == "JPEG"


def test_video_waits_for_the_render_and_inlines_it(stack: Stack) -> None:
    prompt = f"a cat surfing {marker()}"
    content, reasoning = _stream(stack, "gemini-2.5-pro-video", [{"role": "user", "content": prompt}])
    video = re.findall(r"\[video\]\(data:video/mp4;base64,([A-Za-z0-9+/=]+)\)", content)
    assert len(video) == 1 and base64.b64decode(video[0]) == (ASSETS / "video.mp4").read_bytes()
    thumbnail = re.findall(r"!\[thumbnail\]\(data:image/jpeg;base64,([A-Za-z0-9+/=]+)\)", content)
    assert thumbnail and base64.b64decode(thumbnail[0]) == (ASSETS / "video_thumbnail.jpg").read_bytes()
    # The simulator renders for seconds: progress lines came while the URL answered 206.
    assert "Rendering the video" in reasoning and "The video is ready." in reasoning
    entry = stack.requests_with(prompt)[-1]
    assert entry["tool"] == 11 and entry["mode_category"] is not None


def test_video_larger_than_the_inline_cap_goes_by_signed_link(tmp_path: Path) -> None:
    with running_stack(tmp_path / "data", ("paid",), video_inline_max_bytes=16) as small:
        content = _ask(small, "gemini-2.5-pro-video", [{"role": "user", "content": f"rain {marker()}"}])
        links = re.findall(r"\[video\]\((http\S+?)\)", content)
        assert links, content[:300]
        download = httpx.get(links[0], timeout=20)
        assert download.status_code == 200 and download.content == (ASSETS / "video.mp4").read_bytes()


def test_a_free_account_serves_canvas_and_refuses_video_it_does_not_offer(tmp_path: Path) -> None:
    """What the page offers decides (fidelity.md D8): a free account's menu has Canvas, not Create
    video, so video is a clear 403 naming the tool and canvas is served."""
    with running_stack(tmp_path / "data", ("free",)) as free:
        with pytest.raises(openai.PermissionDeniedError) as refused:
            free.client().chat.completions.create(
                model="gemini-2.5-pro-video", messages=[{"role": "user", "content": "x"}]
            )
        assert refused.value.code == "not_offered" and "Create video" in refused.value.message
        content = _ask(free, "gemini-2.5-flash-canvas", [{"role": "user", "content": f"a page {marker()}"}])
        assert content.startswith("```html\n<!DOCTYPE html>"), content[:200]


def test_no_video_quota_is_a_clear_429_with_retry_after(tmp_path: Path) -> None:
    """Gemini's usage limit (1037) on the only paid account: a 429 naming the wait, not a 5xx, and
    the chat models of another family still answer."""
    with running_stack(tmp_path / "data", ("paid",)) as one:
        psid = one.settings.accounts[0].psid
        assert psid is not None
        limit = {"kind": "usage_limit", "reset_seconds": 600}
        body = {"account": psid.get_secret_value(), "behaviours": [limit]}
        httpx.post(f"{one.sim_url}/_sim/behaviours", json=body, timeout=10).raise_for_status()
        with pytest.raises(openai.RateLimitError) as refused:
            one.client().chat.completions.create(
                model="gemini-2.5-pro-video", messages=[{"role": "user", "content": f"a fox {marker()}"}]
            )
        assert refused.value.code == "no_capacity"
        retry_after = float(refused.value.response.headers["retry-after"])
        assert 60 < retry_after <= 600, "the wait comes from the exhausted quota's reset time"
        still = _ask(one, "gemini-2.5-flash", [{"role": "user", "content": "still here?"}])
        assert still.startswith("Turn 1")


def test_music_answers_the_track_as_message_audio(stack: Stack) -> None:
    """Create music behind More tools (D4), the track read from c[12][86] and downloaded through the
    page's session: ``message.audio.data`` decodes to the simulator's MP3 for this prompt."""
    stack.sim_config(music_render_seconds=0.3)
    prompt = f"a song about tea {marker()}"
    answer = stack.client().chat.completions.create(
        model="gemini-2.5-flash-music",
        modalities=["text", "audio"],
        audio={"format": "mp3", "voice": "alloy"},  # ignored by the music model (the guide)
        messages=[{"role": "user", "content": prompt}],
    )
    audio = answer.choices[0].message.audio
    assert audio is not None and base64.b64decode(audio.data) == mp3(prompt)
    assert "Lyria" in audio.transcript and "[track.mp3](" in (answer.choices[0].message.content or "")
    assert stack.requests_with(prompt)[-1]["tool"] == 21  # the music tool was chosen on the page
    # The answer's MP4 (c[12][86][1]: the track with its cover) is delivered as a second link.
    video_link = (answer.choices[0].message.content or "").split("[track.mp4](", 1)[1].split(")", 1)[0]
    video = httpx.get(video_link, timeout=30)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"
