"""Scores a saved model gave to feature rows before, kept on disk, so each row is scored once.

The daily run's monitoring scores the model on every session since its training cutoff whose
outcome is known: weeks of rows, all but one session of them the same as the day before (at 500
names and 40 sessions since the cutoff, 1.2 s a day: past a few thousand rows the registry loads
LightGBM itself). Here a row is known by a 64-bit hash of its (date, symbol) and its feature
values. Only the dates with a row never seen, or whose features changed (a data correction,
history re-adjusted for a split), go to the model, all of their rows (an ensemble's score is a
rank within the date); a model gives the same rows the same scores, so a remembered score is the
score.

- `model_id`: a saved model's identity, from its members' file checksums (None for a model fitted
  on the spot, which is not remembered).
- `remembered_scores`: the model's scores of `rows`, through the memo file.

One Parquet file per model (`<model id>.parquet`: key, score), holding the rows of the last call
only, written atomically; the files of other models are removed then. An unreadable file is
read as empty: the rows are scored again.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trading_core.io import atomic_write_bytes
from trading_core.ml.scorer import Scorer

SUFFIX = ".parquet"


def model_id(record: dict[str, Any]) -> str | None:
    """The identity of the saved model `record` describes: a digest of its members' SHA-256s."""
    checksums = [member.get("sha256") for member in record.get("members", [])]
    if not checksums or not all(checksums):
        return None
    return hashlib.sha256("|".join(checksums).encode()).hexdigest()[:16]


def row_keys(rows: pd.DataFrame) -> np.ndarray:
    """One 64-bit key per row from its (date, symbol) and every feature value."""
    return pd.util.hash_pandas_object(rows, index=True).to_numpy()


def remembered_scores(model: Scorer, rows: pd.DataFrame, file: Path | None) -> pd.Series:
    """`model.predict(rows)`, scoring only the rows `file` does not remember (all without one)."""
    if rows.empty:
        return pd.Series(dtype="float64", name="score")
    if file is None:
        return model.predict(rows)
    keys = row_keys(rows)
    known = _read(file)
    dates = rows.index.get_level_values("date")
    # whole dates go to the model: an ensemble's score is a rank among the date's rows
    fresh = np.asarray(dates.isin(dates[~np.isin(keys, known.index.to_numpy())]))
    scores = np.empty(len(rows), dtype="float64")
    scores[~fresh] = known.reindex(keys[~fresh]).to_numpy()
    if fresh.any():
        scores[fresh] = model.predict(rows[fresh]).to_numpy(dtype="float64")
    _write(file, keys, scores)
    return pd.Series(scores, index=rows.index, name="score")


def _read(file: Path) -> pd.Series:
    """The remembered scores by key; empty when there is no file or it cannot be read."""
    try:
        frame = pd.read_parquet(file)
        known = pd.Series(frame["score"].to_numpy("float64"), index=frame["key"].to_numpy("uint64"))
    except Exception:  # missing, torn or foreign: score the rows again
        return pd.Series(dtype="float64", index=pd.Index([], dtype="uint64"))
    return known[~known.index.duplicated()]


def _write(file: Path, keys: np.ndarray, scores: np.ndarray) -> None:
    """Remember this call's rows in `file` (atomically) and forget other models' files."""
    file.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    pd.DataFrame({"key": keys, "score": scores}).to_parquet(buffer, index=False)
    atomic_write_bytes(file, buffer.getvalue())
    for other in file.parent.glob(f"*{SUFFIX}"):
        if other != file:
            other.unlink(missing_ok=True)
