"""The champion selection as files a person reads: matrix, details, regimes, reports, charts.

`selection_outputs` turns a finished backtest grid and its selection into the contents of
`<home>/reports/model_selection/`, as bytes keyed by file name (the caller writes them
atomically). Same input, same bytes. Formats:

- `backtest_comparison_matrix.csv`: a `model` column, then one column per optimizer; each cell is
  the combination's annualized Sharpe at full precision (Python's shortest round-trip repr) or a
  word, never empty or NaN: `failed` (the run raised; its error is in the detailed results and it
  is not ranked), `undefined` (the run completed but its Sharpe is NaN, e.g. zero volatility) or
  `missing` (the grid has no record of the combination).
- `backtest_detailed_results.json` (strict JSON, NaN written as null, sorted keys): the selection
  date, weights, thresholds, the turnover definition, the execution convention with the shown
  combination's Sharpe under each convention, number of trials, equal-weight baseline
  Sharpe, ranking, the champion (or null with `no_champion_reason`), the caveat, and per
  combination (grid order: models, then optimizers) its status (ok, failed or missing) and error,
  metrics, benchmark metrics, score breakdown, threshold failures, passed, rank, deflated Sharpe
  fields, regime rows and number of optimizer fallbacks.
- `regime_performance_breakdown.csv`: long format, one row per completed combination and regime:
  model, optimizer, regime, avg_return (mean daily), sharpe (annualized), win_rate, days; a regime
  never seen has 0 days and empty figures. Failed combinations have no rows.
- `model_selection_report.md`: the outcome and why, then the evidence; every untrusted string
  escaped (see `trading_core.reporting.selection_markdown`).
- `model_selection_report.html`: the same evidence as one self-contained page for a browser, the
  two figures embedded and, when the candidates' test-period evidence is given, their factor tear
  sheet (see `trading_core.reporting.selection_html`); each loser's failed thresholds appear once.
- `equity_curves.png`, `champion_vs_benchmark.png`: see `trading_core.reporting.selection_plots`.

What every file reads from the grid and the selection is a `SelectionOutcome`
(`trading_core.reporting.selection_outcome`). The equal-weight baseline curve is the
`benchmark_equity` of the combination drawn (every combination of a grid shares the rebalance
dates, so they share it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict
from datetime import date

import pandas as pd

from trading_core.features.labels import EXECUTION_MEANING
from trading_core.io import to_csv, to_json
from trading_core.reporting.factor_report import FactorEvidence
from trading_core.reporting.selection_html import selection_report_html
from trading_core.reporting.selection_markdown import selection_report
from trading_core.reporting.selection_outcome import Key, SelectionOutcome, regime_rows
from trading_core.reporting.selection_plots import champion_chart, equity_curves_chart
from trading_core.selection.evaluate import combination
from trading_core.selection.grid import BacktestGrid
from trading_core.selection.scoring import Evaluation, Selection, Thresholds, Weights
from trading_core.selection.sharpe_stats import DeflatedSharpe
from trading_core.turnover import DEFINITION as TURNOVER_DEFINITION

MATRIX_FILE = "backtest_comparison_matrix.csv"
DETAILS_FILE = "backtest_detailed_results.json"
REGIMES_FILE = "regime_performance_breakdown.csv"
REPORT_FILE = "model_selection_report.md"
HTML_FILE = "model_selection_report.html"
EQUITY_FILE = "equity_curves.png"
CHAMPION_FILE = "champion_vs_benchmark.png"
FILES = (
    MATRIX_FILE,
    DETAILS_FILE,
    REGIMES_FILE,
    REPORT_FILE,
    HTML_FILE,
    EQUITY_FILE,
    CHAMPION_FILE,
)
REGIME_CSV_COLUMNS = ["model", "optimizer", "regime", "avg_return", "sharpe", "win_rate", "days"]
FIGURE_TITLES = {  # each figure file as both reports describe it (markdown alt text, HTML alt)
    EQUITY_FILE: "Equity of the top combinations and the equal-weight baseline",
    CHAMPION_FILE: "The champion against the equal-weight baseline",
}


def selection_outputs(
    grid: BacktestGrid,
    selection: Selection,
    deflated: Mapping[str, DeflatedSharpe],
    *,
    weights: Weights | Mapping[str, float],
    thresholds: Thresholds | Mapping[str, float],
    baseline_sharpe: float,
    selected_on: date,
    caveat: str | None = None,
    min_deflated_sharpe: float | None = None,
    incumbent: str | None = None,
    execution: str | None = None,
    sharpe_by_execution: Mapping[str, float] | None = None,
    key: Key = combination,
    factors: FactorEvidence | None = None,
) -> dict[str, bytes]:
    """The seven files of `<home>/reports/model_selection/` (see the module docstring).

    `deflated` maps combination names to their deflated Sharpe (missing: reported as not
    computed); `incumbent` names the production champion that stays when nothing passes;
    `execution` is the backtests' fill convention and `sharpe_by_execution` the champion's (or
    without one the top-ranked combination's) Sharpe under every convention; `factors` is the
    candidates' factor tear sheet the HTML page shows (see `reporting.factor_report`).
    """
    outcome = SelectionOutcome(
        grid=grid,
        selection=selection,
        deflated=deflated,
        weights=weights if isinstance(weights, Weights) else Weights.from_dict(weights),
        thresholds=(
            thresholds if isinstance(thresholds, Thresholds) else Thresholds.from_dict(thresholds)
        ),
        baseline_sharpe=float(baseline_sharpe),
        selected_on=selected_on,
        caveat=caveat,
        min_deflated_sharpe=min_deflated_sharpe,
        incumbent=incumbent,
        execution=execution,
        sharpe_by_execution=sharpe_by_execution,
        key=key,
    )
    figures = charts(outcome)
    title = f"alphapilot model selection {outcome.selected_on:%Y-%m-%d}"
    text = {
        MATRIX_FILE: to_csv(comparison_matrix(outcome)),
        DETAILS_FILE: to_json(detailed_results(outcome)),
        REGIMES_FILE: to_csv(regime_breakdown(outcome)),
        REPORT_FILE: selection_report(outcome, FIGURE_TITLES),
        HTML_FILE: selection_report_html(
            outcome, {alt: figures[name] for name, alt in FIGURE_TITLES.items()}, title, factors
        ),
    }
    return {**{name: body.encode("utf-8") for name, body in text.items()}, **figures}


# --- the matrix and the regime table ----------------------------------------------------------


def comparison_matrix(outcome: SelectionOutcome) -> pd.DataFrame:
    """Model rows, optimizer columns, Sharpe as full-precision text or failed/undefined/missing."""
    models, optimizers = outcome.axes()
    rows = []
    for model in models:
        row = {"model": model}
        for optimizer in optimizers:
            row[optimizer] = outcome.matrix_cell((model, optimizer))
        rows.append(row)
    return pd.DataFrame(rows, columns=["model", *optimizers], dtype=object)


def regime_breakdown(outcome: SelectionOutcome) -> pd.DataFrame:
    """One row per completed combination and regime (long format, REGIME_CSV_COLUMNS)."""
    rows = [
        {"model": m, "optimizer": o, **row}
        for m, o in outcome.combinations()
        if (m, o) in outcome.grid.results
        for row in regime_rows(outcome.grid.results[(m, o)])
    ]
    frame = pd.DataFrame(rows, columns=REGIME_CSV_COLUMNS)
    return frame.astype({"days": "int64"})


# --- the detailed results ---------------------------------------------------------------------


def detailed_results(outcome: SelectionOutcome) -> dict[str, object]:
    """Every figure behind the selection, as a plain dict for strict JSON."""
    champion = outcome.selection.champion
    return {
        "selected_on": outcome.selected_on.isoformat(),
        "weights": asdict(outcome.weights),
        "thresholds": {
            **asdict(outcome.thresholds),
            "min_deflated_sharpe": outcome.min_deflated_sharpe,
        },
        "turnover_definition": (
            f"avg_turnover: mean {TURNOVER_DEFINITION}; annual_turnover: the same summed per year"
        ),
        "execution": _execution_entry(outcome),
        "trials": outcome.trials,
        "combinations_total": len(outcome.combinations()),
        "combinations_failed": len(outcome.grid.failures),
        "baseline": {
            "description": "equal-weight buy-and-hold of the universe, same dates and costs",
            "sharpe": outcome.baseline_sharpe,
        },
        "ranking": [e.name for e in outcome.selection.ranking],
        "champion": None if champion is None else _champion_entry(outcome, champion),
        "no_champion_reason": None if champion else outcome.no_champion_reason(),
        "incumbent": outcome.incumbent,
        "caveat": outcome.caveat,
        "combinations": [_combination_entry(outcome, pair) for pair in outcome.combinations()],
    }


def _execution_entry(outcome: SelectionOutcome) -> dict[str, object] | None:
    """The fill convention of every backtest, and the shown combination's Sharpe under each."""
    if outcome.execution is None:
        return None
    shown = outcome.shown
    return {
        "convention": outcome.execution,
        "meaning": EXECUTION_MEANING[outcome.execution],
        "combination": None if shown is None else shown.name,
        "sharpe_by_execution": dict(outcome.sharpe_by_execution or {}),
    }


def _champion_entry(outcome: SelectionOutcome, champion: Evaluation) -> dict[str, object]:
    model, optimizer = _pair_of(outcome, champion.name)
    return {
        "key": champion.name,
        "model": model,
        "optimizer": optimizer,
        "score": champion.breakdown.total,
        "sharpe": float(champion.candidate.metrics.get("sharpe", math.nan)),
        "reason": outcome.champion_reason(),
    }


def _pair_of(outcome: SelectionOutcome, name: str) -> tuple[str, str]:
    return next(p for p in outcome.grid.results if outcome.key(*p) == name)


def _combination_entry(outcome: SelectionOutcome, pair: tuple[str, str]) -> dict[str, object]:
    name = outcome.key(*pair)
    status = outcome.status(pair)
    entry: dict[str, object] = {
        "key": name,
        "model": pair[0],
        "optimizer": pair[1],
        "status": status,
        "error": outcome.grid.failures.get(pair) if status == "failed" else None,
        "metrics": None,
        "benchmark_metrics": None,
        "score": None,
        "threshold_failures": [],
        "passed": False,
        "rank": None,
        "champion": False,
        "deflated_sharpe": None,
        "regime_performance": [],
        "fallbacks": None,
        "rebalances": None,
        "start": None,
        "end": None,
    }
    if status != "ok":
        return entry
    result = outcome.grid.results[pair]
    backtest = result.backtest
    entry.update(
        metrics={k: float(v) for k, v in backtest.metrics.items()},
        benchmark_metrics={k: float(v) for k, v in backtest.benchmark_metrics.items()},
        regime_performance=regime_rows(result),
        fallbacks=len(result.fallbacks),
        rebalances=len(result.weights),
        start=f"{backtest.equity.index[0]:%Y-%m-%d}" if len(backtest.equity) else None,
        end=f"{backtest.equity.index[-1]:%Y-%m-%d}" if len(backtest.equity) else None,
    )
    if name in outcome.deflated:
        entry["deflated_sharpe"] = asdict(outcome.deflated[name])
    ranked = outcome.evaluations().get(name)
    if ranked is not None:
        rank, evaluation = ranked
        entry.update(
            score=evaluation.breakdown.as_dict(),
            threshold_failures=list(evaluation.failures),
            passed=evaluation.passed,
            rank=rank,
            champion=evaluation is outcome.selection.champion,
        )
    return entry


# --- the charts -------------------------------------------------------------------------------


def charts(outcome: SelectionOutcome) -> dict[str, bytes]:
    """`equity_curves.png` (top combinations by score) and `champion_vs_benchmark.png`."""
    top = outcome.top()
    curves = {e.name: outcome.result(e.name).backtest.equity for e in top}
    shown = outcome.shown
    baseline = outcome.result(shown.name).backtest.benchmark_equity if shown else None
    if shown is None:
        title = "No completed combination"
    elif shown is outcome.selection.champion:
        title = f"Champion {shown.name} vs the equal-weight baseline"
    else:
        title = f"No champion: top-ranked {shown.name} (not promoted) vs the equal-weight baseline"
    return {
        EQUITY_FILE: equity_curves_chart(
            curves, baseline, f"Top {len(top)} combinations by score vs the equal-weight baseline"
        ),
        CHAMPION_FILE: champion_chart(
            shown.name if shown else "",
            outcome.result(shown.name).backtest.equity if shown else None,
            baseline,
            title,
        ),
    }
