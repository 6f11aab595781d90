"""What a promotion records, and what a selection without a champion says.

- `promotion_metadata`: the champion's production record (provenance, the combination, why it
  won, its scores and backtest figures, the rules it was judged by, the day of the selection);
- `no_champion_alert`: nothing passed, the current champion stays, and why the best failed.

Pure: the selection flow's tasks refit, save and send; these only decide the content.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import date
from typing import Any

from trading_core.alerts import Alert
from trading_core.ml.research import CandidateResult
from trading_core.selection.evaluate import GridEvaluation, champion_reason, combination
from trading_core.selection.grid import BacktestGrid

SHOWN_FAILURES = 5  # best-ranked combinations whose failures the no-champion alert lists


def promotion_metadata(
    provenance: Mapping[str, Any],
    winner: CandidateResult,
    optimizer: str,
    grid: BacktestGrid,
    evaluation: GridEvaluation,
    thresholds: Mapping[str, Any],
    weights: Mapping[str, float],
    min_deflated_sharpe: float | None,
    selected_on: date,
) -> dict[str, Any]:
    """The champion's record: `provenance` of its refit, then what it is and why it won.

    `thresholds` and `weights` are the selection settings as plain mappings (`beat_baseline`
    among the thresholds says whether the reason mentions the baseline); `selected_on` is the
    day of the selection (New York).
    """
    name = combination(winner.name, optimizer)
    chosen = evaluation.selection.champion
    assert chosen is not None  # promoted only when a combination passed
    backtest = grid.results[(winner.name, optimizer)].backtest
    reason = champion_reason(
        evaluation.selection, evaluation.baseline_sharpe, bool(thresholds["beat_baseline"])
    )
    return {
        **provenance,
        "model": winner.name,
        "optimizer": optimizer,
        "combination": name,
        "selected_on": f"{selected_on:%Y-%m-%d}",
        "reason": reason,
        "weighted_score": chosen.breakdown.total,
        "score_breakdown": chosen.breakdown.as_dict(),
        "backtest_metrics": backtest.metrics,
        "baseline_metrics": backtest.benchmark_metrics,
        "thresholds": dict(thresholds),
        "selection_weights": dict(weights),
        "min_deflated_sharpe": min_deflated_sharpe,
        "trials": evaluation.trials,
        "deflated_sharpe": asdict(evaluation.deflated[name]),
        "test_metrics": winner.test_metrics,
    }


def no_champion_alert(evaluation: GridEvaluation, report: str, link: str | None) -> Alert:
    """Nothing passed: the current champion stays; why each of the best combinations failed,
    with `link`, the flow run's page in the Prefect UI when there is one."""
    lines = [
        f"None of {evaluation.trials} combinations passed the thresholds "
        f"(equal-weight baseline Sharpe {evaluation.baseline_sharpe:.2f}); "
        "the current champion stays.",
    ]
    lines += [
        f"- {e.name} (score {e.breakdown.total:.3f}): {'; '.join(e.failures)}"
        for e in evaluation.selection.ranking[:SHOWN_FAILURES]
    ]
    lines.append(f"Report: {report}")
    return Alert("Champion selection: no new champion", "warning", lines, link)
