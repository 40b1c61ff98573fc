"""The third-party clients the end-to-end tests drive (``tests/e2e/test_e2e_clients.py``), installed
from their lock files: the Vercel AI SDK (``ai`` and ``@ai-sdk/openai``) in ``tests/node`` with
``npm ci``, and LlamaIndex and instructor in a venv of their own in ``tests/pyclients`` with a
hash-checked ``pip install``. They cannot share the suite's venv: both pin ``openai`` (and instructor
``jiter``) below the versions the suite runs with.

``python -m tests.support.clients`` installs both (``make clients``, part of ``make test``); the
fixtures install what is missing or stale (a lock file changed) and skip only when the tool itself
is absent from the machine (no ``node`` or ``npm``), never because nothing was installed yet.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = ["NODE_DIR", "PY_DIR", "ToolMissing", "install_node", "install_python"]

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "tests" / "node"
PY_DIR = ROOT / "tests" / "pyclients"
# Bound on one install (a fresh venv downloads ~80 packages; npm ci 15).
INSTALL_TIMEOUT = 900.0
_STAMP = ".installed-from"


class ToolMissing(RuntimeError):
    """A program the clients need is not on this machine."""


def _digest(lock: Path) -> str:
    return hashlib.sha256(lock.read_bytes()).hexdigest()


def _current(stamp: Path, lock: Path) -> bool:
    return stamp.is_file() and stamp.read_text().strip() == _digest(lock)


@contextlib.contextmanager
def _one_installer(directory: Path) -> Iterator[None]:
    """One install at a time per directory: the suite's workers may all ask at once, and a second
    installer would remove the venv the first is building."""
    with open(directory / ".install.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)


def install_node() -> str:
    """``node``'s path, once ``tests/node`` holds the locked packages."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise ToolMissing("node and npm are not installed")
    lock = NODE_DIR / "package-lock.json"
    stamp = NODE_DIR / "node_modules" / _STAMP
    with _one_installer(NODE_DIR):
        if not _current(stamp, lock):
            command = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
            subprocess.run(command, cwd=NODE_DIR, check=True, timeout=INSTALL_TIMEOUT)
            stamp.write_text(_digest(lock))
    return node


def install_python() -> Path:
    """The Python of ``tests/pyclients/.venv``, once it holds the locked packages."""
    lock = PY_DIR / "requirements.lock"
    venv = PY_DIR / ".venv"
    stamp = venv / _STAMP
    python = venv / "bin" / "python"
    with _one_installer(PY_DIR):
        if not _current(stamp, lock):
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=INSTALL_TIMEOUT)
            pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            subprocess.run([*pip, "--require-hashes", "-r", str(lock)], check=True, timeout=INSTALL_TIMEOUT)
            stamp.write_text(_digest(lock))
    return python


if __name__ == "__main__":
    print("node clients:", install_node())
    print("python clients:", install_python())
