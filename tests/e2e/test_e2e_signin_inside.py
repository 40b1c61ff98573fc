"""Accounts signed in inside the gateway (issue 19, items 1 and 6), against the simulator's sign-in
flow and device-bound sessions (/work/notes/signin-contract.md; docs/simulator-contract.md).

- ``accounts login`` under ``xvfb-run``: a headed Chromium with nothing automated attached; the test
  plays the operator with xdotool (types into the sign-in pages as a person would, closes the
  window); the page observed ``navigator.webdriver`` false, the simulator signed the browser in, and
  the running gateway adopts the account, which answers a chat.
- A signed-in-inside account lives through a simulated day of the page's own device-bound rotations
  and two gateway restarts, one of them kill -9, without losing its session.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from browser import AccountSpec, SigninMethod
from service.admin.cookies import session_digest
from service.admin.registry import AddedAccounts
from tests.conftest import CHROMIUM_ARGS, CHROMIUM_PATH
from tests.e2e.conftest import FAST_PACING, marker
from tests.e2e.test_e2e_kill_restart import process_alive, processes_of
from tests.support.servers import free_port, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

ADMIN_KEY = "adm-signin-inside-key"
ACCOUNT = "desk"
EMAIL = "operator@example.com"
PASSWORD = "correct horse battery staple"
CHAT_MODEL = "gemini-2.5-flash"
STARTUP = 120.0
WAIT = 60.0  # bound on every poll
ATTEMPT = 20.0  # how long the operator waits for a page to take what they typed before typing again
DAY = 86400.0
TIME_SCALE = 10800.0  # a simulated day in 8 s of the simulator's clock
ROTATION_INTERVAL = 600.0  # the page's rotation interval (peers-late-2026.md §4.1), simulated seconds


def _until(predicate: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return result


class Recorder:
    """The simulator's ASGI app, noting each request's method and path: what the operator's
    browser sent, so the operator knows a page took what was typed (as a person sees it move on)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)

    def count(self, method: str, path: str) -> int:
        return sum(1 for seen in list(self.seen) if seen == (method, path))


@contextmanager
def signin_simulator() -> Iterator[tuple[str, Recorder]]:
    from simulator.app import create_app as create_simulator
    from simulator.settings import SimulatorSettings

    settings = SimulatorSettings(
        **FAST_PACING,
        time_scale=TIME_SCALE,
        rotation_interval=ROTATION_INTERVAL,
    )
    recorder = Recorder(create_simulator(settings))
    with serve(recorder) as url:
        created = httpx.post(
            f"{url}/_sim/users", json={"email": EMAIL, "password": PASSWORD, "kind": "paid"}, timeout=10
        )
        assert created.status_code in (200, 201), created.text
        yield url, recorder


