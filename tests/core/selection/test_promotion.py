"""What a promotion records about the champion, and what a selection without one says."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

import pandas as pd

from trading_core.ml.research import CandidateResult
from trading_core.selection.promotion import no_champion_alert, promotion_metadata
from trading_core.selection.scoring import ScoreBreakdown

THRESHOLDS = {"sharpe_min": 1.0, "beat_baseline": True}
WEIGHTS = {"sharpe": 0.6, "turnover": 0.4}


@dataclass(frozen=True)
class Deflated:
    dsr: float


def evaluated(name: str, total: float, failures: tuple[str, ...] = ()):
    breakdown = ScoreBreakdown({}, total)
    return SimpleNamespace(name=name, breakdown=breakdown, failures=failures, passed=not failures)


def evaluation(ranking, champion):
    return SimpleNamespace(
        selection=SimpleNamespace(ranking=ranking, champion=champion),
        baseline_sharpe=0.8,
        trials=len(ranking),
        deflated={"lightgbm+hrp": Deflated(0.97)},
    )


def winner() -> CandidateResult:
    empty = pd.Series(dtype="float64")
    return CandidateResult("lightgbm", None, {}, empty, empty, test_metrics={"rank_ic": 0.04})


def grid():
    backtest = SimpleNamespace(metrics={"sharpe": 1.4}, benchmark_metrics={"sharpe": 0.8})
    return SimpleNamespace(results={("lightgbm", "hrp"): SimpleNamespace(backtest=backtest)})


def test_the_record_keeps_the_provenance_and_says_what_won_why_and_when():
    best = evaluated("lightgbm+hrp", 0.71)
    ranking = [best, evaluated("rf+hrp", 0.5, ("sharpe below 1.0",))]
    provenance = {"trained_through": "2021-01-29", "settings_fingerprint": "abc"}

    record = promotion_metadata(
        provenance,
        winner(),
        "hrp",
        grid(),
        evaluation(ranking, best),
        THRESHOLDS,
        WEIGHTS,
        None,
        date(2021, 3, 2),
    )

    assert list(record)[:2] == ["trained_through", "settings_fingerprint"]
    assert record["combination"] == "lightgbm+hrp" and record["optimizer"] == "hrp"
    assert record["selected_on"] == "2021-03-02"
    assert record["reason"] == (
        "the highest weighted score (0.710) among the 1 of 2 ranked combinations that passed "
        "every threshold and beat the equal-weight baseline Sharpe (0.80)"
    )
    assert record["weighted_score"] == 0.71 and record["trials"] == 2
    assert record["backtest_metrics"] == {"sharpe": 1.4}
    assert record["baseline_metrics"] == {"sharpe": 0.8}
    assert record["deflated_sharpe"] == {"dsr": 0.97}
    assert record["thresholds"] == THRESHOLDS and record["selection_weights"] == WEIGHTS
    assert record["test_metrics"] == {"rank_ic": 0.04}


def test_without_the_baseline_rule_the_reason_says_it_was_not_required():
    best = evaluated("lightgbm+hrp", 0.71)
    rules = {**THRESHOLDS, "beat_baseline": False}
    record = promotion_metadata(
        {}, winner(), "hrp", grid(), evaluation([best], best), rules, WEIGHTS, 0.5, date(2021, 3, 2)
    )
    assert "(the equal-weight baseline's Sharpe, 0.80, was not required)" in record["reason"]
    assert record["min_deflated_sharpe"] == 0.5


def test_no_champion_lists_the_five_best_failures_and_the_report():
    ranking = [evaluated(f"m{i}+hrp", 1 - i / 10, (f"reason {i}",)) for i in range(7)]

    alert = no_champion_alert(evaluation(ranking, None), "/home/r.md", "http://ui/run")

    assert alert.title == "Champion selection: no new champion" and alert.level == "warning"
    assert alert.lines[0].startswith("None of 7 combinations passed the thresholds")
    assert alert.lines[1] == "- m0+hrp (score 1.000): reason 0"
    assert len(alert.lines) == 1 + 5 + 1 and alert.lines[-1] == "Report: /home/r.md"
    assert alert.link == "http://ui/run"
