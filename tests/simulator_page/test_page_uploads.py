"""The transient upload input, the file chooser, upload chips and the bytes reaching the server."""

from __future__ import annotations

import hashlib
import io
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.async_api import FilePayload, Page, Request

from tests.simulator_page.pagekit import (
    SEND,
    NewContext,
    SimControl,
    account,
    account_id,
    open_page,
    type_prompt,
    upload_item,
    upload_opener,
    wait_answer,
)

pytestmark = pytest.mark.browser

DOCUMENT = "name,value\nå,1\n".encode()
FILE_INPUT = "images-files-uploader input[type=file][name=Filedata].hidden-file-input[multiple]"


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 30, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


IMAGE = png_bytes()


async def test_input_exists_only_while_the_menu_is_open(
    new_context: NewContext, sim_url: str, ui: str
) -> None:
    page = await open_page(new_context, sim_url, account("paid"))
    assert await page.locator("input[type=file]").count() == 0
    await page.locator(upload_opener(ui)).click()
    await page.wait_for_selector(f".cdk-overlay-pane {FILE_INPUT}", state="attached")
    await page.keyboard.press("Escape")
    await page.wait_for_selector("input[type=file]", state="detached")
    if ui != "early2026":
        decoy = page.locator(".cdk-overlay-pane button.hidden-local-file-image-selector-button")
        await page.locator(upload_opener(ui)).click()
        assert await decoy.count() == 1
        assert not await decoy.is_visible()


async def test_files_upload_and_reach_stream_generate_intact(
    new_context: NewContext, sim_url: str, sim: SimControl, ui: str
) -> None:
    psid = account("paid")
    async with sim.configured(upload_delay=1.5):
        page = await open_page(new_context, sim_url, psid)
        uploads: list[Request] = []
        page.on("request", lambda request: uploads.append(request) if "/upload/" in request.url else None)
        await upload_two_files_and_send(page, ui)
    # E7: resumable and cross-origin, to the same port under the other loopback name.
    port = urlsplit(sim_url).port
    starts = [r for r in uploads if r.method == "POST" and r.headers.get("x-goog-upload-command") == "start"]
    finals = [r for r in uploads if r.headers.get("x-goog-upload-command") == "upload, finalize"]
    assert len(starts) == len(finals) == 2
    for start in starts:
        assert start.url.startswith(f"http://127.0.0.1:{port}/upload/?")
        headers = start.headers
        assert (headers["x-goog-upload-protocol"], headers["x-tenant-id"]) == ("resumable", "bard-storage")
        assert (
            headers["push-id"] == "feeds/mcudyrk2a4khkz"
            and int(headers["x-goog-upload-header-content-length"]) > 0
        )
        assert (start.post_data or "").startswith("File name: ")
    assert all(final.headers["x-goog-upload-offset"] == "0" for final in finals)
    log = [entry for entry in await sim.uploads() if entry["account_id"] == account_id(psid)]
    assert {(entry["protocol"], entry["origin"], entry["account"]) for entry in log} == {
        ("resumable", f"http://localhost:{port}", "paid")
    }
    [logged] = await sim.requests(psid)
    files = {entry["name"]: entry for entry in logged["files"]}
    assert files["picture.png"]["sha256"] == hashlib.sha256(IMAGE).hexdigest()
    assert files["picture.png"]["mime"] == "image/png"
    assert files["table.csv"]["sha256"] == hashlib.sha256(DOCUMENT).hexdigest()


async def upload_two_files_and_send(page: Page, ui: str) -> None:
    """One file through the file chooser, one set on the input directly; send once both finished."""
    image, document = IMAGE, DOCUMENT
    document = "name,value\nå,1\n".encode()

    await page.locator(upload_opener(ui)).click()
    async with page.expect_file_chooser() as chooser_info:
        await page.locator(upload_item(ui)).click()
    chooser = await chooser_info.value
    assert chooser.is_multiple()
    await chooser.set_files([FilePayload(name="picture.png", mimeType="image/png", buffer=image)])
    await page.wait_for_selector("input[type=file]", state="detached")

    await page.locator(upload_opener(ui)).click()
    await page.locator(FILE_INPUT).set_input_files(
        [FilePayload(name="table.csv", mimeType="text/csv", buffer=document)]
    )

    chips = page.locator("input-container uploader-file-preview[data-test-id=uploaded-file]")
    await type_prompt(page, "Describe these files")
    assert await chips.count() == 2
    assert await page.locator("input-container [aria-busy=true]").count() >= 1
    assert await page.locator("input-container [role=progressbar]").count() >= 1
    assert await page.locator(SEND).get_attribute("aria-disabled") == "true"
    await page.locator(SEND).click(force=True)  # Playwright itself would wait for aria-disabled to clear
    assert await chips.count() == 2, "a click during upload must not send"
    preview = await chips.nth(0).locator("gem-media-attachment img").get_attribute("src")
    assert preview is not None and preview.startswith("blob:")
    assert (await chips.nth(0).locator("[data-test-id=filename-label]").inner_text()) == "picture.png"

    await page.wait_for_selector("input-container [aria-busy=true]", state="detached")
    assert await page.locator("input-container [role=progressbar]").count() == 0
    assert await page.locator(SEND).get_attribute("aria-disabled") == "false"
    await page.locator(SEND).click()
    await wait_answer(page)
    assert await chips.count() == 0