def _sim(sim_url: str, path: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = httpx.get(f"{sim_url}/_sim/{path}", timeout=10).json()
    return entries


def _session(sim_url: str) -> dict[str, Any]:
    """The one session the sign-in created (``GET /_sim/sessions``)."""
    sessions = [s for s in _sim(sim_url, "sessions") if s.get("bound")]
    assert len(sessions) == 1, sessions
    return sessions[0]


class Gateway:
    """``python -m service serve`` on ``data_dir`` in its own process group (so one killpg is kill -9
    of everything it runs), with an admin key and no configured account."""

    def __init__(self, sim_url: str, data_dir: Path) -> None:
        self.sim_url = sim_url
        self.tag = uuid.uuid4().hex
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "SIM_"))}
        self.env.update(
            GEMINI_GATEWAY_SUPERVISED="1",
            KILL_RESTART_RUN=self.tag,  # processes_of finds Chromium's detached helpers by it
            GATEWAY_ADMIN_KEYS=ADMIN_KEY,
            GATEWAY_DATA_DIR=str(data_dir),
            GATEWAY_BROWSER=json.dumps(
                {"gemini_url": sim_url, "chromium_path": CHROMIUM_PATH, "cookie_save_interval": 0.5}
            ),
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

        def up() -> bool:
            assert self.process is not None and self.process.poll() is None, "the gateway exited"
            try:
                return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _until(up, "the gateway to answer /healthz", STARTUP)

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        return httpx.request(method, f"{self.url}/admin{path}", headers=headers, timeout=90, **kwargs)

    def account(self) -> dict[str, Any] | None:
        accounts: list[dict[str, Any]] = self.admin("GET", "/accounts").json()["data"]
        return next((a for a in accounts if a["id"] == ACCOUNT), None)

    def ready(self) -> dict[str, Any]:
        ready: dict[str, Any] = _until(
            lambda: (a := self.account()) is not None and a["state"] == "ready" and a, "the account", STARTUP
        )
        return ready

    def chat(self) -> str:
        created = self.admin("POST", "/keys", json={"name": f"k-{uuid.uuid4().hex[:6]}"})
        assert created.status_code == 201, created.text
        client = openai.OpenAI(
            api_key=created.json()["key"], base_url=f"{self.url}/v1", max_retries=0, timeout=90
        )
        prompt = f"signed in inside {marker()}"
        reply = client.chat.completions.create(
            model=CHAT_MODEL, messages=[{"role": "user", "content": prompt}]
        )
        answer = reply.choices[0].message.content or ""
        assert answer.startswith("Turn 1 of chat"), answer
        # Answered by the signed-in session (the simulator names sessions by a digest, never a cookie).
        (seen,) = [entry for entry in _sim(self.sim_url, "requests") if prompt in entry["prompt"]]
        assert seen["account"] == "paid", seen
        return answer

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """SIGTERM: the gateway shuts its pool down in order; SIGKILL: everything dies at once."""
        if self.process is None or self.process.poll() is not None:
            return
        root = self.process.pid
        everything = processes_of(root, self.tag)
        os.killpg(root, sig)
        try:
            self.process.wait(STARTUP)
        except subprocess.TimeoutExpired:
            os.killpg(root, signal.SIGKILL)
            self.process.wait(10)
        if sig is signal.SIGKILL:
            # Chromium's own group: it follows its driver's pipe. A pid names a process together
            # with its start time (pids are reused while the other workers start Chromiums).
            for pid, (started, _) in everything.items():
                if pid != root:
                    _until(
                        lambda pid=pid, started=started: not process_alive(pid, started),
                        f"process {pid} of the killed gateway to end",
                    )


@pytest.fixture
def gateways() -> Iterator[list[Gateway]]:
    started: list[Gateway] = []
    try:
        yield started
    finally:
        for gateway in started:
            gateway.stop(signal.SIGKILL)


# -- accounts login under Xvfb, the operator played with xdotool --


class Operator:
    """A person at the sign-in window: xdotool on the Xvfb display ``accounts login`` runs on."""

    def __init__(self, display: str, xauthority: str, recorder: Recorder) -> None:
        self.env = {**os.environ, "DISPLAY": display, "XAUTHORITY": xauthority}
        self.recorder = recorder
        self.window = ""

    def xdotool(self, *args: str) -> str:
        done = subprocess.run(
            ["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=WAIT, check=False
        )
        return done.stdout.strip()

    def find_window(self, login: subprocess.Popen[bytes]) -> None:
        """The sign-in window, once ``login`` (a Python start, then a headed Chromium: slow on a
        loaded machine) shows it; a failure says what the display and the page saw instead."""

        def found() -> str:
            if login.poll() is not None:
                out = login.stdout.read().decode(errors="replace") if login.stdout else ""
                raise AssertionError(f"accounts login ended ({login.returncode}) before its window: {out}")
            return self.xdotool("search", "--onlyvisible", "--name", "Sign in").split("\n")[0]

        try:
            self.window = _until(found, "the sign-in window", STARTUP)
        except AssertionError as error:
            titles = [
                self.xdotool("getwindowname", window)
                for window in self.xdotool("search", "--onlyvisible", "--name", ".").split()
            ]
            raise AssertionError(
                f"{error}; visible windows: {titles}; the browser's requests: {self.recorder.seen[-12:]}"
            ) from None

    def enter(self, text: str, then: tuple[str, str]) -> None:
        """Type ``text`` and Enter into the focused field, as often as it takes the page to send
        ``then`` (a person types again when a page was still loading and nothing happened)."""
        before = self.recorder.count(*then)
        for _ in range(5):
            self.xdotool("windowfocus", "--sync", self.window)
            self.xdotool("key", "--clearmodifiers", "ctrl+a")
            self.xdotool("type", "--delay", "20", text)
            self.xdotool("key", "Return")
            deadline = time.monotonic() + ATTEMPT
            while time.monotonic() < deadline:
                if self.recorder.count(*then) > before:
                    return
                time.sleep(0.1)
        raise AssertionError(f"the page never sent {then}")

    def sign_in(self, sim_url: str) -> None:
        """The email, then the password, typed again when the page said it was mistyped (xdotool
        can drop a keystroke on a loaded machine, as a person's fingers slip)."""

        def outcomes() -> list[str]:
            return [attempt["outcome"] for attempt in _sim(sim_url, "signins")]

        for _ in range(3):
            before, pages = len(outcomes()), self.recorder.count("GET", "/v3/signin/challenge/pwd")
            self.enter(EMAIL, ("POST", "/v3/signin/identifier"))
            # A known email moves on to the password page; a mistyped one is logged as unknown.
            _until(
                lambda pages=pages, before=before: (
                    self.recorder.count("GET", "/v3/signin/challenge/pwd") > pages or outcomes()[before:]
                ),
                "the email's outcome",
            )
            if self.recorder.count("GET", "/v3/signin/challenge/pwd") > pages:
                break
        else:
            raise AssertionError(f"the email was never taken: {outcomes()}")
        for _ in range(3):
            before = len(outcomes())
            self.enter(PASSWORD, ("POST", "/v3/signin/challenge/pwd"))
            (latest, *_) = _until(lambda before=before: outcomes()[before:], "the password's outcome")
            if latest == "signed_in":
                return
            assert latest == "wrong_password", outcomes()
        raise AssertionError(f"the password was never taken: {outcomes()}")

    def close_window(self) -> None:
        self.xdotool("windowfocus", "--sync", self.window)
        self.xdotool("key", "--clearmodifiers", "ctrl+shift+w")


def _needs_xvfb() -> None:
    missing = [tool for tool in ("xvfb-run", "xdotool", "xauth") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install -y xvfb xauth xdotool)")


def _chromium_cmdlines(root: int) -> list[str]:
    """The command lines of the browser processes below ``root`` (the ``accounts login`` command)."""
    lines = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        # The browser process: the one started on the sign-in URL (its helpers have a --type=).
        if "ServiceLogin" in cmdline and "--type=" not in cmdline and _below(pid, root):
            lines.append(cmdline)
    return lines


def _below(pid: int, root: int) -> bool:
    while pid > 1:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat[stat.rindex(")") + 2 :].split(" ")[1])
        if pid == root:
            return True
    return False


def test_accounts_login_opens_a_plain_headed_chromium_and_the_gateway_adopts_the_account(
    tmp_path: Path, gateways: list[Gateway]
) -> None:
    _needs_xvfb()
    data_dir = tmp_path / "data"
    with signin_simulator() as (sim_url, recorder):
        gateway = Gateway(sim_url, data_dir)
        gateways.append(gateway)
        gateway.start()

        # ``accounts login`` on an Xvfb display of its own; the wrapper tells the test which one.
        where = tmp_path / "display"
        script = f'echo "$DISPLAY $XAUTHORITY" > {where}; exec "$@"'
        env = {**gateway.env, "GATEWAY_ADMIN_KEY": ADMIN_KEY}
        env["GATEWAY_BROWSER"] = json.dumps(
            {"gemini_url": sim_url, "chromium_path": CHROMIUM_PATH, "chromium_args": CHROMIUM_ARGS}
        )
        env.pop("DISPLAY", None)
        login = subprocess.Popen(
            ["xvfb-run", "-a", "-s", "-screen 0 1280x900x24", "sh", "-c", script, "login",
             sys.executable, "-m", "service", "accounts", "login", ACCOUNT, "--url", gateway.url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            display, xauthority = _until(lambda: where.is_file() and where.read_text().split(), "Xvfb")
            operator = Operator(display, xauthority, recorder)
            operator.find_window(login)
            assert recorder.count("GET", "/ServiceLogin") >= 1, "the window opened at the sign-in page"

            # Nothing automated is attached: no DevTools port or pipe, no automation switch.
            (cmdline,) = _chromium_cmdlines(login.pid)
            for switch in ("--remote-debugging", "--enable-automation", "--headless", "AutomationControlled"):
                assert switch not in cmdline, cmdline
            assert f"--user-data-dir={data_dir / 'profiles' / ACCOUNT}" in cmdline

            operator.sign_in(sim_url)
            # The success page makes the device key and binds the session, then goes on to the app.
            try:
                _until(lambda: recorder.count("POST", "/RegisterBoundSession") >= 1, "the session's binding")
            except AssertionError as error:
                raise AssertionError(f"{error}; the browser's last requests: {recorder.seen[-12:]}") from None
            _until(lambda: recorder.count("GET", "/app") >= 1, "the app after the sign-in")
            attempts = [a for a in _sim(sim_url, "signins") if a["email"] == EMAIL]
            assert attempts and attempts[-1]["outcome"] == "signed_in", attempts
            # What the page observed: a person's browser (navigator.webdriver false, not headless).
            for attempt in attempts:
                assert str(attempt["webdriver"]).lower() == "false", attempt
                assert "HeadlessChrome" not in str(attempt.get("user_agent", "")), attempt

            operator.close_window()
            out, _ = login.communicate(timeout=STARTUP)
        finally:
            if login.poll() is None:
                os.killpg(login.pid, signal.SIGKILL)
                login.wait(10)
        text = out.decode(errors="replace")
        assert login.returncode == 0, text
        assert json.loads(text[text.index("{") :])["signin_method"] == "signed_in_inside"

        # Adopted by the running gateway, from the profile the window left: ready, and it serves.
        account = gateway.ready()
        assert account["signin_method"] == "signed_in_inside"
        gateway.chat()
        assert _session(sim_url)["alive"]
        profile = data_dir / "profiles" / ACCOUNT
        assert (profile.stat().st_mode & 0o777) == 0o700

        # The gateway's Chromium holds the profile now: a second sign-in window is refused (it would
        # hand the page to the gateway's browser and exit at once).
        again = subprocess.run(
            [sys.executable, "-m", "service", "accounts", "login", ACCOUNT],
            env={**env, "DISPLAY": ":4242"},
            capture_output=True,
            text=True,
            timeout=STARTUP,
            check=False,
        )
        assert again.returncode == 1 and "is open in a running Chromium" in again.stderr, again.stderr


# -- a simulated day and two restarts --


def _sign_in_with_a_browser(sim_url: str, profile: Path) -> None:
    """The person's sign-in, done in the profile as ``accounts login`` leaves it (another test drives
    the real window): a Chromium on the profile, the sign-in pages filled in, the window closed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM_PATH,
            args=[*CHROMIUM_ARGS, "--disable-blink-features=AutomationControlled"],
            ignore_default_args=["--enable-automation"],
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(f"{sim_url}/ServiceLogin?continue=/app")
            page.fill("#identifierId", EMAIL)
            page.click("#identifierNext")
            page.fill("input[name=Passwd]", PASSWORD)
            page.click("#passwordNext")
            page.wait_for_url("**/app**", timeout=WAIT * 1000)
        finally:
            context.close()


def test_a_signed_in_inside_account_lives_through_a_day_and_two_restarts(
    tmp_path: Path, gateways: list[Gateway]
) -> None:
    data_dir = tmp_path / "data"
    with signin_simulator() as (sim_url, _):
        profile = data_dir / "profiles" / ACCOUNT
        profile.mkdir(parents=True, mode=0o700)
        _sign_in_with_a_browser(sim_url, profile)
        assert [a["outcome"] for a in _sim(sim_url, "signins")] == ["signed_in"]
        # Adopted at the next start, as ``accounts login`` leaves it when no gateway runs.
        spec = AccountSpec(name=ACCOUNT, signin_method=SigninMethod.SIGNED_IN_INSIDE)
        with AddedAccounts(data_dir / "added_accounts.sqlite3") as registry:
            registry.put(ACCOUNT, session_digest(spec), spec)

        # A day of the page's rotations at 600 s each, spread over three gateways.
        day = int(DAY / ROTATION_INTERVAL)
        rotations = _session(sim_url)["rotations"]
        for phase, ending in enumerate((signal.SIGTERM, signal.SIGKILL, signal.SIGTERM), start=1):
            gateway = Gateway(sim_url, data_dir)
            gateways.append(gateway)
            gateway.start()
            assert gateway.ready()["signin_method"] == "signed_in_inside"
            gateway.chat()
            goal = day * phase // 3
            _until(lambda goal=goal: _session(sim_url)["rotations"] >= goal, f"rotation {goal}", STARTUP)
            session = _session(sim_url)
            assert session["alive"], session
            assert session["rotations"] > rotations, "the rotations advance under each gateway"
            rotations = session["rotations"]
            gateway.chat()  # still served, a simulated day-third later
            gateway.stop(ending)
        # One session from the sign-in to the end: never signed in again, never revoked.
        assert [a["outcome"] for a in _sim(sim_url, "signins")] == ["signed_in"]
        assert _session(sim_url)["alive"] and _session(sim_url)["rotations"] >= day
