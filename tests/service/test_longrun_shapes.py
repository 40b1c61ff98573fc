"""Canvas documents, video jobs' store, and the refusals of the long-running models, without a browser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openai
import pytest

from browser import Tool, TurnSnapshot
from service.chat.longrun import shape_canvas
from service.videos.store import VideoRecord, VideoStore
from tests.service.conftest import Served
from tests.service.scripted_pool import Script, ScriptedPool, account


def test_canvas_documents_keep_markdown_and_fence_html() -> None:
    assert shape_canvas("# Title\n\ntext") == "# Title\n\ntext"
    assert shape_canvas("```python\nprint(1)\n```") == "```python\nprint(1)\n```"
    assert shape_canvas("<!DOCTYPE html>\n<html></html>\n") == "```html\n<!DOCTYPE html>\n<html></html>\n```"


def test_a_canvas_answer_is_the_document(serve_gateway: Callable[..., Served]) -> None:
    pool = ScriptedPool()
    document = "<html><body>hi</body></html>"
    pool.queue(
        Script(
            [TurnSnapshot(cid="c_1", text="I put it in Canvas.", canvas=document, completed=True, frames=1)]
        )
    )
    served = serve_gateway(pool)
    answer = served.client().chat.completions.create(
        model="gemini-2.5-pro-canvas", messages=[{"role": "user", "content": "a page"}]
    )
    assert answer.choices[0].message.content == f"```html\n{document}\n```"
    request = pool.requests[0]
    assert request.tool is not None and request.tool.value == "canvas" and request.mode.value == "pro"


def test_a_video_answer_without_a_video_is_a_clear_502(serve_gateway: Callable[..., Served]) -> None:
    pool = ScriptedPool()
    pool.queue(Script([TurnSnapshot(cid="c_1", text="I can't make that video.", completed=True, frames=1)]))
    served = serve_gateway(pool)
    with pytest.raises(openai.InternalServerError) as failed:
        served.client().chat.completions.create(
            model="gemini-2.5-pro-video", messages=[{"role": "user", "content": "a film"}]
        )
    assert failed.value.code == "no_video" and "I can't make that video." in failed.value.message


def test_a_tool_no_page_offers_is_refused_whatever_the_tier(serve_gateway: Callable[..., Served]) -> None:
    """What the pages offer decides (fidelity.md D8): a free account offering Canvas and Deep
    Research serves them; Create video, offered by no page here, is 403 ``not_offered``."""
    tools = frozenset({Tool.CANVAS, Tool.DEEP_RESEARCH, Tool.IMAGE})
    pool = ScriptedPool(account_list=[account(tier="free", tools=tools)])
    served = serve_gateway(pool)
    with pytest.raises(openai.PermissionDeniedError) as refused:
        served.client().chat.completions.create(
            model="gemini-2.5-pro-video", messages=[{"role": "user", "content": "x"}]
        )
    assert refused.value.code == "not_offered" and "Create video" in refused.value.message
    assert pool.requests == []
    pool.queue(Script([TurnSnapshot(cid="c_1", text="", canvas="# Doc", completed=True, frames=1)]))
    answer = served.client().chat.completions.create(
        model="gemini-2.5-flash-canvas", messages=[{"role": "user", "content": "x"}]
    )
    assert answer.choices[0].message.content == "# Doc"
    assert [request.tool for request in pool.requests] == [Tool.CANVAS]


def test_misplaced_options_are_refused(serve_gateway: Callable[..., Served]) -> None:
    served = serve_gateway(ScriptedPool())
    client = served.client()
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model="gemini-2.5-pro-canvas",
            messages=[{"role": "user", "content": "x"}],
            extra_body={"research_confirm": False},
        )
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model="gemini-2.5-pro-deepsearch",
            messages=[{"role": "user", "content": "x"}],
            extra_body={"image_delivery": "data_url"},
        )
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model="gemini-2.5-pro-video",
            messages=[{"role": "user", "content": "x"}],
            extra_body={"image_delivery": "url"},
        )


def _record(video_id: str, owner: str) -> VideoRecord:
    return VideoRecord(video_id, owner, "m", "p", "p", "8", "1280x720", "queued", 0, 1)


def test_the_video_store_scopes_pages_and_deletes_files(tmp_path: Path) -> None:
    store = VideoStore(tmp_path)
    for n in range(3):
        store.insert(_record(f"v{n}", "alice"))
    store.insert(_record("b0", "bob"))
    store.save("v1", "video", b"mp4")
    assert (tmp_path / "videos" / "v1.mp4").stat().st_mode & 0o777 == 0o600
    assert [r.id for r in store.page("alice", after=None, limit=2, ascending=True)] == ["v0", "v1"]
    assert [r.id for r in store.page("alice", after="v1", limit=5, ascending=True)] == ["v2"]
    assert [r.id for r in store.page("alice", after="v1", limit=5, ascending=False)] == ["v0"]
    assert store.get("b0", "alice") is None and store.get("b0", "bob") is not None
    assert not store.delete("v1", "bob") and store.delete("v1", "alice")
    assert not (tmp_path / "videos" / "v1.mp4").exists()
    assert [r.id for r in store.running()] == ["v0", "v2", "b0"]
    store.close()
