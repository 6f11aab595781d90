"""Selection tasks: judge the backtest grid, write the selection reports, promote or keep.

The report's factor tear sheet features the model of the champion (without one, of the
top-ranked combination), from the candidates' out-of-sample test-period predictions.

Two artifacts under stable keys, so the Artifacts page shows the latest selection: the
leaderboard (`champion-selection-leaderboard`, top combinations by score with pass/fail and why)
and a link to the HTML report (`champion-selection-report`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import get_run_logger
from prefect.artifacts import create_link_artifact, create_table_artifact

from settings.selection import ModelSelectionSettings
from settings.trading import BacktestSettings
from tasks.components import backtester_for, production_store
from tasks.options import step
from tasks.research import provenance, trainer_for
from tasks.sections import ModelSetup, TradingRules
from trading_core.backtest.engine import VectorizedBacktester
from trading_core.backtest.walk_forward import sharpe_by_execution
from trading_core.data.market import MarketData
from trading_core.data.providers import survivorship_note
from trading_core.features.library import feature_set, skipped
from trading_core.home import Home
from trading_core.io import atomic_write_bytes
from trading_core.ml.dataset import Dataset
from trading_core.ml.research import CandidateResult, refit
from trading_core.reporting.factor_report import FactorEvidence, factor_evidence
from trading_core.reporting.leaderboard import TOP, leaderboard
from trading_core.reporting.selection_files import HTML_FILE, REPORT_FILE, selection_outputs
from trading_core.selection.evaluate import GridEvaluation, combination, evaluate_grid
from trading_core.selection.grid import BacktestGrid
from trading_core.selection.promotion import promotion_metadata
from trading_core.selection.scoring import Thresholds, Weights
from trading_core.turnover import DEFINITION as TURNOVER_DEFINITION


@step("evaluate-grid")
def evaluate(
    grid: BacktestGrid, selection: ModelSelectionSettings, cash_rate: float
) -> GridEvaluation:
    """Score, threshold and deflate every combination; the champion is the best one passing.

    `cash_rate` is the backtests' (`backtest.cash_rate`). The leaderboard of the top
    combinations is published as a table artifact.
    """
    ms = selection
    evaluation = evaluate_grid(
        grid,
        Weights.from_dict(ms.selection_weights.model_dump()),
        Thresholds.from_dict(ms.thresholds.model_dump()),
        ms.min_deflated_sharpe,
        cash_rate,
    )
    logger = get_run_logger()
    for i, e in enumerate(evaluation.selection.ranking, 1):
        logger.info(
            "%d. %s: score %.3f, %s",
            i,
            e.name,
            e.breakdown.total,
            "passes" if e.passed else "fails: " + "; ".join(e.failures),
        )
    ranked = len(evaluation.selection.ranking)
    create_table_artifact(
        key="champion-selection-leaderboard",
        table=leaderboard(evaluation.selection, TOP),
        description=(
            f"Top {min(TOP, ranked)} of {ranked} ranked combinations by weighted score; the "
            "champion is the best one passing every threshold "
            f"(equal-weight baseline Sharpe {evaluation.baseline_sharpe:.2f}); turnover is "
            f"{TURNOVER_DEFINITION}"
        ),
    )
    return evaluation


@step("selection-factor-tear-sheet")
def selection_factors(
    training: FactorEvidence,
    results: list[CandidateResult],
    grid: BacktestGrid,
    evaluation: GridEvaluation,
    dataset: Dataset,
    data: MarketData,
) -> FactorEvidence:
    """The training run's factor evidence, featuring the shown combination's model instead of
    the best candidate by rank IC when they differ (every candidate's row is reused)."""
    shown = shown_pair(grid, evaluation)
    if shown is None or shown[0] == training.featured:
        return training
    return factor_evidence(results, shown[0], dataset, data, rows=training.rows)


@step("write-selection-reports")
def write_selection_reports(
    grid: BacktestGrid,
    evaluation: GridEvaluation,
    factors: FactorEvidence,
    data: MarketData,
    selection: ModelSelectionSettings,
    backtest: BacktestSettings,
    rules: TradingRules,
    home: Home,
    selected_on: date,
) -> str:
    """The matrix, detailed results, regime table, figures and report in `home`'s
    reports/model_selection/ of the selection made on `selected_on` (New York)."""
    ms = selection
    store = production_store(home)
    incumbent = None
    if store.has_champion():
        meta = store.metadata()
        incumbent = meta.get("combination") or meta.get("model_name")
    files = selection_outputs(
        grid,
        evaluation.selection,
        evaluation.deflated,
        weights=ms.selection_weights.model_dump(),
        thresholds=ms.thresholds.model_dump(),
        baseline_sharpe=evaluation.baseline_sharpe,
        selected_on=selected_on,
        caveat=survivorship_note(data),
        min_deflated_sharpe=ms.min_deflated_sharpe,
        incumbent=incumbent,
        execution=backtest.execution,
        sharpe_by_execution=execution_comparison(
            grid, evaluation, data, backtester_for(backtest, rules)
        ),
        factors=factors,
    )
    folder = home.selection_reports
    for name, payload in files.items():
        atomic_write_bytes(folder / name, payload)
    report = folder / REPORT_FILE
    page = (folder / HTML_FILE).resolve()
    create_link_artifact(
        key="champion-selection-report",
        link=page.as_uri(),
        link_text=f"Model selection report {selected_on:%Y-%m-%d}",
        description=f"The selection report on the machine that ran it: {page}",
    )
    get_run_logger().info("selection reports written to %s (open %s)", folder, report.name)
    return str(report)


def shown_pair(grid: BacktestGrid, evaluation: GridEvaluation) -> tuple[str, str] | None:
    """The (model, optimizer) the report shows: the champion, else the top-ranked combination."""
    selection = evaluation.selection
    shown = selection.champion or (selection.ranking[0] if selection.ranking else None)
    if shown is None:
        return None
    return next(pair for pair in grid.results if combination(*pair) == shown.name)


def execution_comparison(
    grid: BacktestGrid,
    evaluation: GridEvaluation,
    data: MarketData,
    backtester: VectorizedBacktester,
) -> dict[str, float]:
    """The champion's (or the top-ranked combination's) Sharpe under every fill convention."""
    shown = shown_pair(grid, evaluation)
    if shown is None:
        return {}
    return sharpe_by_execution(grid.results[shown].weights, data, backtester)


@step("promote-champion")
def promote_champion(
    winner: CandidateResult,
    optimizer: str,
    grid: BacktestGrid,
    evaluation: GridEvaluation,
    dataset: Dataset,
    data: MarketData,
    selection: ModelSelectionSettings,
    setup: ModelSetup,
    home: Home,
    selected_on: date,
) -> dict[str, Any]:
    """Refit the champion on every labeled session; archive the old one and save it to production.

    Its record (`promotion_metadata`) says it was selected on `selected_on`."""
    ms = selection
    model = refit(winner, dataset, trainer_for(setup), setup.modeling.sample_stride)
    missing = skipped(feature_set(**setup.features.model_dump()), data)
    metadata = promotion_metadata(
        provenance(data, dataset, setup, dataset.labeled_dates, missing),
        winner,
        optimizer,
        grid,
        evaluation,
        ms.thresholds.model_dump(),
        ms.selection_weights.model_dump(),
        ms.min_deflated_sharpe,
        selected_on,
    )
    path = production_store(home).promote(model, metadata)
    get_run_logger().info(
        "champion %s (%s) saved to %s", metadata["combination"], metadata["reason"], path
    )
    return {"metadata_path": str(path), **metadata}
