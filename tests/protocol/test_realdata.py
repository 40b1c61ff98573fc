"""The real captures in ../shared/realdata/protocol decode to their recorded texts and codes.

The bodies are discovered from the folder, so a capture added there cannot go untested: each needs a
recorded expectation below and a row in the folder's README table (bytes, frames, items).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import pytest

from browser.protocol import TrailerEnvelope, TurnDecoder, check_framing, decode_turn, parse_frame, split_body
from tests.support.paths import REALDATA, realdata

CAPTURE_1_TEXT = (
    "看样子你现在可能有点困惑，或者是在测试我能给出什么反应？😄\n\n"
    "如果你是遇到了什么技术上的**报错**（比如之前提到的 Token 无效之类的问题），"
    "或者是想讨论关于 **Java、Python、Tauri** 或者 **AI 部署**方面的新想法，可以直接发给我。\n\n"
    "哪怕只是想随便聊聊或者打发时间，我也在这里。需要我帮你做点什么吗？"
)
CAPTURE_DIR = REALDATA / "protocol"
# Bodies are the .txt files; the README and the request notes beside them are .md.
DISCOVERED = sorted(path.name for path in CAPTURE_DIR.glob("*.txt")) if CAPTURE_DIR.is_dir() else []


@dataclass(frozen=True)
class Expected:
    """What a capture must decode to, as its README records it."""

    content_frames: int = 0
    text: str | None = None  # the exact final text
    text_length: int | None = None  # when the README gives only length, start and end
    starts: str = ""
    ends: str = ""
    error: tuple[int, int] | None = None  # (BardErrorInfo code, status) of an error-only body


EXPECTED = {
    "streamgenerate_capture_1.txt": Expected(content_frames=12, text=CAPTURE_1_TEXT),
    "streamgenerate_capture_2.txt": Expected(
        content_frames=18,
        text_length=229,
        starts="看来我们陷入了一个“问号与斜杠”的迷阵！😄",
        ends="**需要我帮你排查某个具体的 Bug，还是咱们换个话题聊聊？**",
    ),
    "error_1060.txt": Expected(error=(1060, 9)),
    "error_1096.txt": Expected(error=(1096, 13)),
}
_README_ROW = re.compile(r"^\| `([^`]+)` \| ([\d,]+) \| (\d+) frames, (\d+) items \|", re.MULTILINE)


def _read(name: str) -> bytes:
    return realdata("protocol", name).read_bytes()


def _readme_rows() -> dict[str, tuple[int, int, int]]:
    """The README's file table: name -> (bytes, frames, items)."""
    text = realdata("protocol", "README.md").read_text(encoding="utf-8")
    return {m[1]: (int(m[2].replace(",", "")), int(m[3]), int(m[4])) for m in _README_ROW.finditer(text)}


def test_every_capture_has_an_expectation_and_a_readme_row() -> None:
    realdata("protocol")
    assert DISCOVERED, f"no *.txt capture found in {CAPTURE_DIR}"
    rows = _readme_rows()
    unexpected = [name for name in DISCOVERED if name not in EXPECTED]
    assert not unexpected, f"captures without a recorded expectation (add them to EXPECTED): {unexpected}"
    undocumented = [name for name in DISCOVERED if name not in rows]
    assert not undocumented, f"captures missing from the table in {CAPTURE_DIR / 'README.md'}: {undocumented}"
    stale = sorted(set(EXPECTED) - set(DISCOVERED))
    assert not stale, f"expectations for captures that no longer exist: {stale}"


