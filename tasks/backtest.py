"""Backtest tasks: walk-forward backtests of a trained candidate under each portfolio optimizer."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import pandas as pd
from prefect import get_run_logger
from threadpoolctl import threadpool_limits

from settings.portfolio import RegimeSettings
from settings.research import ModelingSettings
from settings.trading import BacktestSettings
from tasks.components import backtester_for, detector_for, policy_for
from tasks.options import step
from tasks.research import plan_for, trainer_for
from tasks.sections import ModelSetup, TradingRules
from trading_core.backtest.walk_forward import (
    Progress,
    Segment,
    WalkForwardResult,
    backtest_scores,
    fold_starts,
    monthly_starts,
    plan_segments,
    rebalance_from,
    walk_forward_scores,
)
from trading_core.data.market import MarketData
from trading_core.ml.dataset import Dataset
from trading_core.ml.research import ResearchFit, fit_like
from trading_core.ml.train import EnsembleModel, TrainedModel


def segments_for(
    dataset: Dataset, modeling: ModelingSettings, backtest: BacktestSettings
) -> list[Segment]:
    """The retraining schedule the settings describe: per research fold, or every N months."""
    m, b = modeling, backtest
    dates = dataset.dates.unique().sort_values()
    gap = dataset.known_after + m.cv.embargo_sessions
    if b.retrain == "folds":
        starts = fold_starts(plan_for(dataset, m))
    else:
        starts = monthly_starts(
            dates, dataset.labeled_dates, b.retrain_months, b.min_train_sessions, gap
        )
    rolling = m.cv.train_sessions if m.cv.window == "rolling" else None
    return plan_segments(dates, dataset.labeled_dates, starts, gap, rolling)


def candidate_scores(
    template: TrainedModel | EnsembleModel,
    dataset: Dataset,
    close: pd.DataFrame,
    setup: ModelSetup,
    backtest: BacktestSettings,
    progress: Progress = lambda _: None,
    reuse: Sequence[ResearchFit] = (),
) -> tuple[pd.Series, pd.DataFrame]:
    """Retrain `template`'s candidate on the schedule; out-of-sample scores on rebalance dates.

    A segment whose training sessions match a research fit in `reuse` takes that model as it is.
    """
    segments = segments_for(dataset, setup.modeling, backtest)
    fit = partial(
        fit_like,
        template,
        dataset,
        trainer_for(setup),
        stride=setup.modeling.sample_stride,
        reuse=reuse,
    )
    on = rebalance_from(segments, close, backtest.rebalance_sessions)
    return walk_forward_scores(dataset, segments, fit, on, progress)


def regimes_for(data: MarketData, regime: RegimeSettings) -> pd.Series:
    """The regime of every session, from the benchmark (or the equal-weight universe)."""
    detector = detector_for(regime)
    return detector.history(detector.index_of(data)[0])


def backtest_optimizer(
    scores: pd.Series,
    models: pd.DataFrame,
    data: MarketData,
    regimes: pd.Series,
    rules: TradingRules,
    backtest: BacktestSettings,
    optimizer: str,
    progress: Progress = lambda _: None,
) -> WalkForwardResult:
    """Backtest a candidate's walk-forward scores under one optimizer.

    BLAS runs on one thread here: the products are small (a few dozen names), and two BLAS
    threads beside any other busy process cost more than they save (measured: 31 against 41 ms
    per rebalance for the five optimizers on a loaded two-core machine).
    """
    policy = policy_for(rules, data.sectors, optimizer)
    with threadpool_limits(limits=1, user_api="blas"):
        return backtest_scores(
            scores, data, regimes, policy, backtester_for(backtest, rules), models, progress
        )


def walk_forward_candidate(
    template: TrainedModel | EnsembleModel,
    dataset: Dataset,
    data: MarketData,
    setup: ModelSetup,
    rules: TradingRules,
    backtest: BacktestSettings,
    optimizers: list[str],
    progress: Progress = lambda _: None,
) -> dict[str, WalkForwardResult]:
    """Retrain `template`'s candidate on the schedule, then backtest its scores per optimizer."""
    scores, models = candidate_scores(template, dataset, data.close, setup, backtest, progress)
    regimes = regimes_for(data, rules.regime)
    return {
        name: backtest_optimizer(scores, models, data, regimes, rules, backtest, name, progress)
        for name in optimizers
    }


@step("walk-forward-scores")
def score_candidate(
    template: TrainedModel | EnsembleModel,
    dataset: Dataset,
    close: pd.DataFrame,
    setup: ModelSetup,
    backtest: BacktestSettings,
    reuse: Sequence[ResearchFit] = (),
) -> tuple[pd.Series, pd.DataFrame]:
    """One candidate's out-of-sample scores (models fitted once, shared by every optimizer).

    Segments on the research folds' sessions reuse the research fits in `reuse`.
    """
    log = get_run_logger().info
    return candidate_scores(template, dataset, close, setup, backtest, log, reuse)


@step("backtest-combination")
def backtest_combination(
    model: str,
    optimizer: str,
    scores: pd.Series,
    models: pd.DataFrame,
    data: MarketData,
    regimes: pd.Series,
    rules: TradingRules,
    backtest: BacktestSettings,
) -> WalkForwardResult:
    """The walk-forward backtest of one model x optimizer combination of the selection grid."""
    result = backtest_optimizer(scores, models, data, regimes, rules, backtest, optimizer)
    metrics = result.backtest.metrics
    get_run_logger().info(
        "%s x %s: Sharpe %.2f, CAGR %.1f%%, max drawdown %.1f%%, %d fallbacks",
        model,
        optimizer,
        metrics["sharpe"],
        100 * metrics["cagr"],
        100 * metrics["max_drawdown"],
        len(result.fallbacks),
    )
    return result
