"""The one jinja2 environment every HTML report renders with.

Implements `environment`: templates from `templates/` beside this module, autoescape on for every
template (a symbol, model name or error message is shown as text, never run as markup), and an
undefined name is an error rather than an empty string, so a renamed field cannot blank a page
silently. Built once per process and shared: rendering with it is thread-safe.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

TEMPLATE_DIR = Path(__file__).with_name("templates")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The shared environment: escaped, strict, whitespace-trimmed blocks."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
