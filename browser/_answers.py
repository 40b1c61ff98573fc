"""What a turn's snapshots say: whether a caller can see anything yet, the Gemini error codes the
pool acts on, a downgraded answer, and when an exhausted quota resets."""

from __future__ import annotations

import time

from browser._capabilities import Capabilities
from browser._requests import ModeFamily
from browser._selectors import family_of_label, is_light_label
from browser.errors import AccountUnavailable, ProtocolError, UnavailableReason, UpstreamRejected
from browser.protocol import TurnDecoder, TurnSnapshot

# Gemini's error codes (the answer's error frame) that change what the pool does.
USAGE_LIMIT = 1037  # the model family cools on that account until the quota resets
IP_BLOCKED = 1060  # the account is blocked until a re-check
TRANSIENT = 1013  # tried once more on the same account


def shows_answer(snapshot: TurnSnapshot) -> bool:
    """Something a caller can see arrived (text, thoughts or media); ``TurnSnapshot.has_content``
    is the wire's criterion (a content frame arrived, possibly empty)."""
    return bool(
        snapshot.text
        or snapshot.thoughts
        or snapshot.images
        or snapshot.video
        or snapshot.music
        or snapshot.research
        or snapshot.canvas
    )


def final_snapshot(decoder: TurnDecoder) -> TurnSnapshot:
    """The decoder's last word on a body that ended; one cut short before any content is not an
    error yet (the page may still show the answer), one cut short after content is."""
    try:
        return decoder.close()
    except ProtocolError:
        if shows_answer(decoder.snapshot):
            raise
        return decoder.snapshot


def raise_on_error(snapshot: TurnSnapshot) -> None:
    """An error frame with nothing to show is Gemini's refusal (``UpstreamRejected``)."""
    if snapshot.error_code is not None and not shows_answer(snapshot):
        raise UpstreamRejected(snapshot.error_code, snapshot.error_status)


def raise_on_downgrade(capabilities: Capabilities, mode: ModeFamily, snapshot: TurnSnapshot) -> None:
    """The served-model echo (final frame) against what was asked: another family, or a model
    outside every family (Flash-Lite, what a signed-out visitor gets), is an account problem,
    never an answer passed off as the requested model. An echo we cannot place is accepted."""
    hex_id, label = snapshot.served_model_id, snapshot.served_model_label
    if not hex_id and not label:
        return
    offered = next((model for model in capabilities.models if hex_id and model.hex == hex_id), None)
    if offered is not None:
        light = offered.family is None and is_light_label(offered.label)
        family = offered.family
    else:
        light = bool(label) and is_light_label(label or "")
        family = family_of_label(label) if label else None
    if light or (family is not None and family is not mode):
        served = label or hex_id
        raise AccountUnavailable(
            f"asked for {mode.value}, the answer came from {served}",
            reason=UnavailableReason.DOWNGRADED,
        )


def reset_time(snapshot: TurnSnapshot) -> float | None:
    """When the 1037 frame says usage is possible again, as a UNIX time (None when absent or past).

    ``QuotaInfo.reset_at`` picks the exhausted bucket: the earliest reset of *any* bucket would
    end the cooldown when a short window that still has room resets, while the one that ran out
    (often a daily one) still refuses every turn."""
    reset = snapshot.quota.reset_at if snapshot.quota is not None else None
    return reset if reset is not None and reset > time.time() else None
