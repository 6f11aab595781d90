"""Weighted scoring of backtested combinations, the thresholds they must pass, and the champion.

Every criterion is mapped linearly onto [0, 1] and clipped there (an undefined figure scores 0):

- Sharpe (annualized, `metrics["sharpe"]`): 0 at 0, 1 at 2.
- Max drawdown (`metrics["max_drawdown"]`, a negative fraction): 0 at -30%, 1 at 0.
- Calmar (`metrics["calmar"]`): 0 at 0, 1 at 1.5.
- Turnover (`metrics["avg_turnover"]`, the mean one-way turnover per rebalance, ½ Σ|Δw| as in
  `trading_core.turnover`, not the annual total), lower is better: 1 at 0, 0 at 50%.
- Regime consistency, from the per-regime table of `backtest.metrics.regime_performance`: among
  regimes with at least `min_days` sessions (default 20) and a defined Sharpe, the share with a
  positive Sharpe, times the dispersion penalty 1 / (1 + std of those regimes' annualized Sharpes)
  (population std, so a single qualifying regime has no dispersion); 0 when no regime qualifies.
  Regimes with 0 days (NaN figures) or too few sessions are ignored.

The score is the weighted sum of the normalized values. A combination passes when it meets every
threshold (Sharpe, drawdown, Calmar, turnover), beats the equal-weight baseline's Sharpe and,
optionally, reaches a minimum deflated Sharpe ratio; an undefined figure fails with its own reason.
The champion is the highest-scoring passer, not the highest scorer; with no passer there is none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

from trading_core.errors import ConfigError

CRITERIA = ("sharpe", "max_drawdown", "calmar", "turnover", "regime_consistency")
RANGES = {  # criterion: (metric key, value scoring 0, value scoring 1)
    "sharpe": ("sharpe", 0.0, 2.0),
    "max_drawdown": ("max_drawdown", -0.30, 0.0),
    "calmar": ("calmar", 0.0, 1.5),
    "turnover": ("avg_turnover", 0.50, 0.0),
}
MIN_REGIME_DAYS = 20


Figures = TypeVar("Figures", bound="DataclassInstance")  # Weights or Thresholds


def _from_mapping(cls: type[Figures], values: Mapping[str, float]) -> Figures:
    known = {f.name for f in fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(
            f"{cls.__name__}: unknown field(s) {sorted(unknown)}; known {sorted(known)}"
        )
    return cls(**{k: float(v) for k, v in values.items()})


@dataclass(frozen=True)
class Weights:
    """Weight per criterion (settings' `model_selection.selection_weights`), summing to 1."""

    sharpe: float = 0.35
    max_drawdown: float = 0.20
    calmar: float = 0.20
    turnover: float = 0.10
    regime_consistency: float = 0.15

    def __post_init__(self) -> None:
        values = [getattr(self, name) for name in CRITERIA]
        if not all(v >= 0 for v in values):
            raise ConfigError(f"selection weights must be non-negative, got {self}")
        if not math.isclose(sum(values), 1.0, abs_tol=1e-6):
            raise ConfigError(f"selection weights must sum to 1, got {sum(values):.4f}")

    @classmethod
    def from_dict(cls, values: Mapping[str, float]) -> Weights:
        """Weights from a mapping, e.g. `selection_weights.model_dump()` of the settings."""
        return _from_mapping(cls, values)


@dataclass(frozen=True)
class Thresholds:
    """Minimums a champion must meet; `max_drawdown_max` -0.20 means no worse than -20%.

    `beat_baseline`: the champion's Sharpe must also beat the equal-weight baseline's.
    """

    sharpe_min: float = 1.0
    max_drawdown_max: float = -0.20
    calmar_min: float = 0.5
    turnover_max: float = 0.60
    beat_baseline: bool = True

    @classmethod
    def from_dict(cls, values: Mapping[str, float]) -> Thresholds:
        """Thresholds from a mapping such as `settings.model_selection.thresholds.model_dump()`."""
        return _from_mapping(cls, values)


def regime_consistency(regimes: pd.DataFrame | None, min_days: int = MIN_REGIME_DAYS) -> float:
    """Share of qualifying regimes with positive Sharpe, times 1 / (1 + std of their Sharpes)."""
    if regimes is None or len(regimes) == 0:
        return 0.0
    sharpes = regimes["sharpe"].to_numpy("float64")
    days = regimes["days"].to_numpy("float64")
    sharpes = sharpes[(days >= min_days) & np.isfinite(sharpes)]
    if len(sharpes) == 0:
        return 0.0
    return float((sharpes > 0).mean() / (1 + sharpes.std(ddof=0)))


def _scaled(value: float, zero: float, one: float) -> float:
    if not math.isfinite(value):
        return 0.0
    return float(np.clip((value - zero) / (one - zero), 0.0, 1.0))


def normalized(
    metrics: Mapping[str, float],
    regimes: pd.DataFrame | None,
    min_regime_days: int = MIN_REGIME_DAYS,
) -> dict[str, float]:
    """Each criterion mapped onto [0, 1] (clipped; an undefined or missing figure gives 0)."""
    values = {
        name: _scaled(float(metrics.get(key, math.nan)), zero, one)
        for name, (key, zero, one) in RANGES.items()
    }
    values["regime_consistency"] = regime_consistency(regimes, min_regime_days)
    return values


@dataclass(frozen=True)
class Criterion:
    """One criterion of a score: the raw figure, its normalized value, weight and contribution."""

    raw: float
    normalized: float
    weight: float
    contribution: float


@dataclass(frozen=True)
class ScoreBreakdown:
    """Per-criterion breakdown of a weighted score, and the total (the sum of contributions)."""

    criteria: dict[str, Criterion]
    total: float

    def as_dict(self) -> dict[str, object]:
        """Plain nested dict for JSON and report tables."""
        return {
            "total": self.total,
            "criteria": {name: vars(c).copy() for name, c in self.criteria.items()},
        }


def score(
    metrics: Mapping[str, float],
    regimes: pd.DataFrame | None,
    weights: Weights | Mapping[str, float],
    min_regime_days: int = MIN_REGIME_DAYS,
) -> ScoreBreakdown:
    """Weighted sum of the normalized criteria, with each criterion's share shown."""
    if not isinstance(weights, Weights):
        weights = Weights.from_dict(weights)
    values = normalized(metrics, regimes, min_regime_days)
    raws = {name: float(metrics.get(key, math.nan)) for name, (key, _, _) in RANGES.items()}
    raws["regime_consistency"] = values["regime_consistency"]
    criteria = {
        name: Criterion(
            raw=raws[name],
            normalized=values[name],
            weight=getattr(weights, name),
            contribution=getattr(weights, name) * values[name],
        )
        for name in CRITERIA
    }
    return ScoreBreakdown(criteria, float(sum(c.contribution for c in criteria.values())))


def _undefined(value: float) -> bool:
    return not math.isfinite(value)


def threshold_failures(
    metrics: Mapping[str, float],
    thresholds: Thresholds | Mapping[str, float],
    baseline_sharpe: float | None,
) -> list[str]:
    """Why a combination may not be champion, one readable reason per failed rule (empty: passes).

    `baseline_sharpe` is the equal-weight baseline's Sharpe, which must be strictly beaten (None,
    or `thresholds.beat_baseline` false, skips that rule; NaN fails it, as it cannot be checked).
    Turnover is `avg_turnover`, the mean one-way turnover (½ Σ|Δw|) per rebalance.
    """
    if not isinstance(thresholds, Thresholds):
        thresholds = Thresholds.from_dict(thresholds)
    t = thresholds
    sharpe = float(metrics.get("sharpe", math.nan))
    drawdown = float(metrics.get("max_drawdown", math.nan))
    calmar = float(metrics.get("calmar", math.nan))
    turnover = float(metrics.get("avg_turnover", math.nan))
    reasons = []
    if _undefined(sharpe):
        reasons.append("Sharpe is undefined (NaN)")
    elif sharpe < t.sharpe_min:
        reasons.append(f"Sharpe {sharpe:.2f} < {t.sharpe_min:.2f}")
    if _undefined(drawdown):
        reasons.append("max drawdown is undefined (NaN)")
    elif drawdown < t.max_drawdown_max:
        reasons.append(f"max drawdown {drawdown:.1%} worse than {t.max_drawdown_max:.1%}")
    if _undefined(calmar):
        reasons.append("Calmar is undefined (NaN)")
    elif calmar < t.calmar_min:
        reasons.append(f"Calmar {calmar:.2f} < {t.calmar_min:.2f}")
    if _undefined(turnover):
        reasons.append("turnover per rebalance is undefined (NaN)")
    elif turnover > t.turnover_max:
        reasons.append(f"turnover per rebalance {turnover:.1%} > {t.turnover_max:.1%}")
    if baseline_sharpe is not None and t.beat_baseline:
        if _undefined(baseline_sharpe):
            reasons.append("the equal-weight baseline Sharpe is undefined (NaN)")
        elif not _undefined(sharpe) and not sharpe > baseline_sharpe:
            reasons.append(
                f"Sharpe {sharpe:.2f} does not beat the equal-weight baseline {baseline_sharpe:.2f}"
            )
    return reasons


@dataclass(frozen=True)
class Candidate:
    """One backtested combination: a unique name, its `summarize` metrics and regime table."""

    name: str
    metrics: Mapping[str, float]
    regimes: pd.DataFrame | None = None
    deflated_sharpe: float = math.nan


@dataclass(frozen=True)
class Evaluation:
    """A candidate's score breakdown and the reasons it fails (none: it passes)."""

    candidate: Candidate
    breakdown: ScoreBreakdown
    failures: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        """The candidate's name."""
        return self.candidate.name

    @property
    def passed(self) -> bool:
        """True when no rule failed."""
        return not self.failures


def rank(
    candidates: Sequence[Candidate],
    weights: Weights | Mapping[str, float],
    thresholds: Thresholds | Mapping[str, float],
    baseline_sharpe: float | None,
    min_deflated_sharpe: float | None = None,
    min_regime_days: int = MIN_REGIME_DAYS,
) -> list[Evaluation]:
    """Candidates scored and ordered by total score, best first (ties keep the given order).

    With `min_deflated_sharpe` set, a candidate whose `deflated_sharpe` is below it (or NaN) fails.
    """
    names = [c.name for c in candidates]
    if len(set(names)) != len(names):
        raise ValueError(f"candidate names must be unique, got {names}")
    evaluations = []
    for c in candidates:
        failures = threshold_failures(c.metrics, thresholds, baseline_sharpe)
        if min_deflated_sharpe is not None:
            if _undefined(c.deflated_sharpe):
                failures.append("deflated Sharpe is undefined (NaN)")
            elif c.deflated_sharpe < min_deflated_sharpe:
                failures.append(
                    f"deflated Sharpe {c.deflated_sharpe:.3f} < {min_deflated_sharpe:.3f}"
                )
        breakdown = score(c.metrics, c.regimes, weights, min_regime_days)
        evaluations.append(Evaluation(c, breakdown, tuple(failures)))
    return sorted(evaluations, key=lambda e: -e.breakdown.total)


@dataclass(frozen=True)
class Selection:
    """The ranking, the champion (top passer, or None) and each failing candidate's reasons."""

    ranking: list[Evaluation]
    champion: Evaluation | None

    @property
    def reasons(self) -> dict[str, list[str]]:
        """Failure reasons per candidate that did not pass, in ranking order."""
        return {e.name: list(e.failures) for e in self.ranking if not e.passed}


def select_champion(
    candidates: Sequence[Candidate],
    weights: Weights | Mapping[str, float],
    thresholds: Thresholds | Mapping[str, float],
    baseline_sharpe: float | None,
    min_deflated_sharpe: float | None = None,
    min_regime_days: int = MIN_REGIME_DAYS,
) -> Selection:
    """The highest-scoring candidate that passes every rule, or None and why each one failed."""
    ranking = rank(
        candidates, weights, thresholds, baseline_sharpe, min_deflated_sharpe, min_regime_days
    )
    champion = next((e for e in ranking if e.passed), None)
    return Selection(ranking, champion)