@pytest.mark.parametrize("name", DISCOVERED)
def test_capture_decodes_as_recorded(name: str) -> None:
    if name not in EXPECTED:
        pytest.fail(f"{name} has no recorded expectation: add its final text or error code to EXPECTED")
    expected = EXPECTED[name]
    body = _read(name)
    assert check_framing(body) == []
    size, frames, items = _readme_rows()[name]
    texts = split_body(body)
    envelopes = [envelope for text in texts for envelope in parse_frame(text)]
    assert (len(body), len(texts), len(envelopes)) == (size, frames, items)
    assert envelopes[-1] == TrailerEnvelope(items, size)
    snapshot = decode_turn(body)
    if expected.error is not None:
        assert (snapshot.error_code, snapshot.error_status) == expected.error
        assert snapshot.failed and snapshot.frames == 0 and snapshot.text == ""
        return
    assert snapshot.completed and not snapshot.failed and snapshot.frames == expected.content_frames
    if expected.text is not None:
        assert snapshot.text == expected.text
    if expected.text_length is not None:
        assert len(snapshot.text) == expected.text_length
    assert snapshot.text.startswith(expected.starts) and snapshot.text.endswith(expected.ends)


def test_capture_1_final_state() -> None:
    snapshot = decode_turn(_read("streamgenerate_capture_1.txt"))
    assert snapshot.text == CAPTURE_1_TEXT == snapshot.raw_text
    assert (snapshot.cid, snapshot.rid, snapshot.rcid) == (
        "c_d6dbca301acebf01",
        "r_d6f91f19c9255d26",
        "rc_c2258d83f72dc3f6",
    )
    assert (snapshot.served_model_id, snapshot.served_model_label) == ("fbb127bbb056c959", "Fast")
    assert snapshot.completed and snapshot.frames == 12 and not snapshot.failed
    assert snapshot.context_token == "AwAAAAAAAAAQANM7mBjXKZQ55XBf0Rk"
    assert snapshot.error_code is None and snapshot.thoughts == "" and snapshot.images == ()
    assert snapshot.quota is not None and snapshot.quota.model_id == "fbb127bbb056c959"
    first, second = snapshot.quota.buckets
    assert first.reset_at == pytest.approx(1774263794.062)
    assert (first.limit, first.remaining, second.limit, second.remaining) == (15, 14, 200, 197)


def test_capture_2_final_text() -> None:
    snapshot = decode_turn(_read("streamgenerate_capture_2.txt"))
    text = snapshot.text
    assert len(text) == 229
    assert text.startswith("看来我们陷入了一个“问号与斜杠”的迷阵！😄")
    assert text.endswith("**需要我帮你排查某个具体的 Bug，还是咱们换个话题聊聊？**")
    assert [line for line in text.split("\n") if line.startswith("* **")] == [
        "* **代码跑不通**：比如又弹出了什么奇怪的 HTTP 状态码？",
        "* **环境配置卡壳**：比如 Docker 容器又不听话了？",
        "* **项目构思断了**：想给 CodeForgeAI 加新功能但没头绪？",
    ]
    assert snapshot.rid == "r_336ecf73ea6dd027" and snapshot.frames == 18 and snapshot.completed


def test_capture_1_snapshots_are_cumulative() -> None:
    decoder = TurnDecoder()
    snapshots = decoder.feed(_read("streamgenerate_capture_1.txt"))
    final = decoder.close()
    # One snapshot each for the locator, the 12 content frames, the quota and the context token.
    assert [s.frames for s in snapshots] == [0, *range(1, 13), 12, 12]
    texts = [s.text for s in snapshots]
    assert all(final.text.startswith(text) for text in texts)
    assert all(len(a) <= len(b) for a, b in itertools.pairwise(texts[1:13]))
    assert snapshots[13].quota is not None and snapshots[13].context_token is None
    assert snapshots[-1] == final and final.context_token is not None and decoder.finished


def test_first_snapshot_arrives_with_the_first_content_frame_bytes() -> None:
    data = _read("streamgenerate_capture_1.txt")
    # Lines: guard, blank, locator length, locator, content length, content (ends with "\n").
    end = len(b"\n".join(data.split(b"\n")[:6])) + 1
    decoder = TurnDecoder()
    early = decoder.feed(data[: end - 1])
    assert [s.frames for s in early] == [0]  # only the locator: rid known, no text yet
    assert early[0].rid == "r_d6f91f19c9255d26" and early[0].cid is None
    (first,) = decoder.feed(data[end - 1 : end])
    assert first.frames == 1 and first.text == "看样子你现在" and first.cid == "c_d6dbca301acebf01"
    assert not decoder.finished
