"""The video jobs API end to end: the official openai SDK's ``videos`` resource (``create_and_poll``,
``download_content``, ``list``, ``delete``) against uvicorn, the real pool on Chromium and the
simulator, with the jobs in SQLite in the gateway's data directory."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from PIL import Image

from tests.e2e.conftest import KEY_A, KEY_B, Stack, marker, running_stack

ASSETS = Path(__file__).resolve().parents[2] / "simulator" / "assets"
VIDEO = (ASSETS / "video.mp4").read_bytes()
THUMBNAIL = (ASSETS / "video_thumbnail.jpg").read_bytes()
MODEL = "gemini-2.5-pro-video"

# The SDK marks its Sora helpers deprecated; they are what clients call, so they are what we test.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("e2e-videos")
    with running_stack(data_dir, ("paid", "free"), video_poll_interval=0.2) as running:
        yield running


def test_create_and_poll_then_download_content(stack: Stack) -> None:
    client = stack.client()
    prompt = f"a dog on a skateboard {marker()}"
    video = client.videos.create_and_poll(model=MODEL, prompt=prompt, size="720x1280")
    assert video.status == "completed" and video.progress == 100 and video.object == "video"
    assert video.model == MODEL and video.size == "720x1280" and video.seconds == "8"
    assert video.completed_at is not None and video.expires_at is not None and video.error is None
    assert client.videos.download_content(video.id).content == VIDEO
    thumbnail = client.videos.download_content(video.id, variant="thumbnail").content
    assert thumbnail == THUMBNAIL and Image.open(io.BytesIO(thumbnail)).format == "JPEG"
    entry = stack.requests_with(prompt)[-1]
    # The real request code of Create video (VID HAR 2026-08-03: inner[49] = 11).
    assert entry["tool"] == 11 and entry["prompt"].endswith("Aspect ratio 9:16.")


def test_status_carries_poll_after_and_jobs_are_scoped_to_the_key(stack: Stack) -> None:
    client = stack.client()
    created = client.videos.with_raw_response.create(model=MODEL, prompt=f"clouds {marker()}")
    assert int(created.headers["openai-poll-after-ms"]) == 200
    video = created.parse()
    assert video.status in ("queued", "in_progress")
    other = stack.client(key=KEY_B)
    with pytest.raises(openai.NotFoundError):
        other.videos.retrieve(video.id)
    assert video.id not in [item.id for item in other.videos.list()]
    assert video.id in [item.id for item in client.videos.list()]
    done = client.videos.poll(video.id)
    assert done.status == "completed", done.error
    deleted = client.videos.delete(video.id)
    assert deleted.deleted and deleted.id == video.id and deleted.object == "video.deleted"
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve(video.id)


def test_list_pages_with_a_cursor(stack: Stack) -> None:
    client = stack.client(key=KEY_B)
    ids = [client.videos.create(model=MODEL, prompt=f"page {i} {marker()}").id for i in range(3)]
    first = client.videos.list(limit=2, order="asc")
    seen = [item.id for item in first.data]
    assert first.has_more and len(seen) == 2
    everything = [item.id for item in client.videos.list(limit=2, order="asc")]  # auto-paging
    assert everything[-3:] == ids and seen == everything[:2]
    newest = [item.id for item in client.videos.list(order="desc")]
    assert newest[:3] == ids[::-1]


def test_refusals_are_clear_openai_errors(stack: Stack) -> None:
    client = stack.client()
    with pytest.raises(openai.BadRequestError) as seconds:
        client.videos.create(model=MODEL, prompt="x", seconds="4")
    assert seconds.value.body is not None and "8" in str(seconds.value.message)
    with pytest.raises(openai.BadRequestError):
        client.videos.create(model=MODEL, prompt="x", size="1x1")  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError):
        client.videos.create(model="gemini-2.5-pro", prompt="x")
    with pytest.raises(openai.NotFoundError):
        client.videos.create(model="sora-2", prompt="x")
    with pytest.raises(openai.NotFoundError):
        client.videos.download_content("video_nope")
    response = httpx.post(
        f"{stack.url}/v1/videos", headers={"Authorization": f"Bearer {KEY_A}"}, json={"prompt": ""}
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "prompt"


def test_a_free_account_is_told_no_account_offers_create_video(tmp_path: Path) -> None:
    with running_stack(tmp_path / "data", ("free",)) as free:
        with pytest.raises(openai.PermissionDeniedError) as refused:
            free.client().videos.create(model=MODEL, prompt="a cat")
        assert refused.value.code == "not_offered" and "Create video" in refused.value.message
