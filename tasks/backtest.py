"""Backtest tasks: walk-forward backtests of a trained candidate under each portfolio optimizer."""

from __future__ import annotations

from functools import partial

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from settings import Settings
from tasks.components import backtester_for, detector_for, policy_for
from tasks.research import plan_for, trainer_for
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
from trading_core.ml.research import fit_like
from trading_core.ml.train import EnsembleModel, TrainedModel


def segments_for(dataset: Dataset, settings: Settings) -> list[Segment]:
    """The retraining schedule the settings describe: per research fold, or every N months."""
    m, b = settings.modeling, settings.backtest
    dates = dataset.dates.unique().sort_values()
    gap = dataset.horizon + m.cv.embargo_sessions
    if b.retrain == "folds":
        starts = fold_starts(plan_for(dataset, settings))
    else:
        starts = monthly_starts(
            dates, dataset.labeled_dates, b.retrain_months, b.min_train_sessions, gap
        )
    rolling = m.cv.train_sessions if m.cv.window == "rolling" else None
    return plan_segments(dates, dataset.labeled_dates, starts, gap, rolling)


def walk_forward_candidate(
    template: TrainedModel | EnsembleModel,
    dataset: Dataset,
    data: MarketData,
    settings: Settings,
    optimizers: list[str],
    progress: Progress = lambda _: None,
) -> dict[str, WalkForwardResult]:
    """Retrain `template`'s candidate on the schedule, then backtest its scores per optimizer."""
    segments = segments_for(dataset, settings)
    fit = partial(
        fit_like,
        template,
        dataset,
        trainer_for(settings),
        stride=settings.modeling.sample_stride,
    )
    on = rebalance_from(segments, data.close, settings.backtest.rebalance_sessions)
    scores, models = walk_forward_scores(dataset, segments, fit, on, progress)
    detector = detector_for(settings)
    regimes = detector.history(detector.index_of(data)[0])
    backtester = backtester_for(settings)
    return {
        name: backtest_scores(
            scores,
            data.close,
            regimes,
            policy_for(settings, data.sectors, name),
            backtester,
            models,
            progress,
        )
        for name in optimizers
    }


@task(name="walk-forward-backtest", cache_policy=NO_CACHE)
def walk_forward_backtest(
    template: TrainedModel | EnsembleModel,
    dataset: Dataset,
    data: MarketData,
    settings: Settings,
    optimizers: list[str],
) -> dict[str, WalkForwardResult]:
    """Walk-forward backtests of one candidate under each optimizer (models fitted once)."""
    logger = get_run_logger()
    results = walk_forward_candidate(template, dataset, data, settings, optimizers, logger.info)
    for name, result in results.items():
        metrics = result.backtest.metrics
        logger.info(
            "%s x %s: Sharpe %.2f, CAGR %.1f%%, max drawdown %.1f%%, %d fallbacks",
            template.name,
            name,
            metrics["sharpe"],
            100 * metrics["cagr"],
            100 * metrics["max_drawdown"],
            len(result.fallbacks),
        )
    return results
