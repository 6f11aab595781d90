"""Walk-forward backtest: models retrained on a schedule, each scoring only dates after its data.

The schedule is a list of segment starts: one per walk-forward fold of the research plan plus the
test period (`fold_starts`), or every N months once enough history exists (`monthly_starts`). The
model that scores a segment is fitted on labeled sessions ending `gap` (label horizon + embargo)
sessions before the segment's first date, so no label it learned from reaches into a date it
trades. Each rebalance date gets scores from its segment's model, the regime at that date, and a
portfolio from the same `PortfolioPolicy` the live run uses; `VectorizedBacktester` turns those
targets into equity with the shared cost model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from trading_core.backtest.engine import BacktestResult, VectorizedBacktester
from trading_core.data.market import MarketData
from trading_core.data.universe import membership
from trading_core.errors import DataError
from trading_core.features.labels import EXECUTIONS
from trading_core.ml.dataset import Dataset
from trading_core.ml.research import ResearchPlan
from trading_core.portfolio.estimates import positions_in
from trading_core.portfolio.policy import PortfolioPolicy, drift
from trading_core.regime import KEYS

Fit = Callable[[pd.DatetimeIndex], Any]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Segment:
    """One model's life: the labeled sessions it is fitted on and the sessions it scores."""

    train: pd.DatetimeIndex
    dates: pd.DatetimeIndex


def fold_starts(plan: ResearchPlan) -> list[pd.Timestamp]:
    """Segment starts matching the research plan: each validation fold, then the test period."""
    return [fold.validation[0] for fold in plan.folds] + [plan.test[0]]


def monthly_starts(
    dates: pd.DatetimeIndex,
    labeled: pd.DatetimeIndex,
    every_months: int,
    min_train_sessions: int,
    gap: int,
) -> list[pd.Timestamp]:
    """The first session of every `every_months`-th month, from when a model has enough history."""
    month_firsts = pd.Series(dates, index=dates).groupby(dates.to_period("M")).first()
    eligible = [
        start
        for start in month_firsts
        if len(_train_dates(dates, labeled, start, gap, None)) >= min_train_sessions
    ]
    if not eligible:
        raise DataError(
            f"no month has {min_train_sessions} labeled sessions before it (purge gap {gap}): "
            "use more data or lower backtest.min_train_sessions"
        )
    return eligible[::every_months]


def _train_dates(
    dates: pd.DatetimeIndex,
    labeled: pd.DatetimeIndex,
    start: pd.Timestamp,
    gap: int,
    train_sessions: int | None,
) -> pd.DatetimeIndex:
    """Labeled sessions at least `gap` sessions before `start` (the last `train_sessions` if set)."""
    cutoff = dates.get_loc(start) - gap
    train = labeled[labeled < dates[cutoff]] if cutoff > 0 else labeled[:0]
    return train if train_sessions is None else train[-train_sessions:]


def plan_segments(
    dates: pd.DatetimeIndex,
    labeled: pd.DatetimeIndex,
    starts: list[pd.Timestamp],
    gap: int,
    train_sessions: int | None = None,
) -> list[Segment]:
    """One segment per start: it scores until the next start (the last one to the end of `dates`)."""
    starts = sorted(set(starts))
    ends = [dates[dates.get_loc(s) - 1] for s in starts[1:]] + [dates[-1]]
    segments = []
    for start, end in zip(starts, ends, strict=True):
        train = _train_dates(dates, labeled, start, gap, train_sessions)
        if train.empty:
            raise DataError(f"no labeled sessions to train the model scoring from {start:%Y-%m-%d}")
        segments.append(Segment(train=train, dates=dates[(dates >= start) & (dates <= end)]))
    return segments


def rebalance_dates(dates: pd.DatetimeIndex, every: int) -> pd.DatetimeIndex:
    """Every `every`-th session of `dates`, starting with the first."""
    return dates[::every]


def walk_forward_scores(
    dataset: Dataset,
    segments: list[Segment],
    fit: Fit,
    on: pd.DatetimeIndex,
    progress: Progress = lambda _: None,
) -> tuple[pd.Series, pd.DataFrame]:
    """Scores on the dates `on`, each from its segment's model, and a table of the models used."""
    parts, models = [], []
    for i, segment in enumerate(segments, 1):
        scored = on[on.isin(segment.dates)]
        if scored.empty:
            continue
        progress(
            f"model {i}/{len(segments)}: trained on {segment.train[0]:%Y-%m-%d}.."
            f"{segment.train[-1]:%Y-%m-%d}, scores {scored[0]:%Y-%m-%d}..{scored[-1]:%Y-%m-%d}"
        )
        model = fit(segment.train)
        parts.append(model.predict(dataset.rows[dataset.on(scored)]))
        models.append(
            {
                "train_start": segment.train[0],
                "train_end": segment.train[-1],
                "first_scored": scored[0],
                "last_scored": scored[-1],
                "rebalances": len(scored),
            }
        )
    if not parts:
        raise DataError("no rebalance date falls in any walk-forward segment")
    return pd.concat(parts).rename("score"), pd.DataFrame(models)


