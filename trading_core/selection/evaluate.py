"""Judge a finished backtest grid: score, threshold, deflate, and pick the champion combination.

Every combination is named `"{model}+{optimizer}"`. The baseline is the equal-weight buy-and-hold
of the universe over the same sessions (every combination of a grid shares the rebalance
schedule, so they share it). The deflated Sharpe ratio of each combination counts every
completed combination as a trial: picking the best of N backtests is picking the luckiest too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trading_core.selection.grid import BacktestGrid
from trading_core.selection.scoring import (
    Candidate,
    Selection,
    Thresholds,
    Weights,
    select_champion,
)
from trading_core.selection.sharpe_stats import DeflatedSharpe, deflated_sharpe


def combination(model: str, optimizer: str) -> str:
    """The name of one model x optimizer combination."""
    return f"{model}+{optimizer}"


@dataclass(frozen=True)
class GridEvaluation:
    """The selection over a grid, each combination's deflated Sharpe and the baseline Sharpe.

    `trials` counts the completed combinations with a finite Sharpe, as the deflated Sharpe does.
    """

    selection: Selection
    deflated: dict[str, DeflatedSharpe]
    baseline_sharpe: float
    trials: int

    @property
    def champion(self) -> tuple[str, str] | None:
        """(model, optimizer) of the champion, or None when no combination passed."""
        if self.selection.champion is None:
            return None
        model, optimizer = self.selection.champion.name.rsplit("+", 1)
        return model, optimizer


def champion_reason(selection: Selection, baseline_sharpe: float, beat_baseline: bool) -> str:
    """Why the champion won, in one sentence for the report and its metadata."""
    champion = selection.champion
    if champion is None:
        return ""
    passers = sum(e.passed for e in selection.ranking)
    baseline = (
        f" and beat the equal-weight baseline Sharpe ({baseline_sharpe:.2f})"
        if beat_baseline
        else f" (the equal-weight baseline's Sharpe, {baseline_sharpe:.2f}, was not required)"
    )
    return (
        f"the highest weighted score ({champion.breakdown.total:.3f}) among the {passers} of "
        f"{len(selection.ranking)} ranked combinations that passed every threshold{baseline}"
    )


def evaluate_grid(
    grid: BacktestGrid,
    weights: Weights,
    thresholds: Thresholds,
    min_deflated_sharpe: float | None = None,
    cash_rate: float = 0.0,
) -> GridEvaluation:
    """Score and rank every completed combination; the champion is the best one passing all rules."""
    results = {combination(m, o): r for (m, o), r in grid.results.items()}
    trial_sharpes = [r.backtest.metrics["sharpe"] for r in results.values()]
    deflated = {
        name: deflated_sharpe(r.backtest.returns, trial_sharpes, cash_rate=cash_rate)
        for name, r in results.items()
    }
    baselines = [r.backtest.benchmark_metrics["sharpe"] for r in results.values()]
    baseline = baselines[0] if baselines else math.nan
    candidates = [
        Candidate(
            name,
            r.backtest.metrics,
            r.backtest.regime_performance,
            deflated[name].dsr,
        )
        for name, r in results.items()
    ]
    selection = select_champion(candidates, weights, thresholds, baseline, min_deflated_sharpe)
    trials = sum(math.isfinite(s) for s in trial_sharpes)  # as the deflated Sharpe counts them
    return GridEvaluation(selection, deflated, baseline, trials)
