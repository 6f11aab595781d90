"""ModelTrainer: builds and fits the candidate models on feature rows.

Candidates:
- `lightgbm`: LightGBM gradient-boosted trees, early stopping on the validation fold.
- `xgboost_default`: XGBoost with the configured (untuned) parameters.
- `xgboost_tuned`: XGBoost with parameters found by Optuna on the walk-forward folds.
- `random_forest`: a random forest, grown by LightGBM (`boosting_type="rf"`, histogram splits,
  bagging without replacement) or, with `engine: sklearn`, scikit-learn's RandomForestRegressor.
- `ensemble`: the mean of its members' cross-sectional score ranks (trained members, not re-fits).
All are seeded and single-process deterministic: the same rows give the same model, bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from trading_core.errors import ModelError

BASE_CANDIDATES = ("lightgbm", "xgboost_default", "xgboost_tuned", "random_forest")
CANDIDATES = (*BASE_CANDIDATES, "ensemble")
KINDS = {"lightgbm": "lightgbm", "xgboost_default": "xgboost", "xgboost_tuned": "xgboost"}
# The forest's settings in scikit-learn's names, and LightGBM's names for the same thing.
FOREST_IN_LIGHTGBM = {
    "n_estimators": "n_estimators",
    "max_depth": "max_depth",
    "min_samples_leaf": "min_child_samples",
    "max_features": "colsample_bynode",
    "max_samples": "subsample",
}


def kind_of(name: str, params: dict[str, Any]) -> str:
    """The library that fits candidate `name` with `params` (the forest's `engine` chooses)."""
    if name == "random_forest":
        return "sklearn" if params.get("engine") == "sklearn" else "lightgbm"
    if name not in KINDS:
        raise ModelError(f"unknown model candidate {name!r}: choose from {', '.join(CANDIDATES)}")
    return KINDS[name]


def as_matrix(rows: pd.DataFrame, features: list[str]) -> np.ndarray:
    """The feature columns as a float32 matrix (the models' native input)."""
    return rows[features].to_numpy(dtype="float32")


def rank_by_date(scores: pd.Series) -> pd.Series:
    """Each score's percentile rank among the symbols of its date."""
    return scores.groupby(level="date").rank(pct=True)


def mean_rank(scores: Sequence[pd.Series]) -> pd.Series:
    """The mean of the scores' per-date percentile ranks, named `score`: an ensemble's score."""
    ranks = [rank_by_date(s) for s in scores]
    return (sum(ranks[1:], ranks[0]) / len(ranks)).rename("score")


@dataclass(frozen=True)
class TrainedModel:
    """A fitted estimator: its candidate name, library kind, feature columns and parameters."""

    name: str
    kind: str
    estimator: Any
    features: list[str]
    params: dict[str, Any] = field(default_factory=dict)
    best_iteration: int | None = None
    trees: int | None = None  # LightGBM: score with the first `trees` trees only (`first_trees`)

    def first_trees(self, trees: int, params: dict[str, Any]) -> TrainedModel:
        """This LightGBM model as a fit of `params` with `trees` trees: the same model bit for bit,
        since boosting builds tree k the same whatever comes after it."""
        if self.kind != "lightgbm" or trees > (self.best_iteration or 0):
            raise ModelError(f"{self.name} has no first {trees} trees to stand for a shorter fit")
        return replace(self, params=params, best_iteration=None, trees=trees)

    def predict(self, rows: pd.DataFrame) -> pd.Series:
        """Scores for `rows` (indexed by (date, symbol)); higher means a higher expected return."""
        if self.kind == "sklearn":  # a forest sums its trees in thread-completion order otherwise
            self.estimator.set_params(n_jobs=1)
        x = as_matrix(rows, self.features)
        if self.trees is None:
            values = self.estimator.predict(x)
        else:
            values = self.estimator.predict(x, num_iteration=self.trees)
        return pd.Series(np.asarray(values, dtype="float64"), index=rows.index, name="score")


@dataclass(frozen=True)
class EnsembleModel:
    """The mean of the members' per-date percentile ranks: scale-free, so no member dominates."""

    name: str
    members: list[TrainedModel]

    @property
    def features(self) -> list[str]:
        return list(dict.fromkeys(f for member in self.members for f in member.features))

    def predict(self, rows: pd.DataFrame) -> pd.Series:
        return mean_rank([member.predict(rows) for member in self.members])


class ModelTrainer:
    """Make and fit candidates from per-library parameters, a seed and a thread count."""

    def __init__(
        self,
        lightgbm: dict[str, Any] | None = None,
        xgboost: dict[str, Any] | None = None,
        random_forest: dict[str, Any] | None = None,
        seed: int = 42,
        n_jobs: int = 2,
    ) -> None:
        self.lightgbm = dict(lightgbm or {"n_estimators": 300, "early_stopping_rounds": 50})
        self.xgboost = dict(xgboost or {"n_estimators": 300})
        self.random_forest = dict(random_forest or {"n_estimators": 200})
        self.seed = seed
        self.n_jobs = n_jobs

    def params(self, name: str) -> dict[str, Any]:
        """The configured parameters of candidate `name` (tuned candidates get theirs at fit)."""
        if name == "lightgbm":
            return {k: v for k, v in self.lightgbm.items() if k != "early_stopping_rounds"}
        if name in ("xgboost_default", "xgboost_tuned"):
            return dict(self.xgboost)
        if name == "random_forest":
            return dict(self.random_forest)
        raise ModelError(f"unknown model candidate {name!r}: choose from {', '.join(CANDIDATES)}")

    def make(self, name: str, params: dict[str, Any]) -> Any:
        """An unfitted estimator for candidate `name` with `params`."""
        kind = kind_of(name, params)
        if name == "random_forest":
            return self._forest(kind, {k: v for k, v in params.items() if k != "engine"})
        if kind == "lightgbm":
            import lightgbm

            return lightgbm.LGBMRegressor(
                **params,
                random_state=self.seed,
                n_jobs=self.n_jobs,
                deterministic=True,
                force_row_wise=True,
                subsample_freq=1,
                verbose=-1,
            )
        if kind == "xgboost":
            import xgboost

            return xgboost.XGBRegressor(
                **params, tree_method="hist", random_state=self.seed, n_jobs=self.n_jobs
            )
        raise ModelError(f"unknown model candidate {name!r}: choose from {', '.join(CANDIDATES)}")

    def _forest(self, kind: str, params: dict[str, Any]) -> Any:
        """A random forest: LightGBM's (several times faster on these data: histogram splits)
        or scikit-learn's, from the same settings."""
        if kind == "sklearn":
            from sklearn.ensemble import RandomForestRegressor

            return RandomForestRegressor(**params, random_state=self.seed, n_jobs=self.n_jobs)
        import lightgbm

        forest = {FOREST_IN_LIGHTGBM.get(k, k): v for k, v in params.items()}
        forest.setdefault(
            "subsample", 0.632
        )  # LightGBM's forest needs bagging: a bootstrap's share
        if "max_depth" in forest:  # as deep as scikit-learn's, leaf for leaf
            forest["num_leaves"] = min(2 ** forest["max_depth"], 131_072)
        return lightgbm.LGBMRegressor(
            boosting_type="rf",
            **forest,
            subsample_freq=1,
            random_state=self.seed,
            n_jobs=self.n_jobs,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )

    def fit(
        self,
        name: str,
        rows: pd.DataFrame,
        labels: pd.Series,
        params: dict[str, Any] | None = None,
        validation: tuple[pd.DataFrame, pd.Series] | None = None,
    ) -> TrainedModel:
        """Fit candidate `name` on `rows` with target `labels` (aligned, no NaN labels).

        `validation` (rows, labels) enables LightGBM's early stopping; the returned model keeps the
        best iteration. Other candidates ignore it.
        """
        if len(rows) == 0:
            raise ModelError(f"no labeled rows to train {name} on")
        params = self.params(name) if params is None else dict(params)
        features = list(rows.columns)
        estimator = self.make(name, params)
        x, y = as_matrix(rows, features), labels.to_numpy(dtype="float64")
        best = None
        if name == "lightgbm" and validation is not None:
            import lightgbm

            rounds = int(self.lightgbm.get("early_stopping_rounds", 50))
            estimator.fit(
                x,
                y,
                eval_X=(as_matrix(validation[0], features),),
                eval_y=(validation[1].to_numpy(),),
                callbacks=[lightgbm.early_stopping(rounds, verbose=False)],
            )
            best = int(estimator.best_iteration_ or params.get("n_estimators", 100))
        else:
            estimator.fit(x, y)
        return TrainedModel(
            name=name,
            kind=kind_of(name, params),
            estimator=estimator,
            features=features,
            params=params,
            best_iteration=best,
        )
