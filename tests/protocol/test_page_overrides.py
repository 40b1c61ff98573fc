"""The page override file: an operator's selectors and labels in front of the built-in table, checked
when the settings are built (docs/architecture/evidence.md: the page will change again)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from browser import PoolSettings, Tool
from browser._requests import ThinkingLevel
from browser._selectors import DEFAULT_TABLE, tool_of_label
from service.settings import GatewaySettings


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_overrides_come_first_and_are_named_as_such(tmp_path: Path) -> None:
    data = {
        "selectors": {"tools_opener": ["button[aria-label='Outils et importation']"]},
        "labels": {"tools": {"image": ["Créer une image"]}, "thinking_levels": {"high": ["Approfondi"]}},
    }
    settings = PoolSettings(page_overrides_file=_write(tmp_path, "o.json", json.dumps(data)))
    table = settings.selector_table
    opener = table.tools_opener
    assert opener.fallbacks[0] == "button[aria-label='Outils et importation']"
    assert opener.fallbacks[1:] == DEFAULT_TABLE.tools_opener.fallbacks
    assert (opener.origin(0), opener.origin(1)) == ("override 1", "built-in 1")
    assert tool_of_label("Créer une image (nouveau)", table.labels) is Tool.IMAGE
    assert tool_of_label("Create image", table.labels) is Tool.IMAGE, "the built-in labels stay"
    assert table.labels.thinking_levels[ThinkingLevel.HIGH] == ("approfondi", "high")
    # Untouched entries are the built-in ones.
    assert table.send == DEFAULT_TABLE.send


def test_toml_works_too(tmp_path: Path) -> None:
    path = _write(tmp_path, "o.toml", '[selectors]\nsend = ["button.envoyer"]\n')
    assert PoolSettings(page_overrides_file=path).selector_table.send.fallbacks[0] == "button.envoyer"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"selectors": {"sned": ["button"]}}', "unknown selector 'sned'"),
        ('{"selectors": {"send": ["button["]}}', r"selectors.send\[0\] is not valid CSS"),
        ('{"selectors": {"send": ["button:has-text(\\"Go\\")"]}}', "Playwright selector extension"),
        ('{"labels": {"tools": {"podcast": ["x"]}}}', "tools"),
        ('{"labels": {"thinking_toggle": [" "]}}', "must not be empty"),
        ('{"selector": {}}', "selector"),
        ("{not json", "not valid json"),
    ],
)
def test_a_bad_file_stops_the_gateway_at_start_naming_the_entry(
    tmp_path: Path, content: str, message: str
) -> None:
    path = _write(tmp_path, "o.json", content)
    with pytest.raises(ValidationError, match=message):
        PoolSettings(page_overrides_file=path)
    # The gateway's settings check the browser section when they are built, naming the field.
    with pytest.raises(ValidationError, match=r"browser: .*page_overrides_file: the page override file"):
        GatewaySettings(open_access=True, browser={"page_overrides_file": str(path)})  # type: ignore[call-arg]


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot be read"):
        PoolSettings(page_overrides_file=tmp_path / "absent.json")
