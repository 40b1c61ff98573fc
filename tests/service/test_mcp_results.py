"""The MCP tools' result shaping without a server: video job states (a failed job is an error
result naming why; a finished one a link, and the MP4 only when asked or small), research reports,
argument errors in words a model can act on, and a gateway refusal in its own words."""

from __future__ import annotations

import base64

import pytest
from mcp.types import BlobResourceContents, EmbeddedResource, ResourceLink, TextContent
from pydantic import ValidationError

from service.errors import OutOfScope, UpstreamFailed
from service.mcp import results
from service.mcp.arguments import ChatArgs, describe_invalid
from service.videos.store import VideoRecord

LINK = "http://gw.example/media/v.mp4?exp=1&sig=2"


def record(**changes: object) -> VideoRecord:
    fields: dict[str, object] = {
        "id": "video_1",
        "owner": "o",
        "model": "gemini-2.5-pro-video",
        "prompt": "a boat",
        "typed": "a boat",
        "seconds": "8",
        "size": "1280x720",
        "status": "in_progress",
        "progress": 40,
        "created_at": 1,
    }
    return VideoRecord(**(fields | changes))  # type: ignore[arg-type]


def test_a_running_job_says_how_far_it_is() -> None:
    result = results.video_progress(record())
    assert not result.is_error
    assert result.structured_content == {"job_id": "video_1", "status": "in_progress", "progress": 40}
    assert "40%" in result.content[0].text  # type: ignore[union-attr]


def test_a_failed_job_is_an_error_result_naming_why() -> None:
    failed = record(status="failed", error_code="no_video", error_message="Gemini answered without a video")
    result = results.video_progress(failed)
    assert result.is_error and result.structured_content is not None
    assert result.structured_content["error"] == {
        "code": "no_video",
        "message": "Gemini answered without a video",
    }
    assert "without a video" in result.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("inline", [True, False])
def test_a_finished_job_links_its_video_and_embeds_it_only_when_asked(inline: bool) -> None:
    data = b"\x00\x00\x00\x18ftypmp42"
    result = results.video_done(record(status="completed", progress=100), LINK, data if inline else None)
    links = [block for block in result.content if isinstance(block, ResourceLink)]
    assert [str(link.uri) for link in links] == [LINK] and links[0].mime_type == "video/mp4"
    blobs = [block.resource for block in result.content if isinstance(block, EmbeddedResource)]
    if inline:
        (blob,) = blobs
        assert isinstance(blob, BlobResourceContents) and base64.b64decode(blob.blob) == data
    else:
        assert blobs == []
    assert result.structured_content is not None and result.structured_content["url"] == LINK


def test_a_report_is_its_text() -> None:
    result = results.report("# Report", "gemini-2.5-pro-deepsearch")
    assert result.content == [TextContent(type="text", text="# Report")]
    assert result.structured_content == {"report": "# Report", "model": "gemini-2.5-pro-deepsearch"}


def test_invalid_arguments_are_named_without_their_values() -> None:
    with pytest.raises(ValidationError) as invalid:
        ChatArgs.model_validate({"model": "secret-model-value", "message": "", "extra": "x"})
    text = describe_invalid(invalid.value)
    assert text.startswith("Invalid arguments: ")
    assert "message: String should have at least 1 character" in text and "extra: unknown argument" in text
    assert "secret-model-value" not in text


@pytest.mark.parametrize(
    ("error", "kind", "status"),
    [
        (OutOfScope("images"), "permission_error", 403),
        (UpstreamFailed("Gemini answered with an error page."), "upstream_error", 502),
    ],
)
def test_a_refusal_keeps_the_gateways_words_and_kind(error: Exception, kind: str, status: int) -> None:
    result = results.failure(error)  # type: ignore[arg-type]
    assert result.is_error and result.structured_content is not None
    assert (result.structured_content["error"]["type"], result.structured_content["error"]["status"]) == (
        kind,
        status,
    )
    assert str(error) in result.content[0].text  # type: ignore[union-attr]
