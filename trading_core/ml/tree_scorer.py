"""A model's trees as a Treelite checkpoint: the daily run scores without its training library.

Importing LightGBM (or scikit-learn) takes about a second, mostly scikit-learn and scipy.stats
that LightGBM imports for its scikit-learn API; Treelite's tree interpreter (GTIL) takes a tenth
of that and scores the same trees. The registry saves a checkpoint next to each native model file
(`checkpoint`) and the daily run loads it (`TreeScorer.load`). A checkpoint is only written when
it scores a probe matrix (random features, missing values and exact zeros included) bit for bit
as the native model does, so Treelite's missing-value and threshold conventions are checked on
every model, not assumed; otherwise the member has no checkpoint and loads natively. That is the
case of XGBoost models: Treelite adds their float32 tree outputs in another order than XGBoost,
one unit in the last place apart on some rows (and importing XGBoost costs as much as LightGBM).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

FORMAT = "treelite"
PROBE_ROWS = 512
PROBE_SEED = 20261205


def checkpoint(kind: str, native: Any, features: int, trees: int | None = None) -> bytes | None:
    """Treelite checkpoint bytes of `native` (the estimator the registry saves), or None when
    Treelite cannot convert it or does not score the probe exactly as the native model does."""
    try:
        import treelite

        model = _convert(treelite, kind, native, trees)
    except Exception:  # an unsupported model or library version: it loads natively
        return None
    probe = probe_matrix(features)
    if not np.array_equal(_native_scores(kind, native, probe, trees), _scores(model, probe)):
        return None
    return bytes(model.serialize_bytes())


@dataclass(frozen=True)
class TreeScorer:
    """A loaded checkpoint; `predict` takes the float32 feature matrix the native model takes."""

    model: Any

    @classmethod
    def load(cls, payload: bytes) -> TreeScorer:
        import treelite

        return cls(treelite.Model.deserialize_bytes(payload))

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        return _scores(self.model, matrix)


def probe_matrix(features: int) -> np.ndarray:
    """Seeded float32 rows around the features' scales, with missing values and exact zeros."""
    rng = np.random.default_rng(PROBE_SEED)
    matrix = rng.standard_normal((PROBE_ROWS, features)).astype("float32")
    matrix[rng.random(matrix.shape) < 0.1] = np.nan
    matrix[rng.random(matrix.shape) < 0.05] = 0.0
    return matrix


def _convert(treelite: Any, kind: str, native: Any, trees: int | None) -> Any:
    if kind == "lightgbm":
        import lightgbm

        text = native.booster_.model_to_string(num_iteration=trees)
        return treelite.frontend.from_lightgbm(lightgbm.Booster(model_str=text))
    if kind == "xgboost":
        return treelite.frontend.from_xgboost(native.get_booster())
    return treelite.sklearn.import_model(native)


def _native_scores(kind: str, native: Any, matrix: np.ndarray, trees: int | None) -> np.ndarray:
    if kind == "sklearn":
        native.set_params(n_jobs=1)  # trees summed in order, as the loaded model sums them
    values = (
        native.predict(matrix) if trees is None else native.predict(matrix, num_iteration=trees)
    )
    return np.asarray(values, dtype="float64")


def _scores(model: Any, matrix: np.ndarray) -> np.ndarray:
    import treelite

    # every core OpenMP allows (OMP_NUM_THREADS; a larger count is an error): rows are scored
    # independently, so the threads change the time, never a score
    values = treelite.gtil.predict(model, matrix, nthread=-1)
    return np.asarray(values, dtype="float64").reshape(len(matrix))
