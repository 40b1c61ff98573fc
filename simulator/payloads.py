"""The inner payloads of StreamGenerate frames, laid out like the real ones (protocol.md §5-§6).

Only the slots clients read are filled; the rest stay ``null`` in the same dense positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.music import music_field

IMAGE_PLACEHOLDER = "http://googleusercontent.com/image_generation_content/{n}"
VIDEO_CHIP = "http://googleusercontent.com/video_gen_chip/0"
IMMERSIVE_CHIP = "http://googleusercontent.com/immersive_entry_chip/0"
# The two-segment kind PWA handles (F20); real numbers are ~20 digits, then ``_<index>``.
WEB_IMAGE_PLACEHOLDER = "http://googleusercontent.com/image_collection/image_retrieval/{n}_{i}"

_CHIPS = [
    [[[1004, "More detailed", 5, None], [1005, "Shorter", 6, None], [1001, "Retry", 1, None]]],
]


@dataclass(frozen=True)
class GeneratedImage:
    url: str
    name: str
    token: str
    placeholder: str
    prompt: str
    index: int
    edited: bool = False  # an image-to-image result: sent at c[12][0]["8"][0] (protocol.md §6.2)


@dataclass(frozen=True)
class ResearchPlan:
    research_id: str
    title: str
    steps: list[tuple[str, str]]
    eta: str
    state: int


@dataclass(frozen=True)
class WebImageRef:
    """A web image as c[12][1] lists it: URL, alt, and the page title it was found on."""

    url: str
    alt: str
    title: str


@dataclass
class CandidateView:
    """What one snapshot of the answer shows; every field is cumulative like the real stream."""

    rcid: str
    text: str = ""
    thoughts: str = ""
    images: list[GeneratedImage] = field(default_factory=list)
    web_images: list[WebImageRef] = field(default_factory=list)
    video_pending_job: str | None = None
    video: tuple[str, str] | None = None  # (thumbnail url, video url)
    music: tuple[str, str, str, str] | None = None  # (mp3 thumb, mp3 url, mp4 thumb, mp4 url)
    canvas: tuple[str, str, str] | None = None  # (id, title, document)
    research: ResearchPlan | None = None
    lang: str = "en"


def locator(rid: str, token: str, async_job: bool) -> list[object]:
    """The first frame: rid before cid, a 43-char token, ``"44"`` true for async jobs (video)."""
    return [None, [None, rid], {"18": rid, "21": [token], "44": async_job}]


def content(
    cid: str, rid: str, view: CandidateView, final: bool, model: tuple[str, str] | None
) -> list[object]:
    """A dense content payload; the final one carries ``[8]=[2]`` and the served-model echo."""
    inner: list[object] = [None] * 48
    inner[1] = [cid, rid]
    inner[4] = [candidate(view, final)]
    inner[8] = "US"
    inner[14] = final
    inner[19] = view.lang
    inner[23] = True
    if final and model is not None:
        inner[39], inner[42] = model
        inner[43] = False
        inner[44] = _CHIPS
    inner[46], inner[47] = 1, 2
    return inner


DRIFTED_CANDIDATE_KEY = "61"  # inner[60] in the trailing-object form


def drifted(inner: list[object]) -> list[object]:
    """``inner`` with its candidates moved to where a future layout might keep them (test behaviour)."""
    moved = list(inner)
    moved[4] = None
    moved.append({DRIFTED_CANDIDATE_KEY: inner[4]})
    return moved


def candidate(view: CandidateView, final: bool) -> list[object]:
    cand: list[object] = [None] * 44
    cand[0] = view.rcid
    cand[1] = [view.text]
    cand[2] = [None, None, None, None, [None, None, 8]] if final else None
    cand[6] = True
    cand[8] = [2 if final else 1]
    cand[9] = view.lang
    cand[12] = _rich(view)
    if view.canvas is not None:
        canvas_id, title, document = view.canvas
        cand[30] = [[canvas_id, title, document]]
    if view.thoughts:
        cand[37] = [[view.thoughts]]
    cand[43] = [10, 10, 10]
    if view.research is not None:
        cand.append(_research(view.research))
    return cand


def _rich(view: CandidateView) -> list[object] | None:
    if view.video_pending_job is not None and view.video is None:
        return pending_video(view.video_pending_job)
    if not view.images and view.video is None and not view.web_images and view.music is None:
        return None
    if view.images and all(image.edited for image in view.images) and view.video is None:
        # Edit results come as c[12] holding one field object, like the real answers (GA 2026-04).
        return [{"8": [[_image_entry(image) for image in view.images]]}]
    rich: list[object] = [None] * (87 if view.music is not None else 60)
    if view.web_images:
        rich[1] = [web_image_entry(image) for image in view.web_images]
    if view.images:
        rich[7] = [[_image_entry(image) for image in view.images]]
    if view.video is not None:
        rich[59] = video_target(*view.video)
    if view.music is not None:
        rich[86] = music_field(*view.music)  # c[12][86] (protocol.md §6, GA 2026-03)
    return rich


def pending_video(job: str) -> list[object]:
    """c[12] of a video still rendering: a lone field object with the job chip (J3, Rust test body)."""
    return [{"65": [[VIDEO_CHIP], job]}]


def video_target(thumbnail: str, url: str) -> list[object]:
    """Field 60 of c[12]: ``target[0][0][0][0][7] = [thumbnail, url]`` (J2, GA, VJOB Go test)."""
    info: list[object] = [None] * 8
    info[7] = [thumbnail, url]
    return [[[[info]]]]


def finished_video(thumbnail: str, url: str, sparse: bool) -> list[object]:
    """c[12] of a rendered video in either encoder form (VJOB Go test): dense ``c[12][59]`` or the
    sparse ``[null, {"60": target}]`` whose trailing object stands for field 60."""
    target = video_target(thumbnail, url)
    if sparse:
        return [None, {"60": target}]
    dense: list[object] = [None] * 60
    dense[59] = target
    return dense


def web_image_entry(image: WebImageRef) -> list[object]:
    """``[0][0][0]`` URL, ``[0][4]`` alt, ``[7][0]`` title (I2, GA ``_parse_candidate``)."""
    return [[[image.url], None, None, None, image.alt], None, None, None, None, None, None, [image.title]]


def _image_entry(image: GeneratedImage) -> list[object]:
    return [
        [None, None, None, [None, 1, image.name, image.url, None, image.token]],
        [image.placeholder],
        None,
        [image.index, image.prompt],
    ]


def _research(plan: ResearchPlan) -> dict[str, object]:
    steps = [[None, label, body] for label, body in plan.steps]
    body: list[object] = [
        plan.title,
        steps,
        plan.eta,
        ["Start research"],
        [f"https://gemini.google.com/deep_research/{plan.research_id}"],
        None,
    ]
    return {"56": body, "70": plan.state, "71": plan.research_id}


def quota(cid: str, rid: str, model_hex: str, reset_at: float) -> list[object]:
    """The object-form quota frame ``{"28": ...}``; the two buckets mirror the real capture."""
    seconds = int(reset_at)
    nanos = int((reset_at - seconds) * 1e9)
    buckets = [
        [[1, 20, 1], 1, 6, [seconds, nanos], 15, 14],
        [[1, 16, 1], 1, 1, [seconds, nanos], 200, 197],
    ]
    return [None, [cid, rid], {"28": [buckets, model_hex], "44": False}]


def exhausted_quota(cid: str | None, rid: str, model_hex: str, reset_at: float) -> list[object]:
    """Quota frame of a usage-limited account: no requests remain until ``reset_at``."""
    seconds = int(reset_at)
    buckets = [[[1, 20, 1], 1, 6, [seconds, 0], 15, 0], [[1, 16, 1], 1, 1, [seconds, 0], 200, 0]]
    return [None, [cid, rid], {"28": [buckets, model_hex], "44": False}]


def context(cid: str, rid: str, token: str) -> list[object]:
    """The object-form context-token frame ``{"26": ...}``: the turn is saved to history."""
    return [None, [cid, rid], {"26": token, "44": False}]


def stats(elapsed_ms: int, trace: str, count: int) -> list[object]:
    """The ``di`` and ``af.httprm`` items Google appends before the trailer."""
    return [["di", elapsed_ms], ["af.httprm", elapsed_ms, trace, count]]
