"""Atomic file writes: a reader sees the old file or the new one, never a torn one."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from trading_core.faults import crash_point


def digest(*parts: object) -> str:
    """A short stable hash of the parts' text: a cache-key component, not a security check."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write `payload` to `path` through a synced temporary file and an atomic rename."""
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


def to_csv(frame: pd.DataFrame, index: bool = False) -> str:
    """CSV text with full float precision, the same bytes for the same frame."""
    return frame.to_csv(index=index, lineterminator="\n")


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
