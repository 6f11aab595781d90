"""Champion selection by out-of-sample evidence.

Candidates are compared on the final test period, which no candidate was tuned or early-stopped
on; the walk-forward (cross-validated) figures are shown beside them, and are optimistic for a
tuned candidate, whose parameters were chosen on those folds.
"""

from __future__ import annotations

import math

import pandas as pd

from trading_core.ml.research import CandidateResult

COMPARISON_METRICS = (
    "rank_ic",
    "ic",
    "rank_icir",
    "icir",
    "rank_ic_t_stat",
    "rank_ic_p_value",
    "hit_rate",
    "q1_return",
    "q2_return",
    "q3_return",
    "q4_return",
    "q5_return",
    "top_minus_bottom",
    "top_quintile_sharpe",
    "days",
)


def comparison_table(results: list[CandidateResult], champion: str | None = None) -> pd.DataFrame:
    """One row per candidate: test-period metrics, then the cross-validated rank IC and ICIR."""
    rows = []
    for r in results:
        row = {"model": r.name, **{m: r.test_metrics.get(m) for m in COMPARISON_METRICS}}
        row["cv_rank_ic"] = r.cv_metrics.get("rank_ic")
        row["cv_rank_icir"] = r.cv_metrics.get("rank_icir")
        row["tuning_trials"] = (r.tuning or {}).get("trials_complete", 0)
        if champion is not None:
            row["champion"] = r.name == champion
        rows.append(row)
    return pd.DataFrame(rows)


def best_candidate(results: list[CandidateResult]) -> CandidateResult:
    """The candidate with the highest test-period mean rank IC (ties: first listed)."""

    def key(r: CandidateResult) -> float:
        value = r.test_metrics.get("rank_ic", float("nan"))
        return value if math.isfinite(value) else -math.inf

    return max(results, key=lambda r: (key(r), -results.index(r)))
