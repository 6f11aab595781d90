"""A command's answer: with --json one strict JSON object on stdout, else lines for a person."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import typer

from app.invocation import Invocation


def reply(outcome: dict[str, Any], show: Callable[[], None]) -> None:
    """A command's outcome: one JSON object on stdout with --json, else `show()` for a person."""
    if Invocation.json:
        emit(outcome)
    else:
        show()


def emit(outcome: dict[str, Any]) -> None:
    """`outcome` as one line of JSON on stdout (paths and dates as strings)."""
    typer.echo(json.dumps(plain(outcome), default=str))


def plain(value: Any) -> Any:
    """`value` with numpy scalars as Python numbers and NaN/infinity as null (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
