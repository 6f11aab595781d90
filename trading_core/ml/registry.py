"""The model registry: models in their native formats, verified by checksum before loading.

A model is stored as `<stem>-<sha8>.txt` (LightGBM text) or `.json` (XGBoost JSON) next to
`<stem>_metadata.json`, which names the file and its SHA-256 and is written last, atomically: a
crash mid-save leaves the previous model loadable. Nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trading_core.errors import ModelError
from trading_core.io import atomic_write_bytes, to_json
from trading_core.ml.train import TrainedModel

EXTENSIONS = {"lightgbm": "txt", "xgboost": "json"}


def _sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def _native_bytes(model: TrainedModel) -> bytes:
    """The model serialized by its own library."""
    if model.kind == "lightgbm":
        return model.estimator.booster_.model_to_string().encode("utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.json"
        model.estimator.get_booster().save_model(path)
        return path.read_bytes()


@dataclass(frozen=True)
class RegisteredModel:
    """A model loaded from the registry: its metadata and a native booster to predict with."""

    metadata: dict[str, Any]
    booster: Any

    @property
    def name(self) -> str:
        return str(self.metadata["model_name"])

    @property
    def features(self) -> list[str]:
        return list(self.metadata["features"])

    def predict(self, rows: pd.DataFrame) -> pd.Series:
        """Scores for `rows`; ModelError if the rows lack a feature the model was trained on."""
        missing = [f for f in self.features if f not in rows.columns]
        if missing:
            raise ModelError(
                f"model {self.name} needs feature(s) the data does not provide: {', '.join(missing)}"
            )
        matrix = rows[self.features].to_numpy(dtype="float64")
        if self.metadata["kind"] == "xgboost":
            import xgboost

            values = self.booster.predict(xgboost.DMatrix(matrix))
        else:
            values = self.booster.predict(matrix)
        return pd.Series(np.asarray(values, dtype="float64"), index=rows.index, name="score")


def save_model(model: TrainedModel, folder: Path, stem: str, metadata: dict[str, Any]) -> Path:
    """Store `model` natively under `folder` with its metadata; returns the metadata path."""
    payload = _native_bytes(model)
    digest = _sha256(payload)
    model_file = folder / f"{stem}-{digest[:8]}.{EXTENSIONS[model.kind]}"
    atomic_write_bytes(model_file, payload)
    record = {
        **metadata,
        "model_name": model.name,
        "kind": model.kind,
        "features": model.features,
        "model_file": model_file.name,
        "sha256": digest,
    }
    meta_path = folder / f"{stem}_metadata.json"
    atomic_write_bytes(meta_path, to_json(record).encode())
    return meta_path


def load_model(folder: Path, stem: str) -> RegisteredModel:
    """Load the model named by `<stem>_metadata.json`, refusing it unless its checksum matches."""
    meta_path = folder / f"{stem}_metadata.json"
    if not meta_path.exists():
        raise ModelError(f"no model metadata at {meta_path}")
    try:
        metadata = json.loads(meta_path.read_text())
        model_file = folder / metadata["model_file"]
        expected = metadata["sha256"]
        kind = metadata["kind"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"model metadata {meta_path} is unreadable: {exc}") from None
    if kind not in EXTENSIONS or Path(metadata["model_file"]).name != metadata["model_file"]:
        raise ModelError(f"model metadata {meta_path} names an unsupported model {kind!r}")
    if not model_file.exists():
        raise ModelError(f"model file {model_file} named by {meta_path.name} is missing")
    payload = model_file.read_bytes()
    if _sha256(payload) != expected:
        raise ModelError(
            f"model file {model_file} does not match the checksum in {meta_path.name}: refusing to load"
        )
    try:
        if kind == "lightgbm":
            import lightgbm

            booster = lightgbm.Booster(model_str=payload.decode("utf-8"))
        else:
            import xgboost

            booster = xgboost.Booster()
            booster.load_model(bytearray(payload))
    except Exception as exc:  # each library raises its own error type
        raise ModelError(f"model file {model_file} cannot be loaded: {exc}") from None
    return RegisteredModel(metadata=metadata, booster=booster)
