"""What the fast tier leaves uncollected (tests/support/tiers.py): only files none of whose tests
it could run."""

from __future__ import annotations

from tests.support import tiers


def test_browser_directories_and_listed_modules_are_outside_the_fast_tier() -> None:
    assert tiers.outside_fast("tests/e2e/")
    assert tiers.outside_fast("tests/browser/test_browser_pool.py")
    assert tiers.outside_fast("tests/simulator_page/")
    assert tiers.outside_fast("tests/service/test_doctor.py")  # Chromium and a subprocess
    assert tiers.outside_fast("tests/test_docs.py")  # a subprocess
    assert tiers.outside_fast("tests/test_lock.py")  # a packaging check


def test_the_rest_is_collected() -> None:
    assert not tiers.outside_fast("tests/")
    assert not tiers.outside_fast("tests/service/")
    assert not tiers.outside_fast("tests/service/test_compat_completions.py")
    assert not tiers.outside_fast("tests/simulator/")  # the simulator's server, not its page
    assert not tiers.outside_fast("tests/test_layering.py")
