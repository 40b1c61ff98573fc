"""Every route the gateway serves has a curl example in the documentation (issue 12, point 7).

The routes come from the FastAPI app itself, so a new route without an example fails here. The
examples are read from every page under ``docs/`` (the guides and the operations pages, where the
README's examples moved) and from the README. The ``/gemini_official`` twins of ``/v1`` and
``/admin`` answer identically (the pages say so), so an example of either counts for both.
"""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

from fastapi.routing import iter_route_contexts
from pydantic import SecretStr

from service.app import create_app
from service.settings import GatewaySettings

ROOT = Path(__file__).resolve().parents[1]
TWINS = (
    ("/gemini_official/v1/", "/v1/"),
    ("/gemini_official/v1beta/", "/v1beta/"),
    ("/gemini_official/admin/", "/admin/"),
)
# The dashboard's own form actions: a browser posts them from /admin/ui (its login form included);
# scripts use the admin API above instead.
DASHBOARD_FORMS = {
    ("POST", "/admin/ui/logout"),
    ("POST", "/admin/ui/accounts"),
    ("POST", "/admin/ui/accounts/{account_id}/{action}"),
    ("GET", "/admin/ui/accounts/{account_id}/screenshot.png"),
    ("GET", "/admin/ui/accounts/{account_id}/live"),  # the live view's page (docs/operations/live-sign-in.md)
    ("POST", "/admin/ui/accounts/sign-in-inside"),
    ("POST", "/admin/ui/keys"),
    ("POST", "/admin/ui/keys/{key_id}/revoke"),
    ("GET", "/admin/ui/"),  # the same page as /admin/ui
}
_URL = re.compile(r"^(?:\$\{?\w+\}?|https?://[^/\s\"']+)(/[^\s?#\"']*)")
_SEPARATORS = {";", "&&", "||", "|", "&"}
_DATA_FLAGS = {"-d", "--data", "--data-raw", "--data-binary", "--data-urlencode", "-F", "--form", "--json"}


def documentation() -> str:
    """The README and every page of the documentation site, as one text."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return "\n".join(page.read_text(encoding="utf-8") for page in pages)


def app_routes(tmp_path: Path) -> set[tuple[str, str]]:
    """(method, path template) of every route, the ``/gemini_official`` twins folded into theirs."""
    settings = GatewaySettings(
        api_keys=[SecretStr("k")], admin_keys=[SecretStr("a")], data_dir=tmp_path / "data"
    )  # type: ignore[call-arg]
    app = create_app(settings)
    return {
        (method, fold(route.path))
        for route in iter_route_contexts(app.routes)
        for method in (route.methods or ())
        if method != "HEAD"
    }


def fold(path: str) -> str:
    for twin, canonical in TWINS:
        if path.startswith(twin) or path + "/" == twin:
            return canonical + path[len(twin) :]
    return path


def curl_commands(text: str) -> Iterator[list[str]]:
    """The words of each ``curl`` command in the text's shell blocks (continuations joined)."""
    for block in re.findall(r"```(?:sh|bash|shell)\n(.*?)```", text, re.DOTALL):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            command: list[str] = []
            for word in [*lexer, ";"]:
                if word not in _SEPARATORS:
                    command.append(word)
                    continue
                if "curl" in command:
                    yield command[command.index("curl") + 1 :]
                command = []


def examples(text: str) -> set[tuple[str, str]]:
    """(method, path) of every curl example: ``-X`` wins, else POST with a body, else GET."""
    found: set[tuple[str, str]] = set()
    for words in curl_commands(text):
        method = "GET"
        if any(word in _DATA_FLAGS for word in words):
            method = "POST"
        for flag, value in itertools.pairwise(words):
            if flag in ("-X", "--request"):
                method = value.upper()
        for word in words:
            url = _URL.match(word)
            if url:
                found.add((method, fold(url.group(1))))
    return found


def covered(route: tuple[str, str], shown: set[tuple[str, str]]) -> bool:
    method, template = route
    pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
    return any(m == method and pattern.match(path) for m, path in shown)


def test_every_route_has_a_curl_example(tmp_path: Path) -> None:
    routes = app_routes(tmp_path)
    shown = examples(documentation())
    missing = sorted(route for route in routes - DASHBOARD_FORMS if not covered(route, shown))
    assert missing == [], f"routes without a curl example in docs/: {missing}"
    assert routes >= DASHBOARD_FORMS, "an exempted dashboard form is no longer served"


def test_chat_completions_are_shown_streamed_and_not() -> None:
    bodies = [
        " ".join(words)
        for words in curl_commands((ROOT / "docs" / "guides" / "chat.md").read_text(encoding="utf-8"))
        if any("/chat/completions" in word for word in words)
    ]
    assert any('"stream": true' in body for body in bodies)
    assert any('"stream"' not in body for body in bodies)


def test_the_parser_reads_methods_paths_and_twins() -> None:
    text = """```sh
curl -H "$A" -X DELETE $G/gemini_official/admin/keys/key_1   # revoke
curl http://127.0.0.1:8000/v1/images/edits \\
  -F "image[]=@a.png"
curl $G/healthz; curl "$G/media/x.png?exp=1&sig=2"
```"""
    assert examples(text) == {
        ("DELETE", "/admin/keys/key_1"),
        ("POST", "/v1/images/edits"),
        ("GET", "/healthz"),
        ("GET", "/media/x.png"),
    }
    assert covered(("GET", "/media/{name}"), examples(text))
    assert not covered(("GET", "/admin/keys/{key_id}"), examples(text))
