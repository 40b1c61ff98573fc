"""File and audio parts, bare image URLs and model-name matching over real HTTP on a ScriptedPool."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import pytest

from tests.service.conftest import API_KEY, Served
from tests.service.test_service_inputs import data_url, png_bytes

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
WAV = b"RIFF$\x00\x00\x00WAVEfmt " + bytes(range(32))


def post(served: Served, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    return httpx.post(f"{served.url}/v1/chat/completions", json=body, headers=headers, timeout=15)


def ask(*parts: dict[str, Any], model: str = "gemini-2.5-flash") -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Read."}, *parts]}],
    }


def pdf_part(
    data: bytes = PDF, name: str = "report.pdf", prefix: str = "data:application/pdf;base64,"
) -> dict[str, Any]:
    return {"type": "file", "file": {"file_data": prefix + base64.b64encode(data).decode(), "filename": name}}


def test_pdf_and_audio_are_uploaded_intact_and_named_in_the_prompt(gateway: Served) -> None:
    audio = {"type": "input_audio", "input_audio": {"data": base64.b64encode(WAV).decode(), "format": "wav"}}
    post(gateway, ask(pdf_part(), audio)).raise_for_status()
    (request,) = gateway.pool.requests
    pdf, wav = request.attachments
    assert (pdf.name, pdf.mime, hashlib.sha256(pdf.data).digest()) == (
        "report.pdf",
        "application/pdf",
        hashlib.sha256(PDF).digest(),
    )
    assert wav.mime == "audio/wav" and wav.data == WAV and wav.name.endswith(".wav")
    assert "[file report.pdf]" in request.prompt and "[file audio.wav]" in request.prompt


def test_bare_base64_takes_its_type_from_the_filename(gateway: Served) -> None:
    post(gateway, ask(pdf_part(b"# Title\n", name="../notes.md", prefix=""))).raise_for_status()
    (upload,) = gateway.pool.requests[0].attachments
    assert upload.name == "notes.md" and upload.mime == "text/markdown" and upload.data == b"# Title\n"


@pytest.mark.parametrize(
    ("part", "status", "words"),
    [
        (
            pdf_part(b"MZ", name="tool.exe", prefix="data:application/x-msdownload;base64,"),
            400,
            "Unsupported file type",
        ),
        ({"type": "file", "file": {"file_id": "file-abc"}}, 400, "file_id is not supported"),
        (
            {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "opus"}},
            400,
            "Unsupported input_audio",
        ),
        (pdf_part(prefix="data:application/pdf;base64,!!"), 400, "not valid base64"),
        (pdf_part(b"x" * 2048), 413, "exceeds the limit"),
    ],
)
def test_what_gemini_does_not_take_is_a_clear_error(
    serve_gateway: Any, part: dict[str, Any], status: int, words: str
) -> None:
    served = serve_gateway(max_image_bytes=1024)
    response = post(served, ask(part))
    assert response.status_code == status and words in response.json()["error"]["message"]
    assert served.pool.requests == []


def test_image_url_as_a_bare_string(gateway: Served) -> None:
    part = {"type": "image_url", "image_url": data_url(png_bytes())}
    post(gateway, ask(part)).raise_for_status()
    (upload,) = gateway.pool.requests[0].attachments
    assert upload.mime == "image/png"


@pytest.mark.parametrize("name", ["Gemini-2.5-Flash", "models/gemini-2.5-flash", "MODELS/GEMINI-2.5-FLASH"])
def test_model_names_match_case_insensitively_with_the_models_prefix(gateway: Served, name: str) -> None:
    body = post(gateway, {"model": name, "messages": [{"role": "user", "content": "Hi"}]}).json()
    assert body["model"] == name and body["choices"][0]["message"]["content"] == "You said: Hi"
