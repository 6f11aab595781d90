"""Champion selection by out-of-sample rank IC on a purged holdout.

Each candidate is fitted on the training dates (ending `gap >= horizon` sessions before the
holdout) and scored on the holdout it never saw; the best mean daily rank IC wins. The winner is
then refitted on the most recent labeled dates for production.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from trading_core.errors import DataError
from trading_core.ml.cv import holdout_split
from trading_core.ml.dataset import Dataset
from trading_core.ml.metrics import daily_ic, ic_summary
from trading_core.ml.train import ModelTrainer, TrainedModel


@dataclass(frozen=True)
class CandidateResult:
    """One candidate's out-of-sample record."""

    name: str
    rank_ic: dict[str, float]
    ic: dict[str, float]
    daily_rank_ic: pd.Series
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    holdout_start: pd.Timestamp
    holdout_end: pd.Timestamp


def _rows_on(dataset: Dataset, dates: pd.DatetimeIndex) -> pd.DataFrame:
    return dataset.rows[dataset.rows.index.get_level_values("date").isin(dates)]


def evaluate_candidates(
    dataset: Dataset,
    candidates: list[str],
    trainer: ModelTrainer,
    holdout: int,
    train_sessions: int | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> list[CandidateResult]:
    """Fit every candidate before the purged holdout and measure its IC on the holdout."""
    try:
        split = holdout_split(
            dataset.labeled_dates, holdout=holdout, gap=dataset.horizon, train=train_sessions
        )
    except ValueError as exc:
        raise DataError(
            f"not enough history for champion selection: {exc} "
            "(lower modeling.holdout_sessions or use more data)"
        ) from None
    train_rows = _rows_on(dataset, split.train)
    holdout_rows = _rows_on(dataset, split.validation)
    results = []
    for name in candidates:
        progress(f"training {name} on {split.train[0]:%Y-%m-%d}..{split.train[-1]:%Y-%m-%d}")
        model = trainer.fit(name, train_rows, dataset.labels)
        scores = model.predict(holdout_rows)
        rank = daily_ic(scores, dataset.labels, rank=True)
        pearson = daily_ic(scores, dataset.labels, rank=False)
        results.append(
            CandidateResult(
                name=name,
                rank_ic=ic_summary(rank),
                ic=ic_summary(pearson),
                daily_rank_ic=rank,
                train_start=split.train[0],
                train_end=split.train[-1],
                holdout_start=split.validation[0],
                holdout_end=split.validation[-1],
            )
        )
    return results


def best_candidate(results: list[CandidateResult]) -> CandidateResult:
    """The candidate with the highest mean holdout rank IC (ties: first listed)."""
    return max(results, key=lambda r: (r.rank_ic["mean"], -results.index(r)))


def fit_production(
    dataset: Dataset, name: str, trainer: ModelTrainer, train_sessions: int | None = None
) -> tuple[TrainedModel, pd.DatetimeIndex]:
    """Refit `name` on the most recent labeled dates (all labels known by the data's end)."""
    dates = dataset.labeled_dates
    if train_sessions is not None:
        dates = dates[-train_sessions:]
    return trainer.fit(name, _rows_on(dataset, dates), dataset.labels), dates
