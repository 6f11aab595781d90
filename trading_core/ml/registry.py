"""The model registry: models in their native formats, verified by checksum before loading.

Each model member is one file in its library's own format — LightGBM text (`.txt`), XGBoost
UBJSON (`.ubj`), scikit-learn through skops (`.skops`, loaded only when every type skops does not trust by default
is on an exact allow-list) — named `<prefix><member>-<sha8>.<ext>`. A metadata JSON written last, atomically,
names every member file with its SHA-256: a crash mid-save leaves the previous model loadable.
An ensemble is the same record with several members. Nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trading_core.errors import ModelError
from trading_core.io import atomic_write_bytes, to_json
from trading_core.ml.train import EnsembleModel, TrainedModel, as_matrix, rank_by_date

EXTENSIONS = {"lightgbm": "txt", "xgboost": "ubj", "sklearn": "skops"}
# Types skops does not trust by default that a scikit-learn forest needs: trusted by exact name.
TRUSTED_TYPES = frozenset({"sklearn.tree._tree.Tree"})


def _sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def _native_bytes(model: TrainedModel) -> bytes:
    """The model serialized by its own library."""
    if model.kind == "lightgbm":
        return model.estimator.booster_.model_to_string(num_iteration=model.trees).encode("utf-8")
    if model.kind == "xgboost":
        return bytes(model.estimator.get_booster().save_raw(raw_format="ubj"))
    import skops.io

    return skops.io.dumps(model.estimator)


def _load_native(kind: str, payload: bytes, where: Path) -> Any:
    """A predictor from verified bytes; ModelError if the library cannot read them."""
    try:
        if kind == "lightgbm":
            import lightgbm

            return lightgbm.Booster(model_str=payload.decode("utf-8"))
        if kind == "xgboost":
            import xgboost

            booster = xgboost.Booster()
            booster.load_model(bytearray(payload))
            return booster
        import skops.io

        untrusted = skops.io.get_untrusted_types(data=payload)
        foreign = [t for t in untrusted if t not in TRUSTED_TYPES]
        if foreign:
            raise ModelError(f"{where} contains types that are not trusted: {', '.join(foreign)}")
        forest = skops.io.loads(payload, trusted=untrusted)
        return forest.set_params(n_jobs=1)  # bit-identical scores: trees summed in order
    except ModelError:
        raise
    except Exception as exc:  # each library raises its own error type
        raise ModelError(f"model file {where} cannot be loaded: {exc}") from None


@dataclass(frozen=True)
class LoadedMember:
    """One verified, loaded model file."""

    name: str
    kind: str
    booster: Any
    features: list[str]

    def predict(self, rows: pd.DataFrame) -> pd.Series:
        matrix = as_matrix(rows, self.features)
        if self.kind == "xgboost":
            import xgboost

            values = self.booster.predict(xgboost.DMatrix(matrix))
        else:
            values = self.booster.predict(matrix)
        return pd.Series(np.asarray(values, dtype="float64"), index=rows.index, name="score")


@dataclass(frozen=True)
class RegisteredModel:
    """A model loaded from the registry: its metadata and its verified members."""

    metadata: dict[str, Any]
    members: list[LoadedMember]

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
        if len(self.members) == 1:
            return self.members[0].predict(rows)
        ranks = [rank_by_date(member.predict(rows)) for member in self.members]
        return (sum(ranks) / len(ranks)).rename("score")


def _members(model: TrainedModel | EnsembleModel) -> list[TrainedModel]:
    return list(model.members) if isinstance(model, EnsembleModel) else [model]


def save_model(
    model: TrainedModel | EnsembleModel,
    folder: Path,
    metadata: dict[str, Any],
    prefix: str = "",
    metadata_name: str = "metadata.json",
) -> Path:
    """Store `model` natively under `folder`, then its metadata; returns the metadata path."""
    members = []
    for member in _members(model):
        payload = _native_bytes(member)
        digest = _sha256(payload)
        path = folder / f"{prefix}{member.name}-{digest[:8]}.{EXTENSIONS[member.kind]}"
        atomic_write_bytes(path, payload)
        members.append(
            {
                "name": member.name,
                "kind": member.kind,
                "file": path.name,
                "sha256": digest,
                "features": member.features,
                "params": member.params,
            }
        )
    record = {**metadata, "model_name": model.name, "features": model.features, "members": members}
    meta_path = folder / metadata_name
    atomic_write_bytes(meta_path, to_json(record).encode())
    return meta_path


def read_metadata(path: Path) -> dict[str, Any]:
    """A registry metadata file; ModelError if missing or unreadable."""
    if not path.exists():
        raise ModelError(f"no model metadata at {path}")
    try:
        metadata = json.loads(path.read_text())
        members = metadata["members"]
        if not members or not all({"name", "kind", "file", "sha256"} <= set(m) for m in members):
            raise KeyError("members")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"model metadata {path} is unreadable: {exc}") from None
    for member in members:
        if not is_plain_file_name(member["file"]):
            raise ModelError(
                f"model metadata {path} names an unsupported model file {member['file']!r}: "
                "member files must be plain names in the metadata's folder"
            )
    return metadata


def is_plain_file_name(name: object) -> bool:
    """Whether `name` names a file directly inside a folder (no separator, no `..`, not absolute).

    Metadata is read from disk and could have been edited: every path built from a member's
    `file` (to load, archive or restore it) must stay in the folder the metadata lives in.
    """
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "/" not in name
        and "\\" not in name
        and Path(name).name == name
    )


def load_model(folder: Path, metadata_name: str = "metadata.json") -> RegisteredModel:
    """Load the model a metadata file names, refusing any member whose checksum does not match."""
    meta_path = folder / metadata_name
    metadata = read_metadata(meta_path)
    loaded = []
    for member in metadata["members"]:
        if member["kind"] not in EXTENSIONS:  # the file name was checked by read_metadata
            raise ModelError(f"model metadata {meta_path} names an unsupported model {member!r}")
        path = folder / member["file"]
        if not path.exists():
            raise ModelError(f"model file {path} named by {meta_path.name} is missing")
        payload = path.read_bytes()
        if _sha256(payload) != member["sha256"]:
            raise ModelError(
                f"model file {path} does not match the checksum in {meta_path.name}: refusing to load"
            )
        features = list(member.get("features") or metadata["features"])
        loaded.append(
            LoadedMember(
                member["name"],
                member["kind"],
                _load_native(member["kind"], payload, path),
                features,
            )
        )
    return RegisteredModel(metadata=metadata, members=loaded)
