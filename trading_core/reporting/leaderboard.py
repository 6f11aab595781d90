"""The champion selection's leaderboard: the best combinations, their figures and their verdict.

`leaderboard` turns a `Selection` (trading_core.selection.scoring) into rows of text for a Prefect
table artifact: rank by weighted score, the figures the thresholds judge (Sharpe, deflated Sharpe,
max drawdown, Calmar, one-way turnover ½ Σ|Δw| per rebalance, and that turnover per year) and
whether the combination is the champion, passes or fails, with the thresholds it failed. Formatted
as the selection report formats them.
"""

from __future__ import annotations

from trading_core.reporting.formatting import fixed, percent
from trading_core.selection.scoring import Evaluation, Selection

TOP = 15  # combinations shown


def leaderboard(selection: Selection, top: int = TOP) -> list[dict[str, object]]:
    """The `top` best-scoring combinations, best first, each with its verdict and why."""
    return [
        leaderboard_row(rank, evaluation, evaluation is selection.champion)
        for rank, evaluation in enumerate(selection.ranking[:top], 1)
    ]


def leaderboard_row(rank: int, evaluation: Evaluation, champion: bool) -> dict[str, object]:
    """One combination: rank, name, score, key figures, verdict and the failed thresholds."""
    metrics = evaluation.candidate.metrics
    if champion:
        verdict, why = "champion", "highest score passing every threshold"
    elif evaluation.passed:
        verdict, why = "pass", "passed every threshold, scored lower than the champion"
    else:
        verdict, why = "fail", "; ".join(evaluation.failures)
    return {
        "Rank": rank,
        "Combination": evaluation.name,
        "Score": fixed(evaluation.breakdown.total, 3),
        "Sharpe": fixed(metrics.get("sharpe"), 2),
        "Deflated Sharpe (DSR)": fixed(evaluation.candidate.deflated_sharpe, 3),
        "Max drawdown": percent(metrics.get("max_drawdown"), 1),
        "Calmar": fixed(metrics.get("calmar"), 2),
        "Turnover per rebalance": percent(metrics.get("avg_turnover"), 1),
        "Turnover per year": percent(metrics.get("annual_turnover"), 0),
        "Result": verdict,
        "Why": why,
    }
