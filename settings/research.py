"""Research settings: the feature windows, labels, walk-forward validation and model parameters.

What a research result depends on: `Settings.research_fingerprint` hashes these sections.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr

from settings.section import Section


def windows(*default: int) -> Any:
    """A non-empty list of window lengths in sessions."""
    return Field(default_factory=lambda: list(default), min_length=1)


Window = Annotated[int, Field(ge=1)]
InputForm = Literal["raw", "rank", "z"]
DEFAULT_INPUTS: tuple[InputForm, ...] = ("z",)  # the default, typed so its literal is checked
Window2 = Annotated[int, Field(ge=2)]
Window3 = Annotated[int, Field(ge=3)]


class FeatureSettings(Section):
    """Windows (in sessions) of the feature library; see trading_core.features.library."""

    momentum_windows: list[Window] = windows(1, 5, 10, 20, 60, 120, 250)
    reversal_window: int = Field(5, ge=1)
    volatility_windows: list[Window2] = windows(5, 10, 20, 60, 120)
    skew_windows: list[Window3] = windows(20, 60, 120)
    range_windows: list[Window] = windows(20, 60, 120, 250)
    ma_windows: list[Window] = windows(5, 10, 20, 60, 120, 250)
    ma_pairs: list[tuple[Window, Window]] = Field(
        default_factory=lambda: [(5, 20), (20, 60), (50, 200)]
    )
    beta_windows: list[Window2] = windows(60, 120)
    volume_window: int = Field(20, ge=2)
    bar_window: int = Field(20, ge=1)


class CVSettings(Section):
    """Walk-forward validation on the sessions before the test period."""

    folds: int = Field(5, ge=1)
    validation_sessions: int = Field(126, ge=5)
    window: Literal["expanding", "rolling"] = "expanding"
    train_sessions: int = Field(2520, ge=20)
    embargo_sessions: int = Field(0, ge=0)


class LightGBMSettings(Section):
    n_estimators: int = Field(500, ge=1)
    learning_rate: float = Field(0.03, gt=0.0, le=1.0)
    num_leaves: int = Field(31, ge=2)
    min_child_samples: int = Field(200, ge=1)
    subsample: float = Field(0.8, gt=0.0, le=1.0)
    colsample_bytree: float = Field(0.8, gt=0.0, le=1.0)
    early_stopping_rounds: int = Field(50, ge=1)


class XGBoostSettings(Section):
    n_estimators: int = Field(300, ge=1)
    learning_rate: float = Field(0.05, gt=0.0, le=1.0)
    max_depth: int = Field(4, ge=1, le=16)
    min_child_weight: float = Field(1.0, ge=0.0)
    subsample: float = Field(0.8, gt=0.0, le=1.0)
    colsample_bytree: float = Field(0.8, gt=0.0, le=1.0)
    gamma: float = Field(0.0, ge=0.0)


class RandomForestSettings(Section):
    """The forest in scikit-learn's terms; `engine: lightgbm` grows the same forest with LightGBM's
    histogram splits (several times faster; bagging draws without replacement), `sklearn` with
    scikit-learn's RandomForestRegressor."""

    engine: Literal["lightgbm", "sklearn"] = "lightgbm"
    n_estimators: int = Field(100, ge=1)
    max_depth: int = Field(6, ge=1)
    min_samples_leaf: int = Field(100, ge=1)
    max_features: float = Field(0.3, gt=0.0, le=1.0)
    max_samples: float = Field(0.2, gt=0.0, le=1.0)


class TuningSettings(Section):
    """Optuna search for `xgboost_tuned`: scored on the walk-forward folds, never the test period."""

    trials: int = Field(30, ge=1)
    timeout_seconds: float = Field(600.0, gt=0.0)
    sample_stride: int = Field(10, ge=1)
    storage: SecretStr | None = None  # an RDB URL may hold a password
    study_name: str | None = None


class ModelingSettings(Section):
    label_horizon: int = Field(5, ge=1)
    label_transform: Literal["raw", "excess", "zscore", "rank"] = "zscore"
    inputs: list[InputForm] = Field(default_factory=lambda: list(DEFAULT_INPUTS), min_length=1)
    sample_stride: int = Field(5, ge=1)
    test_sessions: int = Field(252, ge=20)
    n_jobs: int = Field(2, ge=1)
    cv: CVSettings = CVSettings()
    lightgbm: LightGBMSettings = LightGBMSettings()
    xgboost: XGBoostSettings = XGBoostSettings()
    random_forest: RandomForestSettings = RandomForestSettings()
    tuning: TuningSettings = TuningSettings()
