"""``AdminPool``: the name the admin tests use for the ``ScriptedPool``, which has the pool's account
administration (add, remove, check, pause, resume, screenshot) itself: every pool fake implements
the whole port (``service.backend.Backend``) through ``service.pool_adapter.BrowserBackend``."""

from __future__ import annotations

from tests.service.scripted_pool import ScriptedPool, png

__all__ = ["AdminPool", "png"]

AdminPool = ScriptedPool
