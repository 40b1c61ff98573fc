"""A person's own Chromium on an account's profile, and profiles brought from elsewhere.

``accounts login`` opens the configured Chromium headed on the account's profile directory as a
plain process, with nothing automated attached: no DevTools pipe or port, no ``--enable-automation``,
no Playwright. Google refuses sign-in in a browser it sees as automated (page.md §1.15: "Couldn't
sign you in — This browser or app may not be secure"), so the window must be what a person's
browser is. The gateway opens the same profile later, through Playwright, once the window is closed.

``accounts import-profile`` copies a user-data directory signed in elsewhere; Chromium cannot open a
profile written by a newer major version, so that is refused before anything is copied.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import quote, urlsplit

from browser._launcher import private_profile_dir, profile_dir
from browser._settings import PoolSettings
from browser.errors import ProfileRefused

__all__ = [
    "chromium_major",
    "import_profile",
    "profile_holder",
    "refuse_if_held",
    "run_signin_window",
    "signin_command",
    "signin_url",
]

# Chromium's lock on a user-data directory: a symlink to ``<hostname>-<pid>`` while a browser runs on it.
_LOCK = "SingletonLock"
# Chromium's own per-run files: never copied (a copied lock would point at another machine's process).
_RUN_FILES = ("SingletonLock", "SingletonSocket", "SingletonCookie", "lockfile")
_VERSION = re.compile(r"(\d+)\.\d+\.\d+\.\d+")


def signin_url(settings: PoolSettings) -> str:
    """Google's sign-in page, continuing to the app: ``accounts.google.com`` for the real site; on
    any other host (the simulator, which stands for both; fidelity.md A4) that host's ``/ServiceLogin``."""
    parts = urlsplit(settings.base_url)
    host = parts.hostname or ""
    if host == "google.com" or host.endswith(".google.com"):
        app = quote(settings.base_url + "/app", safe="")
        return f"https://accounts.google.com/ServiceLogin?continue={app}"
    app_path = (parts.path.rstrip("/") or "") + "/app"
    return f"{parts.scheme}://{parts.netloc}/ServiceLogin?continue={quote(app_path, safe='/')}"


def signin_command(settings: PoolSettings, directory: Path, proxy: str | None) -> list[str]:
    """The command line of a person's browser on ``directory``: only what a desktop launch has.

    ``--password-store=basic``: the gateway's Chromium (launched by Playwright) reads cookies with
    the basic store; a desktop keyring would encrypt them with a key the gateway cannot use, and the
    signed-in session would be unreadable to it. ``--no-sandbox`` only when the gateway's own
    ``chromium_args`` turn the sandbox off (a container running as root). A proxy goes without its
    credentials (``--proxy-server`` takes none): Chromium asks for them in its own dialog.
    """
    command = [
        settings.chromium_path,
        f"--user-data-dir={directory}",
        "--no-first-run",
        "--no-default-browser-check",
        "--password-store=basic",
    ]
    if "--no-sandbox" in settings.chromium_args:
        command.append("--no-sandbox")
    if proxy:
        parts = urlsplit(proxy)
        if not parts.hostname or not parts.port:
            raise ProfileRefused("a proxy must look like http|https|socks5://[user:pass@]host:port")
        command.append(f"--proxy-server={parts.scheme}://{parts.hostname}:{parts.port}")
    command.append(signin_url(settings))
    return command


def profile_holder(directory: Path) -> int | None:
    """The pid of a live Chromium on this machine holding ``directory``'s lock, or None."""
    try:
        target = os.readlink(directory / _LOCK)
    except OSError:
        return None
    host, _, pid_text = target.rpartition("-")
    if host != socket.gethostname() or not pid_text.isdigit():
        return None  # another machine's lock (a copied profile): Chromium itself takes it over
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid  # alive, someone else's
    return pid


