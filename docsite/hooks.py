"""The MkDocs hook (``mkdocs.yml``: ``hooks``) that adds the generated reference pages to the build.

The pages exist only in the build, never in ``docs/``: the configuration reference from the settings
models, the CLI reference from the parser, the API reference and ``openapi.json`` from the app. A
settings field without a description or a CLI argument without help is a warning, which
``mkdocs build --strict`` (``make docs``, ``tests/test_docs.py``) turns into a failed build.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

# MkDocs imports a hook by its file path, with only the hook's own folder on sys.path; the
# generators are the ``docsite`` package, imported from the repository root.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from docsite import api_reference, cli_reference, settings_reference  # noqa: E402

# Under "mkdocs." so that the build counts these warnings (and --strict fails on them).
log = logging.getLogger("mkdocs.hooks.docsite")

GENERATED = {
    "reference/configuration.md": settings_reference.render,
    "reference/cli.md": cli_reference.render,
    "reference/api.md": api_reference.render,
    "reference/openapi.json": api_reference.schema_json,
}


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the generated pages, and warn about what they could not document."""
    for field in settings_reference.undocumented():
        log.warning("settings field %s has no description (Field(description=...))", field)
    for argument in cli_reference.missing_help():
        log.warning("CLI %s has no help", argument)
    for uri, make in GENERATED.items():
        files.append(File.generated(config, uri, content=make()))
    return files
