"""The Dockerfile's install steps, run without Docker: its COPY lines fill a build directory the way
docker fills the image's WORKDIR, and its ``pip install`` lines run there, as written, in a clean
venv. No Docker engine runs here; the Dockerfile is parsed, not restated, so a broken install line
or a missing COPY fails this test."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
APP = PurePosixPath("/app")  # the image's WORKDIR: the build directory stands in for it
INSTALL_TIMEOUT = 600  # seconds for one pip step; pip's cache (same machine) usually makes it seconds
SHELL_OPERATORS = {"&&", "||", ";", "|", "&"}


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def instructions(text: str) -> list[Instruction]:
    """The instructions in order, continuation lines joined and comment lines dropped (as docker
    drops them, also between continued lines)."""
    found: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, args = (pending + stripped).partition(" ")
        pending = ""
        found.append(Instruction(keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued instruction"
    return found


def pip_command(instruction: Instruction) -> list[str] | None:
    """The argv of a RUN that installs with pip; None for other RUNs (apt-get, useradd)."""
    argv = shlex.split(instruction.args)
    if "pip" not in argv[:1] or "install" not in argv[:2]:
        assert "pip" not in argv, f"a pip install must be a RUN of its own: {instruction.args}"
        return None
    assert not SHELL_OPERATORS & set(argv), f"a pip install must be a RUN of its own: {instruction.args}"
    return argv


def build_path(build: Path, workdir: PurePosixPath, dest: str) -> Path:
    target = workdir / dest
    assert target.is_relative_to(APP), f"{target} lies outside the image's {APP}"
    return build / target.relative_to(APP)


def replay_install(build: Path, venv: Path) -> list[list[str]]:
    """Runs the Dockerfile's COPY and pip steps into ``build`` (the image's /app) with ``venv``'s
    pip; returns the pip commands as the Dockerfile wrote them."""
    workdir = PurePosixPath("/")
    ran: list[list[str]] = []
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    for step in instructions(DOCKERFILE.read_text(encoding="utf-8")):
        if step.keyword == "WORKDIR":
            workdir = workdir / step.args
        elif step.keyword == "COPY":
            parts = shlex.split(step.args)
            assert not [p for p in parts if p.startswith("--from")], "no multi-stage COPY expected"
            *sources, dest = [p for p in parts if not p.startswith("--")]
            target = build_path(build, workdir, dest)
            for source in sources:
                origin = ROOT / source
                if origin.is_dir():
                    shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, target / origin.name)
        elif step.keyword == "RUN" and (argv := pip_command(step)) is not None:
            # The image's pip is its Python's; the cache flag only keeps the image small.
            command = [str(venv / "bin" / "python"), "-m", *[a for a in argv if a != "--no-cache-dir"]]
            done = subprocess.run(
                command,
                cwd=build_path(build, workdir, "."),
                env=env,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
                check=False,
            )
            assert done.returncode == 0, f"{step.args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            ran.append(argv)
    return ran


@pytest.mark.slow
@pytest.mark.timeout(2 * INSTALL_TIMEOUT + 120)
def test_the_dockerfiles_install_steps_give_a_working_gateway(tmp_path: Path) -> None:
    build, venv, elsewhere = tmp_path / "app", tmp_path / "venv", tmp_path / "elsewhere"
    build.mkdir()
    elsewhere.mkdir()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)

    ran = replay_install(build, venv)

    # Everything comes from the hash-checked lock; the project itself adds nothing unlocked.
    assert ran and all("--require-hashes" in argv or "--no-deps" in argv for argv in ran), ran
    assert any("--require-hashes" in argv and "requirements.lock" in argv for argv in ran), ran
    helped = subprocess.run(
        [str(venv / "bin" / "gemini-gateway"), "--help"], capture_output=True, text=True, timeout=60
    )
    assert helped.returncode == 0 and "serve" in helped.stdout, helped.stderr
    # Imported from the installed copy (not the build directory), with the simulator's page files.
    script = (
        "import pathlib, service, browser, simulator\n"
        "print(service.__file__, browser.__file__, simulator.__file__)\n"
        "print(len(list((pathlib.Path(simulator.__file__).parent / 'page' / 'static').iterdir())))\n"
    )
    imported = subprocess.run(
        [str(venv / "bin" / "python"), "-c", script],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert imported.returncode == 0, imported.stderr
    files, static = imported.stdout.splitlines()
    assert all(Path(f).is_relative_to(venv) for f in files.split()), files
    assert int(static) > 0
    checked = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "check"], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout


def test_the_image_runs_as_a_user_with_a_health_check_and_the_sandbox_on() -> None:
    steps = instructions(DOCKERFILE.read_text(encoding="utf-8"))
    users = [s.args for s in steps if s.keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    checks = [s.args for s in steps if s.keyword == "HEALTHCHECK"]
    assert len(checks) == 1 and "CMD" in checks[0] and "/healthz" in checks[0].partition("CMD")[2]
    # Comments may name the flag (to say when to add it); no instruction sets it.
    assert not [s for s in steps if "--no-sandbox" in s.args]
    assert [s.args for s in steps if s.keyword == "CMD"][-1].startswith('["gemini-gateway", "serve"')
