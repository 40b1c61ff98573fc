"""The per-egress budget (``browser._egress``) on a fake clock: concurrency, the sliding minute and
hour windows, the Retry-After it gives, the captcha cooldown, and the limits settings give an egress."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from browser import PoolSettings
from browser._egress import DIRECT, EgressBudget, Limits, egress_name


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def budget(limits: Limits, clock: FakeClock, wall: FakeClock | None = None) -> EgressBudget:
    return EgressBudget("http://127.0.0.1:9", limits, clock=clock, wall=wall or FakeClock(1.7e9))


def test_per_minute_window_slides() -> None:
    clock = FakeClock()
    egress = budget(Limits(per_minute=3), clock)
    for _ in range(2):
        assert egress.can_start()
        egress.start()
        egress.release()
        clock.now += 10  # starts at 1000, 1010, 1020
    assert egress.can_start()
    egress.start()
    egress.release()
    assert not egress.can_start(), "a fourth start inside 60 s is over the budget"
    # The oldest start (t=1000) leaves the window at 1060; now is 1020.
    assert egress.next_start_in() == pytest.approx(40.0)
    assert egress.retry_after() == 40.0
    clock.now += 0.5
    assert egress.retry_after() == 40.0, "rounded up: a client coming back sooner would be refused again"
    clock.now = 1059.5
    assert not egress.can_start()
    assert egress.retry_after() == 1.0, "never less than one second"
    clock.now = 1060.0
    assert egress.can_start(), "the window slid past the oldest start"
    egress.start()
    # Now starts at 1010, 1020, 1060: the next slot frees when 1010 leaves, at 1070.
    assert egress.next_start_in() == pytest.approx(10.0)


def test_per_hour_window_counts_an_hour_not_a_minute() -> None:
    clock = FakeClock()
    egress = budget(Limits(per_minute=0, per_hour=4), clock)
    for _ in range(4):
        egress.start()
        egress.release()
        clock.now += 120
    # Starts at 1000, 1120, 1240, 1360; now 1480: the hour is full until 1000 + 3600.
    assert not egress.can_start()
    assert egress.next_start_in() == pytest.approx(4600 - 1480)
    info = egress.info()
    assert (info.started_last_minute, info.started_last_hour, info.started) == (0, 4, 4)
    clock.now = 4600.0
    assert egress.can_start()
    assert egress.info().started_last_hour == 3


def test_both_windows_the_later_decides() -> None:
    clock = FakeClock()
    egress = budget(Limits(per_minute=2, per_hour=3), clock)
    for step in (0, 1, 70):
        clock.now = 1000 + step
        assert egress.can_start()
        egress.start()
        egress.release()
    clock.now = 1071
    # The minute has one start (1070) so it allows one more; the hour (three) does not, until 4600.
    assert egress.next_start_in() == pytest.approx(4600 - 1071)


def test_concurrency_frees_on_release_even_after_an_error() -> None:
    clock = FakeClock()
    egress = budget(Limits(concurrency=2), clock)
    egress.start()
    egress.start()
    assert not egress.has_slot() and not egress.can_start()
    assert egress.next_start_in() == 0.0, "no window limit: only concurrency holds it"
    try:
        raise RuntimeError("the turn failed")
    except RuntimeError:
        egress.release()
    assert egress.can_start()
    assert egress.info().running == 1
    egress.release()
    egress.release()  # a second release never makes running negative
    assert egress.info().running == 0


def test_unlimited_when_zero() -> None:
    clock = FakeClock()
    egress = budget(Limits(), clock)
    for _ in range(500):
        assert egress.can_start()
        egress.start()
    assert egress.info().running == 500


def test_cooling_holds_the_egress_and_sets_retry_after() -> None:
    clock, wall = FakeClock(), FakeClock(1.7e9)
    egress = budget(Limits(), clock, wall)
    egress.cool(wall.now + 7200)
    egress.cool(wall.now + 60)  # an earlier end never shortens a running cooldown
    assert not egress.can_start()
    assert egress.retry_after() == 7200.0
    assert egress.info().cooling_until == wall.now + 7200
    wall.now += 7200
    assert egress.can_start()
    assert egress.info().cooling_until is None


def test_counters() -> None:
    egress = budget(Limits(per_minute=1), FakeClock())
    egress.start()
    egress.reject()
    info = egress.info(("a", "b"))
    assert (info.started, info.rejected, info.accounts) == (1, 1, ("a", "b"))


def test_egress_name_hides_credentials() -> None:
    assert egress_name(None) == DIRECT
    assert egress_name("socks5://user:secret@10.0.0.2:1080") == "socks5://10.0.0.2:1080"


def test_limits_from_settings() -> None:
    google = "https://gemini.google.com"
    settings = PoolSettings(
        gemini_url=google,
        egress_per_minute=7,
        egress_limits={"socks5://10.0.0.2:1080": {"per_minute": 20, "concurrency": 0}},
    )
    assert settings.paces_egress, "auto paces Google"
    assert Limits.for_egress(settings, DIRECT) == Limits(concurrency=5, per_minute=7, per_hour=400)
    assert Limits.for_egress(settings, "socks5://10.0.0.2:1080") == Limits(0, 20, 400)
    simulator = PoolSettings(gemini_url="http://127.0.0.1:8001")
    assert not simulator.paces_egress, "auto leaves a test server alone"
    assert Limits.for_egress(simulator, DIRECT) == Limits()
    assert PoolSettings(gemini_url="http://127.0.0.1:8001", egress_pacing="on").paces_egress
    assert not PoolSettings(gemini_url=google, egress_pacing="off").paces_egress
    assert not PoolSettings(gemini_url="https://gemini.google.com.evil.test").paces_egress
    mixed = PoolSettings(gemini_url=google, egress_limits={"HTTP://Proxy.Example:3128": {"per_hour": 9}})
    assert Limits.for_egress(mixed, egress_name("http://user:pw@proxy.example:3128")).per_hour == 9
    with pytest.raises(ValidationError):
        PoolSettings(egress_limits={"http://user:pw@10.0.0.2:3128": {"per_minute": 1}})