def target_weights(
    scores: pd.Series,
    close: pd.DataFrame,
    regimes: pd.Series,
    policy: PortfolioPolicy,
    progress: Progress = lambda _: None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Target weights per rebalance date (wide) and a log of how each portfolio was built.

    Each portfolio is built from the weights held then, as the live run builds it from its
    positions: the previous targets drifted with the closes since (`drift`; nothing at first).
    """
    dates = pd.DatetimeIndex(scores.index.get_level_values("date").unique()).sort_values()
    by_date = dict(iter(scores.groupby(level="date")))  # one split, not a lookup per date
    sessions = [close.index.get_loc(day) for day in dates]
    weights, log = np.zeros((len(dates), len(close.columns))), []
    held, previous = None, None  # the last targets and the session they were set at
    for i, (day, session) in enumerate(zip(dates, sessions, strict=True), 1):
        code = int(regimes.loc[day])
        if previous is not None:
            targets, then = previous
            held = drift(targets, close.iloc[then], close.iloc[session])
        day_scores = by_date[day].droplevel("date")
        result = policy.build(day_scores, close.iloc[: session + 1], KEYS[code], held)
        previous = result.weights, session
        values = result.weights.to_numpy()
        columns = positions_in(close.columns, result.weights.index.tolist())
        weights[i - 1, columns[columns >= 0]] = values[columns >= 0]  # no closes: not held
        log.append(
            {
                "date": day,
                "regime": code,
                "optimizer": result.optimizer,
                "names": int((values > 0).sum()),
                "invested": float(values.sum()),
                "fallback_reason": result.fallback_reason,
            }
        )
        if i % 50 == 0 or i == len(dates):
            progress(f"portfolios {i}/{len(dates)} ({policy.optimizer})")
    weights = pd.DataFrame(weights, index=dates, columns=close.columns)
    return weights.rename_axis(index="date"), pd.DataFrame(log)


@dataclass(frozen=True)
class WalkForwardResult:
    """The backtest of one model x optimizer, with the models and portfolios behind it."""

    backtest: BacktestResult
    weights: pd.DataFrame
    models: pd.DataFrame
    portfolios: pd.DataFrame

    @property
    def fallbacks(self) -> pd.DataFrame:
        """Rebalances where the requested optimizer failed, with the reason."""
        return self.portfolios[self.portfolios["fallback_reason"].notna()]


def run_walk_forward(
    dataset: Dataset,
    data: MarketData,
    regimes: pd.Series,
    segments: list[Segment],
    fit: Fit,
    policy: PortfolioPolicy,
    backtester: VectorizedBacktester,
    rebalance_every: int = 5,
    progress: Progress = lambda _: None,
) -> WalkForwardResult:
    """Score, build and backtest from the first segment's start to the end of the data."""
    scores, models = walk_forward_scores(
        dataset, segments, fit, rebalance_from(segments, data.close, rebalance_every), progress
    )
    return backtest_scores(scores, data, regimes, policy, backtester, models, progress)


def rebalance_from(segments: list[Segment], close: pd.DataFrame, every: int) -> pd.DatetimeIndex:
    """Rebalance dates from the first scored session to the end of the prices."""
    dates = pd.DatetimeIndex(close.index)
    return rebalance_dates(dates[dates >= segments[0].dates[0]], every)


def backtest_scores(
    scores: pd.Series,
    data: MarketData,
    regimes: pd.Series,
    policy: PortfolioPolicy,
    backtester: VectorizedBacktester,
    models: pd.DataFrame,
    progress: Progress = lambda _: None,
) -> WalkForwardResult:
    """Backtest already-computed walk-forward scores under one portfolio policy.

    A grid of optimizers reuses the same scores: the models are fitted once per candidate. The
    targets fill by the backtester's execution convention (opens and volumes from `data`).
    """
    weights, portfolios = target_weights(scores, data.close, regimes, policy, progress)
    start = weights.index[0]
    since = data.since(start)
    members = None
    if data.universe is not None:
        members = membership(data.universe, since.dates, since.symbols)
    result = backtester.run(
        weights,
        since.close,
        regimes.loc[start:],
        open_=since.open,
        volume=since.volume,
        members=members,
    )
    return WalkForwardResult(backtest=result, weights=weights, models=models, portfolios=portfolios)


def sharpe_by_execution(
    weights: pd.DataFrame, data: MarketData, backtester: VectorizedBacktester
) -> dict[str, float]:
    """The Sharpe of the same targets filled under each execution convention.

    The decisions stay those of the backtest (same models, same portfolios); only the fill
    moves, so the differences are what the delay between signal and trade costs.
    """
    since = data.since(weights.index[0])
    return {
        execution: backtester.with_execution(execution)
        .run(weights, since.close, open_=since.open, volume=since.volume)
        .metrics["sharpe"]
        for execution in EXECUTIONS
    }
