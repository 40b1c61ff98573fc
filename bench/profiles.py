"""``xvfb-run -a python -m bench.profiles [--profiles N]``: what a persistent account would cost if
several profiles shared one Chromium, beside one Chromium per profile (the persistent mode today),
with the same switches (``persistent_launch_args`` of the default settings) and the simulator's page.

Not a mode of the gateway: a measurement of the only route we found under 300 MiB RSS per persistent
account (docs/benchmarks.md). A second launch on a profile directory that a running Chromium holds
hands its ``--profile-directory`` over to that browser (Chromium's process singleton), which opens a
window in that profile: one browser, one storage service and one zygote for every profile, and a
renderer each. Headless Chromium refuses the hand-off ("Failed to create a ProcessSingleton"), hence
a display. Playwright sees such pages in its default context only (their CDP ``browserContextId``
is the profile's, which it does not know): cookies, routes and init scripts per profile would need
CDP of our own, and a proxy is per browser, not per profile."""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench import servers
from bench.memory import chromium_memory
from browser._launcher import persistent_launch_args
from browser._settings import LaunchMode, PoolSettings

_MIB = 1024
_SETTLE = 3.0  # seconds after a profile's renderer appears, like bench.measure's settle


def _switches(user_data_dir: Path) -> list[str]:
    settings = PoolSettings(launch_mode=LaunchMode.PERSISTENT)
    # The sandbox stays as the defaults have it; the first-run UI would open a page of its own.
    return [
        f"--user-data-dir={user_data_dir}",
        "--no-first-run",
        "--no-default-browser-check",
        "--password-store=basic",
        *persistent_launch_args(settings),
    ]


def _rss_kib(root: int) -> int:
    """RSS of the browser ``root`` and its children (``chromium_memory`` counts only the children)."""
    status = Path(f"/proc/{root}/status").read_text()
    own = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return own + chromium_memory(root).rss_kib


def _wait_for_renderers(root: int, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while chromium_memory(root).renderers < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} renderers did not appear")
        time.sleep(0.2)
    time.sleep(_SETTLE)


@contextmanager
def _chromium(args: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def one_browser(chromium: str, page: str, profiles: int, workdir: Path) -> list[float]:
    """RSS (MiB) of one Chromium after each of ``profiles`` profiles opened ``page``."""
    switches = _switches(workdir / "shared-browser")
    found: list[float] = []
    with _chromium([chromium, *switches, page]) as browser:
        _wait_for_renderers(browser.pid, 1)
        found.append(_rss_kib(browser.pid) / _MIB)
        for index in range(2, profiles + 1):
            # Hands over to the running browser and exits.
            subprocess.run(
                [chromium, *switches, f"--profile-directory=Profile {index}", page],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=60,
                check=True,
            )
            _wait_for_renderers(browser.pid, index)
            found.append(_rss_kib(browser.pid) / _MIB)
    return found


def browser_each(chromium: str, page: str, profiles: int, workdir: Path) -> list[float]:
    """RSS (MiB) of ``profiles`` Chromiums, one per profile directory, after each one opened ``page``."""
    found: list[float] = []
    running: list[subprocess.Popen[bytes]] = []
    try:
        for index in range(1, profiles + 1):
            switches = _switches(workdir / f"browser-{index}")
            running.append(
                subprocess.Popen(
                    [chromium, *switches, page], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            )
            _wait_for_renderers(running[-1].pid, 1)
            found.append(sum(_rss_kib(process.pid) for process in running) / _MIB)
    finally:
        for process in running:
            process.terminate()
        for process in running:
            process.wait(timeout=15)
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profiles", description=__doc__)
    parser.add_argument("--profiles", type=int, default=3)
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        parser.error("needs a display: run it under xvfb-run -a")
    chromium = PoolSettings().chromium_path
    with tempfile.TemporaryDirectory(prefix="gateway-bench-profiles-") as directory:
        workdir = Path(directory)
        with servers.simulator(workdir, 1.0, 0.05) as sim:
            page = f"{sim.url}/app"
            for name, measure in (("one browser per profile", browser_each), ("one browser", one_browser)):
                rss = measure(chromium, page, args.profiles, workdir)
                extra = (rss[-1] - rss[0]) / (len(rss) - 1)
                steps = " -> ".join(f"{value:.1f}" for value in rss)
                print(
                    f"{name}: RSS {steps} MiB for 1..{args.profiles} profiles, {extra:.1f} MiB per extra one"
                )


if __name__ == "__main__":
    main()
