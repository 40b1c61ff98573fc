"""The catalog holds the seed models as data, and availability follows account capabilities."""

from __future__ import annotations

from browser import AccountState, ModeFamily, Tool
from service.catalog import CATALOG, Catalog, OutputKind, can_serve
from tests.service.scripted_pool import account

find_model = Catalog().find  # the catalog without Gem aliases

SEED = {
    "gemini-2.5-flash-free",
    "gemini-2.5-flash",
    "gemini-2.5-flash-imagen",
    "gemini-2.5-flash-canvas",
    "gemini-2.5-flash-deepsearch",
    "gemini-2.5-flash-storybook",
    "gemini-2.5-pro",
    "gemini-2.5-pro-deepsearch",
    "gemini-2.5-pro-video",
    "gemini-2.5-pro-canvas",
    "gemini-2.5-pro-imagen",
    "gemini-2.5-pro-storybook",
    "gemini-2.5-flash-music",
}


def test_catalog_has_exactly_the_seed_names() -> None:
    assert [spec.name for spec in CATALOG] == sorted(SEED, key=[s.name for s in CATALOG].index)
    assert {spec.name for spec in CATALOG} == SEED


def test_rows_follow_the_design_table() -> None:
    free = find_model("gemini-2.5-flash-free")
    assert free is not None and not free.image_input and free.chat_ready
    video = find_model("gemini-2.5-pro-video")
    assert video is not None and video.family is ModeFamily.PRO and video.tool is Tool.VIDEO
    assert video.output is OutputKind.VIDEO and video.chat_ready
    story = find_model("gemini-2.5-flash-storybook")
    assert story is not None and story.gem == "storybook" and story.tool is None
    assert all(spec.chat_ready for spec in CATALOG)
    assert find_model("gpt-4o") is None


def test_catalog_names_the_browser_enums() -> None:
    # The pool is asked for exactly these values; a copy of the enums could drift (it dropped THINKING).
    assert all(type(spec.family) is ModeFamily for spec in CATALOG)
    assert all(spec.tool is None or type(spec.tool) is Tool for spec in CATALOG)


def test_availability_depends_on_tier_modes_tools_and_state() -> None:
    pro = find_model("gemini-2.5-pro")
    free = find_model("gemini-2.5-flash-free")
    imagen = find_model("gemini-2.5-flash-imagen")
    assert pro is not None and free is not None and imagen is not None
    free_account = account(tier="free", modes=frozenset({ModeFamily.FLASH}), tools=frozenset())
    assert can_serve(free, [free_account])
    assert not can_serve(pro, [free_account])
    assert not can_serve(imagen, [account(tools=frozenset({Tool.CANVAS}))])
    assert can_serve(imagen, [account()])
    assert not can_serve(pro, [account(state=AccountState.SIGNED_OUT)])
    assert not can_serve(pro, [account(state=AccountState.BLOCKED)])
    assert can_serve(pro, [account(state=AccountState.COOLING)])
    assert not can_serve(pro, [])
