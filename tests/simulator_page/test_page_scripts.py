"""The page's own JavaScript units, run inside Chromium: framing decoder and editor normalisation."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.simulator_page.pagekit import NewContext, open_page

pytestmark = pytest.mark.browser


@pytest.fixture
async def page(new_context: NewContext, mid2026_url: str) -> Page:
    return await open_page(new_context, mid2026_url, None)


async def test_frame_reader_handles_every_split_point_and_utf16_lengths(page: Page) -> None:
    result = await page.evaluate(
        """async () => {
            const { FrameReader } = await import('/static/framing.js');
            const frame = (value) => {
                const json = JSON.stringify(value);
                return `${json.length + 2}\\n${json}\\n`;
            };
            const frames = [
                [["wrb.fr", null, "[\\"😄 你好 \\\\u003d\\"]"]], [["di", 3]], [["e", 3, null, null, 99]],
            ];
            const body = ")]}'\\n\\n" + frames.map(frame).join("");
            const failures = [];
            for (let cut = 0; cut <= body.length; cut++) {
                const reader = new FrameReader();
                const got = [...reader.read(body.slice(0, cut)), ...reader.read(body)];
                const same = JSON.stringify(got) === JSON.stringify(frames);
                if (!same || !reader.drained(body)) failures.push(cut);
            }
            return { failures, length: body.length };
        }"""
    )
    assert result["length"] > 40
    assert result["failures"] == []


async def test_frame_reader_rejects_a_body_without_the_guard(page: Page) -> None:
    message = await page.evaluate(
        """async () => {
            const { FrameReader } = await import('/static/framing.js');
            try { new FrameReader().read('<html>sorry</html>'); return 'accepted'; }
            catch (error) { return error.constructor.name; }
        }"""
    )
    assert message == "FramingError"


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>a</p><p>b</p>", "a\nb"),
        ("<p>a</p><p><br></p><p>b</p>", "a\n\nb"),
        ("<p>a<br></p>", "a"),
        ("<p>a<br><br></p>", "a\n"),
        ("<p><br></p>", ""),
        ("", ""),
        ("<div>x&nbsp;&nbsp;y</div>", "x  y"),
        ("plain<div>block</div>tail", "plain\nblock\ntail"),
        ("<p>one\ntwo</p>", "one\ntwo"),
        ("<p><span>in</span>line</p><p>  </p>", "inline\n  "),
    ],
)
async def test_editor_dom_to_text(page: Page, html: str, text: str) -> None:
    got = await page.evaluate(
        """async (html) => {
            const { domToText } = await import('/static/editor.js');
            const root = document.createElement('div');
            root.innerHTML = html;
            return domToText(root);
        }""",
        html,
    )
    assert got == text


async def test_markdown_renders_code_language_strip_and_escapes(page: Page) -> None:
    html = await page.evaluate(
        """async () => {
            const { renderMarkdown } = await import('/static/markdown.js');
            const source = "**Bold** <b>raw</b>\\n\\n- one\\n- two\\n\\n```python\\nprint('<x>')\\n```";
            return renderMarkdown(source);
        }"""
    )
    assert "<b>Bold</b>" in html
    assert "&lt;b&gt;raw" in html
    assert "<ul><li>one</li><li>two</li></ul>" in html
    assert '<div class="code-block-decoration header-formatted gds-title-s"><span>Python</span>' in html
    assert "print(&#39;&lt;x&gt;&#39;)" in html
