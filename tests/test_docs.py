"""The documentation site (issue 22, item 2): it builds strictly and offline, its generated reference
pages cover every setting, CLI argument and route, and the README stays a front page.

The build runs ``mkdocs build --strict`` as ``make docs`` does: a broken link or anchor, a page left
out of the navigation, a settings field without a description or a CLI argument without help (the
hook's warnings) fails it. Nothing is fetched from the internet, neither while building nor by the
built pages.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field

from docsite import api_reference, cli_reference, settings_reference
from service.settings import GatewaySettings

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# An external resource a page would load (a link to a site is fine, a script or font from one is not).
_EXTERNAL_LOAD = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=\"(?:https?:)?//", re.IGNORECASE)
_LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return out


@pytest.mark.slow
def test_the_site_builds_strictly_with_the_generated_pages(site: Path) -> None:
    for page in ("reference/configuration", "reference/cli", "reference/api", "architecture/wire-protocol"):
        assert (site / page / "index.html").is_file(), page
    assert (site / "reference" / "openapi.json").is_file()
    assert "max_prompt_bytes" in (site / "reference" / "configuration" / "index.html").read_text()
    assert (site / "images" / "dashboard-light.jpg").is_file()


@pytest.mark.slow
def test_the_built_pages_load_nothing_from_elsewhere(site: Path) -> None:
    pages = list(site.rglob("*.html"))
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text, page
        assert not _EXTERNAL_LOAD.search(text), f"{page} loads {_EXTERNAL_LOAD.search(text)}"


def test_every_settings_field_has_a_description() -> None:
    assert settings_reference.undocumented() == []


def test_a_field_without_a_description_is_caught() -> None:
    class Nested(BaseModel):
        told: int = Field(1, description="Told.")
        untold: int = 2

    class Root(BaseModel):
        plain: str = ""
        nested: Nested = Field(Nested(), description="A nested model.")

    assert settings_reference.undocumented(Root) == ["plain", "nested.untold"]


def test_the_configuration_reference_names_every_field_with_its_environment_variable() -> None:
    page = settings_reference.render()
    for section in settings_reference.sections():
        for name in section.model.model_fields:
            dotted = f"{section.path}.{name}" if section.path else name
            if settings_reference._nested_model(section.model, name, section.model.model_fields[name]):
                continue
            assert f"### `{dotted}`" in page, dotted
    for env in ("GATEWAY_MAX_PROMPT_BYTES", "GATEWAY_BROWSER__HEADLESS", "GATEWAY_MEDIA__S3__BUCKET"):
        assert f"`{env}`" in page
    assert "`GATEWAY_ACCOUNTS__" not in page  # list items have no variables of their own
    # Defaults come from the models, not from text: a changed default shows at the next build.
    default = GatewaySettings.model_fields["max_prompt_bytes"].default
    assert f"`GATEWAY_MAX_PROMPT_BYTES` · integer · default `{default}`" in page


def test_every_cli_argument_has_help() -> None:
    assert cli_reference.missing_help() == []


def test_an_argument_without_help_is_caught() -> None:
    parser = argparse.ArgumentParser(prog="x")
    commands = parser.add_subparsers(dest="command")
    told = commands.add_parser("told", help="has help")
    told.add_argument("--fine", help="fine")
    told.add_argument("--bare")
    commands.add_parser("silent").add_argument("thing", help="a thing")
    assert cli_reference.missing_help(parser) == ["told --bare", "silent"]


def test_the_cli_reference_shows_every_command_and_argument() -> None:
    page = cli_reference.render()
    for command in cli_reference.commands():
        if command.words:
            assert f"## `python -m service {' '.join(command.words)}`" in page
        for action in cli_reference._arguments(command.parser):
            assert f"| `{cli_reference._name(action)}` |" in page


def test_the_api_reference_shows_every_route_once(tmp_path: Path) -> None:
    document = api_reference.schema()
    page = api_reference.render(document)
    listed = {(method, path) for method, path, _ in api_reference.operations(document)}
    for method, path in listed:
        assert page.count(f"### `{method} {path}`") == 1, (method, path)
    assert not any(path.startswith("/gemini_official/") for _, path in listed)
    # Every route of the app that the schema holds is there, its twin folded into it.
    assert ("POST", "/v1/chat/completions") in listed
    assert ("GET", "/media/{name}") in listed
    assert ("PATCH", "/admin/keys/{key_id}") in listed
    schema_names = set(document["components"]["schemas"])
    assert all(f"### {name} {{#schema-{name.lower()}}}" in page for name in schema_names)


def test_the_api_reference_comes_from_the_app_s_routes() -> None:
    from service.app import create_app

    settings = GatewaySettings(api_keys=("k",), data_dir=Path("unused"))  # type: ignore[arg-type]
    app = create_app(settings)
    schema_paths = set(api_reference.schema()["paths"])
    # WebSocket routes (the live view's) are in no OpenAPI schema: docs/operations/live-sign-in.md.
    served = {
        route.path for route in iter_route_contexts(app.routes) if getattr(route, "include_in_schema", False)
    }
    assert served <= schema_paths


def test_the_readme_is_a_front_page() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200
    head = "\n".join(lines[:8])
    assert "make demo" in head and "make test" in head
    text = "\n".join(lines)
    assert "simulator" in text and "Nothing in this repository has been tried against the real Gemini" in text
    assert text.count("```python") == 1
    assert len(re.findall(r"^curl ", text, re.MULTILINE)) == 1


def test_the_readme_links_lead_to_pages_that_exist() -> None:
    links = [link for link in _LINK.findall(README.read_text(encoding="utf-8")) if "://" not in link]
    assert links
    for link in links:
        path, _, _anchor = link.partition("#")
        assert (ROOT / path).is_file(), link


def test_every_page_of_docs_is_in_the_navigation() -> None:
    # mkdocs only warns (strict: fails) about pages left out; this names them without a build.
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = {str(page.relative_to(ROOT / "docs")) for page in (ROOT / "docs").rglob("*.md")}
    assert pages
    assert {page for page in pages if f": {page}" not in nav} == set()


_CITATION = re.compile(r"docs/([\w/-]+\.md)(?:#([\w-]+))?")


def _built(site: Path, page: str) -> Path:
    """Where MkDocs writes ``page`` (``guides/chat.md`` → ``guides/chat/index.html``)."""
    stem = page.removesuffix(".md")
    return site / (stem.removesuffix("index") if stem.endswith("index") else stem + "/") / "index.html"


@pytest.mark.slow
def test_code_comments_cite_pages_and_anchors_that_exist(site: Path) -> None:
    sources = [
        path
        for folder in ("browser", "service", "simulator", "bench", "tests")
        for path in (ROOT / folder).rglob("*")
        if path.suffix in (".py", ".js") and ".venv" not in path.parts and "node_modules" not in path.parts
    ]
    cited = {
        (match[1], match[2])
        for path in sources
        for match in _CITATION.finditer(path.read_text(encoding="utf-8", errors="replace"))
    }
    assert ("architecture/page-model.md", "thinking-levels") in cited
    for page, anchor in sorted(cited, key=str):
        built = _built(site, page)
        assert built.is_file(), f"docs/{page} is cited but not built"
        if anchor:
            assert f'id="{anchor}"' in built.read_text(encoding="utf-8"), f"docs/{page}#{anchor} is cited"
