"""Atomic file writes (a reader sees the old file or the new one, never a torn one) and the CSV
writer and reader of every file alphapilot writes for people to open in a spreadsheet.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from trading_core.faults import crash_point


def digest(*parts: object) -> str:
    """A short stable hash of the parts' text: a cache-key component, not a security check."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write `payload` to `path` through a synced temporary file and an atomic rename.

    An OSError (a full disk, a read-only folder) names `path`, not the temporary file, so the
    one-line error a person sees says which file could not be written.
    """
    with named_in_errors(path):
        _write_through_temporary(path, payload)


@contextmanager
def named_in_errors(path: Path) -> Iterator[None]:
    """An OSError raised in the block names `path`: the file a person knows, not a temporary one."""
    try:
        yield
    except OSError as exc:
        if exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror, str(path)) from exc


def _write_through_temporary(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):  # from a writer that was killed
        leftover.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        crash_point(f"write:{path.name}")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def to_json(payload: Any) -> str:
    """Stable, human-readable, strict JSON (sorted keys, two-space indent, trailing newline).

    NaN and infinities, which strict parsers reject, are written as null.
    """
    return (
        json.dumps(_finite(payload), indent=2, sort_keys=True, default=str, allow_nan=False) + "\n"
    )


def _finite(value: Any) -> Any:
    """`value` with every non-finite float (at any depth) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


# A text cell a spreadsheet would run as a formula starts with one of = + - @ tab CR (OWASP's CSV
# injection rule), possibly after quotes: such a cell gets one more leading quote on write and
# loses one on read, so every text, including one that already starts with a quote, round-trips.
_FORMULA_LIKE = re.compile("'*[=+\\-@\t\r]")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?([eE][+-]?\d+)?")  # "-0.27": a number, not a formula


def neutralise(text: str) -> str:
    """`text` as written to a CSV cell: a leading `'` added when it starts like a formula (a
    plain signed number, such as a negative Sharpe in a text column, is left as it is)."""
    if _PLAIN_NUMBER.fullmatch(text):
        return text
    return f"'{text}" if _FORMULA_LIKE.match(text) else text


def restore(text: str) -> str:
    """The inverse of `neutralise`: one leading `'` removed when what follows starts like one."""
    return text[1:] if text.startswith("'") and _FORMULA_LIKE.match(text, 1) else text


def _is_text(values: pd.Index | pd.Series) -> bool:
    return pd.api.types.is_string_dtype(values.dtype)  # object or str dtype, not numbers


def _text_cells(values: pd.Index | pd.Series, change: Callable[[str], str]) -> Any:
    """`values` with `change` applied to each str cell of a text column; numbers left alone."""
    return (
        values.map(lambda v: change(v) if isinstance(v, str) else v) if _is_text(values) else values
    )


def to_csv(frame: pd.DataFrame, index: bool = False) -> str:
    """CSV text with full float precision, the same bytes for the same frame.

    Text cells (and the index, when written) that start like a formula are neutralised, so the
    file is safe to open in a spreadsheet; `read_csv` gives them back unchanged. A frame with a
    carriage return in a text is written with every text quoted (the csv module would leave it
    bare, and a reader would split the row there).
    """
    safe = frame.copy()
    for position in range(frame.shape[1]):
        safe.isetitem(position, _text_cells(frame.iloc[:, position], neutralise))
    if index:
        safe.index = _text_cells(frame.index, neutralise)
    columns = [safe.iloc[:, i] for i in range(safe.shape[1])] + ([safe.index] if index else [])
    bare_cr = any(isinstance(v, str) and "\r" in v for c in columns if _is_text(c) for v in c)
    quoting = csv.QUOTE_NONNUMERIC if bare_cr else csv.QUOTE_MINIMAL
    return safe.to_csv(index=index, lineterminator="\n", quoting=quoting)


def read_csv(path: Path | str, **options: Any) -> pd.DataFrame:
    """Read a CSV file alphapilot wrote with `to_csv`, its neutralised text cells restored."""
    frame = pd.read_csv(path, **options)
    for position in range(frame.shape[1]):
        frame.isetitem(position, _text_cells(frame.iloc[:, position], restore))
    frame.index = _text_cells(frame.index, restore)
    return frame


def replace_directory(staging: Path, target: Path) -> None:
    """Move a fully written `staging` folder to `target`, replacing any previous version."""
    backup = target.with_name(f".{target.name}.old")
    shutil.rmtree(backup, ignore_errors=True)
    crash_point(f"write:{target.name}")
    if target.exists():
        os.replace(target, backup)
    crash_point(f"replace:{target.name}")
    os.replace(staging, target)
    shutil.rmtree(backup, ignore_errors=True)