def refuse_if_held(directory: Path, account_id: str) -> None:
    pid = profile_holder(directory)
    if pid is not None:
        raise ProfileRefused(
            f"the profile of {account_id} is open in a running Chromium (pid {pid}), most likely the "
            "gateway's: sign it in from the dashboard's live view, or remove the account from the "
            "running gateway first"
        )


def chromium_major(settings: PoolSettings) -> int:
    """The installed Chromium's major version (``chromium --version``)."""
    try:
        out = subprocess.run(
            [settings.chromium_path, "--version"],
            capture_output=True,
            text=True,
            timeout=settings.launch_timeout,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    match = _VERSION.search(out)
    if match is None:
        raise ProfileRefused(f"cannot read the version of {settings.chromium_path} (chromium --version)")
    return int(match.group(1))


def _profile_major(source: Path) -> int:
    if not source.is_dir():
        raise ProfileRefused(f"{source} is not a directory")
    if not (source / "Local State").is_file():
        hint = ""
        if (source / "Cookies").is_file() or (source.parent / "Local State").is_file():
            hint = f": it looks like one profile inside a user-data directory; give {source.parent}"
        raise ProfileRefused(f"{source} is not a Chromium user-data directory (no 'Local State'){hint}")
    try:
        text = (source / "Last Version").read_text(encoding="utf-8").strip()
    except OSError:
        raise ProfileRefused(f"{source} has no 'Last Version': not a Chromium user-data directory") from None
    match = _VERSION.fullmatch(text)
    if match is None:
        raise ProfileRefused(f"{source}/Last Version does not hold a Chromium version")
    return int(match.group(1))


def import_profile(settings: PoolSettings, account_id: str, source: Path, *, replace: bool = False) -> Path:
    """Copy the user-data directory ``source`` to the account's profile (0700) and return it.

    Refused (``ProfileRefused``, nothing copied) when ``source`` is not a user-data directory, was
    last opened by a newer Chromium major than the installed one, is open in a running Chromium,
    or when the account has a profile already (unless ``replace``) that a running Chromium holds.
    """
    source = source.expanduser().resolve()
    major = _profile_major(source)
    installed = chromium_major(settings)
    if major > installed:
        raise ProfileRefused(
            f"{source} was last opened by Chromium {major}, newer than the installed Chromium {installed} "
            f"({settings.chromium_path}): Chromium cannot open a profile from a newer version. Update "
            "Chromium here, or sign in on a desktop running the same or an older version"
        )
    if profile_holder(source) is not None:
        raise ProfileRefused(f"{source} is open in a running Chromium: close that browser first")
    target = profile_dir(settings, account_id)
    if target.exists() and any(target.iterdir()):
        if not replace:
            raise ProfileRefused(
                f"{account_id} has a profile already ({target}): pass --replace to overwrite it"
            )
        refuse_if_held(target, account_id)
        shutil.rmtree(target)
    private_profile_dir(settings, account_id).rmdir()  # made 0700 with its parent; copytree makes it anew
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(*_RUN_FILES))
    # A profile holds the account's cookies: only its owner may read it.
    for path in (target, *target.rglob("*")):
        if not path.is_symlink():
            os.chmod(path, 0o700 if path.is_dir() else 0o600)
    return target


def run_signin_window(settings: PoolSettings, account_id: str, proxy: str | None) -> int:
    """Open a person's Chromium on the account's profile (created 0700) at the sign-in page and wait
    until its window is closed; its exit status is returned. Refused when a running Chromium (the
    gateway's) holds the profile: a second Chromium would hand the page to it and exit at once."""
    directory = profile_dir(settings, account_id)
    refuse_if_held(directory, account_id)
    command = signin_command(settings, private_profile_dir(settings, account_id), proxy)
    # Its own output is Chromium's noise (GPU, D-Bus warnings), not the operator's business.
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        return process.wait()
    finally:
        if process.poll() is None:  # interrupted (Ctrl-C): the window goes with the command
            process.terminate()
            try:
                process.wait(timeout=settings.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
