"""ModelTrainer: builds and fits the candidate models on (date, symbol) feature rows.

Candidates: `lightgbm` (gradient-boosted trees, LightGBM) and `xgboost_default` (XGBoost with
library-default-like settings). Both are seeded and deterministic: the same rows give the same model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from trading_core.errors import ModelError

CANDIDATES = ("lightgbm", "xgboost_default")


@dataclass(frozen=True)
class TrainedModel:
    """A fitted estimator, its candidate name and the feature columns it was trained on, in order."""

    name: str
    estimator: Any
    features: list[str]

    @property
    def kind(self) -> str:
        return "lightgbm" if self.name == "lightgbm" else "xgboost"

    def predict(self, rows: pd.DataFrame) -> pd.Series:
        """Scores for `rows` (indexed by (date, symbol)); higher means a higher expected return."""
        values = self.estimator.predict(rows[self.features].to_numpy(dtype="float64"))
        return pd.Series(np.asarray(values, dtype="float64"), index=rows.index, name="score")


class ModelTrainer:
    """Make and fit candidates with hyperparameters from the modeling settings and a seed."""

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.03,
        num_leaves: int = 31,
        min_child_samples: int = 200,
        seed: int = 42,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.seed = seed

    def make(self, name: str) -> Any:
        """An unfitted estimator for candidate `name`."""
        if name == "lightgbm":
            import lightgbm

            return lightgbm.LGBMRegressor(
                n_estimators=self.n_estimators,
                learning_rate=self.learning_rate,
                num_leaves=self.num_leaves,
                min_child_samples=self.min_child_samples,
                subsample=0.8,
                subsample_freq=1,
                colsample_bytree=0.8,
                random_state=self.seed,
                deterministic=True,
                force_row_wise=True,
                verbose=-1,
            )
        if name == "xgboost_default":
            import xgboost

            return xgboost.XGBRegressor(
                n_estimators=self.n_estimators,
                learning_rate=0.1,
                max_depth=4,
                subsample=0.8,
                colsample_bytree=0.8,
                tree_method="hist",
                random_state=self.seed,
            )
        raise ValueError(f"unknown model candidate {name!r}: choose from {', '.join(CANDIDATES)}")

    def fit(self, name: str, rows: pd.DataFrame, labels: pd.Series) -> TrainedModel:
        """Fit candidate `name` on the feature rows that have a label."""
        joined = rows.join(labels.rename("__label__"), how="inner")
        joined = joined[joined["__label__"].notna()]
        if joined.empty:
            raise ModelError(f"no labeled rows to train {name} on")
        features = list(rows.columns)
        estimator = self.make(name)
        estimator.fit(joined[features].to_numpy(dtype="float64"), joined["__label__"].to_numpy())
        return TrainedModel(name=name, estimator=estimator, features=features)
