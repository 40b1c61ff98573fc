"""The page's side RPCs (batchexecute), one module per family; ``HANDLERS`` maps rpc id to handler."""

from __future__ import annotations

from simulator.rpcs import chats, full_size, gems, research, settings, status, usage, video
from simulator.rpcs.base import Handler

HANDLERS: dict[str, Handler] = {
    "otAQ7b": status.answer,
    "ESY5D": settings.answer,
    "MaZiqc": chats.list_chats,
    "hNvQHb": chats.read_chat,
    "GzXR5e": chats.delete_chat,
    "qWymEb": chats.delete_chat,
    "CNgdBe": gems.answer,
    "c8o8Fe": full_size.answer,
    "kwDCne": research.answer,
    "jSf9Qc": usage.answer,
    "MUAZcd": video.answer,
}
