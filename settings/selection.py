"""Model selection settings: the candidates, the optimizers they are paired with, and how the
champion is scored and gated.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from settings.portfolio import OptimizerName
from settings.section import Section, fraction

CandidateName = Literal["lightgbm", "xgboost_default", "xgboost_tuned", "random_forest", "ensemble"]
# the defaults, typed so that each list's literals are checked against the names above
DEFAULT_CANDIDATES: tuple[CandidateName, ...] = (
    "lightgbm",
    "xgboost_default",
    "xgboost_tuned",
    "random_forest",
    "ensemble",
)
DEFAULT_ENSEMBLE_MEMBERS: tuple[CandidateName, ...] = (
    "lightgbm",
    "xgboost_default",
    "random_forest",
)
DEFAULT_OPTIMIZERS: tuple[OptimizerName, ...] = (
    "max_sharpe",
    "min_volatility",
    "hrp",
    "inverse_vol",
    "equal_weight",
)


class SelectionWeights(Section):
    sharpe: float = fraction(0.35)
    max_drawdown: float = fraction(0.20)
    calmar: float = fraction(0.20)
    turnover: float = fraction(0.10)
    regime_consistency: float = fraction(0.15)

    @model_validator(mode="after")
    def _sum_to_one(self) -> SelectionWeights:
        total = sum(self.model_dump().values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"model_selection.selection_weights must sum to 1, got {total:.4f}")
        return self


class SelectionThresholds(Section):
    sharpe_min: float = 1.0
    max_drawdown_max: float = Field(-0.20, le=0.0)
    calmar_min: float = 0.5
    turnover_max: float = Field(0.60, gt=0.0)
    beat_baseline: bool = True


class ModelSelectionSettings(Section):
    candidates: list[CandidateName] = Field(
        default_factory=lambda: list(DEFAULT_CANDIDATES), min_length=1
    )
    ensemble_members: list[CandidateName] = Field(
        default_factory=lambda: list(DEFAULT_ENSEMBLE_MEMBERS), min_length=2
    )
    optimizers: list[OptimizerName] = Field(
        default_factory=lambda: list(DEFAULT_OPTIMIZERS), min_length=1
    )
    selection_weights: SelectionWeights = SelectionWeights()
    thresholds: SelectionThresholds = SelectionThresholds()

    @model_validator(mode="after")
    def _ensemble_of_single_models(self) -> ModelSelectionSettings:
        if "ensemble" in self.ensemble_members:
            raise ValueError("model_selection.ensemble_members cannot include the ensemble itself")
        return self

    min_deflated_sharpe: float | None = None
