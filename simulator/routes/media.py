"""Generated media URLs: ``/gg-dl/<token>=<option>`` images with their text hops, and video downloads."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from simulator.accounts import SESSION_COOKIE
from simulator.images import original_png, variant, web_image_jpeg
from simulator.music import MusicTrack, mp3
from simulator.routes.common import base_url, sim

router = APIRouter()

ASSETS = Path(__file__).resolve().parents[1] / "assets"
VIDEO = ASSETS / "video.mp4"
THUMBNAIL = ASSETS / "video_thumbnail.jpg"


def _forbidden(request: Request) -> Response | None:
    if not request.cookies.get(SESSION_COOKIE):
        return PlainTextResponse("Forbidden", status_code=403)
    return None


def _image(request: Request, rest: str, hop: str) -> Response:
    """``/gg-dl/<token>[=<option>]``; ``=d-I`` starts the download chain of protocol.md §7: two
    text/plain hops (``/rd-gg/``, then ``/rd-gg-dl/``), then the original's bytes."""
    denied = _forbidden(request)
    if denied is not None:
        return denied
    token, _, option = rest.rpartition("=") if "=" in rest else (rest, "", "")
    state = sim(request)
    spec = state.images.get(token)
    if spec is None:
        return PlainTextResponse("Not Found", status_code=404)
    directory = state.settings.watermark_dir
    # Google answers the download option with the next hop as text; cookies go on each hop.
    if hop == "" and option.startswith("d-I"):
        return PlainTextResponse(f"{base_url(request)}/rd-gg/{token}=d-I?alr=yes")
    if hop == "rd-gg":
        return PlainTextResponse(f"{base_url(request)}/rd-gg-dl/{token}=s0")
    if hop == "rd-gg-dl":
        return Response(original_png(spec, directory), media_type="image/png")
    served = variant(spec, option, directory)
    if served is None:
        return PlainTextResponse("Bad Request", status_code=400)
    return Response(served.body, media_type=served.media_type)


@router.get("/gg-dl/{rest:path}")
async def generated_image(request: Request, rest: str) -> Response:
    return _image(request, rest, hop="")


@router.get("/rd-gg/{rest:path}")
async def generated_image_first_hop(request: Request, rest: str) -> Response:
    return _image(request, rest, hop="rd-gg")


@router.get("/rd-gg-dl/{rest:path}")
async def generated_image_hop(request: Request, rest: str) -> Response:
    return _image(request, rest, hop="rd-gg-dl")


@router.get("/webimg/{name}")
async def web_image(name: str) -> Response:
    """Web images (c[12][1]) come from public sites: no cookie needed (unlike ``gg-dl``)."""
    seed = name.removesuffix(".jpg")
    if not seed or not all(ch.isdigit() or ch == "_" for ch in seed):
        return PlainTextResponse("Not Found", status_code=404)
    return Response(web_image_jpeg(seed), media_type="image/jpeg")


@router.get("/download")
async def download(request: Request, c: str = "", filename: str = "video.mp4") -> Response:
    """206 with an empty body while the video renders, then the file (a small real MP4); a music
    track's files at once (its answer came only when it was rendered)."""
    denied = _forbidden(request)
    if denied is not None:
        return denied
    state = sim(request)
    track = state.music.get(c)
    if track is not None:
        return _music(track, filename)
    job = state.videos.get(c)
    if job is None:
        return PlainTextResponse("Not Found", status_code=404)
    if not state.video_ready(job):
        return Response(b"", status_code=206, media_type="video/mp4", headers={"Content-Range": "bytes */0"})
    if filename.endswith(".jpg"):
        return Response(THUMBNAIL.read_bytes(), media_type="image/jpeg")
    return Response(
        VIDEO.read_bytes(),
        media_type="video/mp4",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _music(track: MusicTrack, filename: str) -> Response:
    """A Create-music track (simulator/music.py): the MP3 written for its prompt, the MP4 (the video
    asset) or the cover (the video's thumbnail), by the file name the answer's URL asks for."""
    if filename.endswith(".jpg"):
        return Response(THUMBNAIL.read_bytes(), media_type="image/jpeg")
    if filename.endswith(".mp4"):
        data, mime = VIDEO.read_bytes(), "video/mp4"
    else:
        data, mime = mp3(track.prompt), "audio/mpeg"
    return Response(
        data, media_type=mime, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
