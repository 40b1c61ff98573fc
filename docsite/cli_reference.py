"""The command-line reference, generated from the argparse parser of ``python -m service``.

Every command and subcommand gets its usage line, its help and a row per argument (name, help,
default, choices). A command or argument without help is listed by ``missing_help()``, which the
build and ``tests/test_docs.py`` refuse.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass

from docsite.markdown import plain, sentence
from service.cli_parser import build_parser

__all__ = ["Command", "commands", "missing_help", "render"]


@dataclass(frozen=True)
class Command:
    """One parser of the tree: ``words`` after ``python -m service`` and the help its parent gave it."""

    words: tuple[str, ...]
    parser: argparse.ArgumentParser
    help: str | None


def commands(root: argparse.ArgumentParser | None = None) -> list[Command]:
    """Every command of ``root`` (by default the gateway's), the root first, depth first in
    definition order."""
    root = build_parser() if root is None else root
    return list(_walk(Command((), root, root.description)))


def _walk(command: Command) -> Iterator[Command]:
    yield command
    for action in command.parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help for choice in action._choices_actions}
        for name, sub in action.choices.items():
            yield from _walk(Command((*command.words, name), sub, helps.get(name)))


def _arguments(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The arguments a user types: not ``--help``, not the subcommand slot."""
    return [
        action
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)
    ]


def missing_help(root: argparse.ArgumentParser | None = None) -> list[str]:
    """Commands and arguments without help, as ``"accounts check"`` or ``"keys create --per-minute"``."""
    missing = []
    for command in commands(root):
        name = " ".join(command.words)
        if command.words and not (command.help or "").strip():
            missing.append(name)
        bare = [action for action in _arguments(command.parser) if not action.help]
        missing += [f"{name} {_name(action)}".strip() for action in bare]
    return missing


def _name(action: argparse.Action) -> str:
    return ", ".join(action.option_strings) if action.option_strings else str(action.metavar or action.dest)


def render() -> str:
    """The CLI reference page (Markdown)."""
    out = [
        "# Command-line reference",
        "",
        "Generated from the parser in `service/cli_parser.py` when the site is built. The commands run as",
        "`python -m service ...` or, installed, `gemini-gateway ...`.",
        "",
    ]
    for command in commands():
        out += _render_command(command)
    return "\n".join(out) + "\n"


def _render_command(command: Command) -> list[str]:
    title = " ".join(("python -m service", *command.words))
    out = [f"## `{title}`" if command.words else "## Usage", ""]
    if command.help and command.words:
        out += [plain(sentence(command.help)), ""]
    out += ["```text", command.parser.format_usage().strip(), "```", ""]
    arguments = _arguments(command.parser)
    if arguments:
        out += ["| argument | meaning | default |", "|---|---|---|"]
        out += [_row(action) for action in arguments]
        out.append("")
    return out


def _row(action: argparse.Action) -> str:
    meaning = plain(sentence(action.help or ""))
    if action.choices and not isinstance(action, argparse._SubParsersAction):
        meaning += " One of " + ", ".join(f"`{choice}`" for choice in action.choices) + "."
    if not action.option_strings and action.nargs == "?":
        meaning += " Optional."
    default = action.default
    shown = "" if default in (None, False, argparse.SUPPRESS) else f"`{default}`"
    return f"| `{_name(action)}` | {meaning} | {shown} |"
