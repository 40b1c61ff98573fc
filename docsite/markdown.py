"""Plain text (help strings, docstrings, schema descriptions) made safe inside generated Markdown."""

from __future__ import annotations

import html
import re

__all__ = ["plain", "sentence"]

# Code spans are kept as written (Markdown shows them literally); outside them, characters that
# Markdown would read as emphasis, links or HTML are escaped, since the texts mean them literally.
_CODE_SPAN = re.compile(r"(`[^`]*`)")
_MARKUP = re.compile(r"([\\*_\[\]|])")


def plain(text: str) -> str:
    """``text`` on one line as literal Markdown, its `code spans` kept, safe in a table cell."""
    # Docstrings write code as reStructuredText does, ``like this``.
    parts = _CODE_SPAN.split(" ".join(text.split()).replace("``", "`"))
    return "".join(
        part.replace("|", "\\|") if index % 2 else _MARKUP.sub(r"\\\1", html.escape(part, quote=False))
        for index, part in enumerate(parts)
    )


def sentence(text: str) -> str:
    """``text`` made a sentence: a capital first, a full stop last."""
    text = text.strip()
    if not text:
        return ""
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")
