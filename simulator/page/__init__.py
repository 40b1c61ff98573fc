"""The simulated Gemini app page: an HTML renderer and the static JavaScript/CSS it loads."""

from __future__ import annotations

from simulator.page.model import PageModel
from simulator.page.render import STATIC_DIR, render_app_page

__all__ = ["STATIC_DIR", "PageModel", "render_app_page"]
