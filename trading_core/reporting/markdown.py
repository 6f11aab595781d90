"""Markdown that shows untrusted text as typed: symbols, model names and error messages.

Implements:

- `markdown_text`: a value as literal text in markdown, safe inside a table cell.
- `markdown_table`: a pipe table from a header and rows of already-escaped cells.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def markdown_text(value: object) -> str:
    """`value` as literal text in markdown (and a table cell): no HTML, links, emphasis or rows.

    `<script>` shows as text: `&`, `<`, `>` become entities, markdown punctuation is escaped and
    line breaks become spaces.
    """
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(MARKDOWN_SPECIAL.sub(r"\\\1", text).split())


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Lines of a pipe table; the cells must already be escaped (see `markdown_text`)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]
