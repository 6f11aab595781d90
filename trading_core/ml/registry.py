"""The model registry: models in their native formats, verified by checksum before loading.

Each model member is one file in its library's own format — LightGBM text (`.txt`), XGBoost
UBJSON (`.ubj`), scikit-learn through skops (`.skops`, loaded only when every type skops does not trust by default
is on an exact allow-list) — named `<prefix><member>-<sha8>.<ext>`. A metadata JSON written last, atomically,
names every member file with its SHA-256: a crash mid-save leaves the previous model loadable.
An ensemble is the same record with several members. Nothing is ever unpickled.

Next to each member file, a Treelite checkpoint of its trees (`<prefix><member>-<sha8>.tl`, its
own SHA-256 under `scorer` in the member's record) lets the daily run score without importing the
training library (`trading_core.ml.tree_scorer`); `load_model` uses it when present and readable,
the native file otherwise. Both files' checksums are verified either way.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trading_core.errors import ModelError
from trading_core.io import atomic_write_bytes, to_json
from trading_core.ml import tree_scorer
from trading_core.ml.train import EnsembleModel, TrainedModel, as_matrix, mean_rank

EXTENSIONS = {"lightgbm": "txt", "xgboost": "ubj", "sklearn": "skops"}
SCORER_EXTENSION = "tl"
SCORER_ROWS = 50_000  # rows scored through the Treelite checkpoint; more through the native model
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


@dataclass
class LoadedMember:
    """One verified model file, with its Treelite checkpoint when it has a readable one.

    Up to `SCORER_ROWS` rows (a day's scoring, weeks of monitoring) are scored through the
    checkpoint, more through the native model, loaded on first need. Measured on two cores with a
    500-tree LightGBM model of 59 features: Treelite's interpreter scores about 30,000 rows a
    second, LightGBM about 77,000 after 1.2 s of import, so the checkpoint is the faster up to
    about 60,000 rows. Both give the same scores bit for bit (`tree_scorer.checkpoint` checks it
    before writing the checkpoint). Without a checkpoint the native model is loaded at once.
    """

    name: str
    kind: str
    features: list[str]
    payload: bytes = field(repr=False)
    path: Path
    scorer: tree_scorer.TreeScorer | None = None

    def __post_init__(self) -> None:
        if self.scorer is None:
            _ = self.native  # a file that cannot be read is refused when it is loaded

    @cached_property
    def native(self) -> Any:
        """The model as its own library loads it."""
        return _load_native(self.kind, self.payload, self.path)

    def predict(self, rows: pd.DataFrame) -> pd.Series:
        matrix = as_matrix(rows, self.features)
        if self.scorer is not None and len(matrix) <= SCORER_ROWS:
            values = self.scorer.predict(matrix)
        elif self.kind == "xgboost":
            import xgboost

            values = self.native.predict(xgboost.DMatrix(matrix))
        else:
            values = self.native.predict(matrix)
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
        return mean_rank([member.predict(rows) for member in self.members])


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
        record: dict[str, Any] = {
            "name": member.name,
            "kind": member.kind,
            "file": path.name,
            "sha256": digest,
            "features": member.features,
            "params": member.params,
        }
        scorer = tree_scorer.checkpoint(
            member.kind, member.estimator, len(member.features), member.trees
        )
        if scorer is not None:
            scorer_path = path.with_suffix(f".{SCORER_EXTENSION}")
            atomic_write_bytes(scorer_path, scorer)
            record["scorer"] = {"file": scorer_path.name, "sha256": _sha256(scorer)}
        members.append(record)
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
        for name in member_files(member):
            if not is_plain_file_name(name):
                raise ModelError(
                    f"model metadata {path} names an unsupported model file {name!r}: "
                    "member files must be plain names in the metadata's folder"
                )
    return metadata


def member_files(member: dict[str, Any]) -> list[Any]:
    """The files one member's record names: its native file, then its checkpoint if any."""
    scorer = member.get("scorer")
    return [member["file"], *([scorer.get("file")] if isinstance(scorer, dict) else [])]


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
    """Load the model a metadata file names, refusing any member whose checksum does not match.

    A member scores through its Treelite checkpoint when it has a readable one, else natively.
    """
    meta_path = folder / metadata_name
    metadata = read_metadata(meta_path)
    loaded = []
    for member in metadata["members"]:
        if member["kind"] not in EXTENSIONS:  # the file name was checked by read_metadata
            raise ModelError(f"model metadata {meta_path} names an unsupported model {member!r}")
        path = folder / member["file"]
        payload = _verified(path, member["sha256"], meta_path.name)
        record = member.get("scorer")
        checkpoint = (
            _verified(folder / record["file"], record.get("sha256"), meta_path.name)
            if isinstance(record, dict)
            else None
        )
        features = list(member.get("features") or metadata["features"])
        scorer = _scorer(checkpoint) if checkpoint is not None else None
        loaded.append(LoadedMember(member["name"], member["kind"], features, payload, path, scorer))
    return RegisteredModel(metadata=metadata, members=loaded)


def _verified(path: Path, sha256: object, metadata_name: str) -> bytes:
    """The bytes of `path`; ModelError when it is missing or does not match `sha256`."""
    if not path.exists():
        raise ModelError(f"model file {path} named by {metadata_name} is missing")
    payload = path.read_bytes()
    if _sha256(payload) != sha256:
        raise ModelError(
            f"model file {path} does not match the checksum in {metadata_name}: refusing to load"
        )
    return payload


def _scorer(checkpoint: bytes) -> tree_scorer.TreeScorer | None:
    """The checkpoint loaded, or None when this Treelite cannot read it (the native file is used)."""
    try:
        return tree_scorer.TreeScorer.load(checkpoint)
    except Exception:  # Treelite missing or of another format version
        return None
