"""Date-based splits for time series: no date in both train and validation, a purge gap between.

A label at t covers t..t+horizon, so training rows must end `gap >= horizon` sessions before the
first validation date, or the last training labels would overlap the validation period.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Split:
    """Training and validation session dates of one fold."""

    train: pd.DatetimeIndex
    validation: pd.DatetimeIndex


def holdout_split(
    dates: pd.DatetimeIndex, holdout: int, gap: int, train: int | None = None
) -> Split:
    """The last `holdout` dates for validation; training ends `gap` sessions before them.

    `train` keeps only that many most recent training dates (None: all of them).
    """
    dates = pd.DatetimeIndex(sorted(set(dates)))
    if holdout < 1 or gap < 0:
        raise ValueError(f"holdout must be >= 1 and gap >= 0 (got {holdout} and {gap})")
    if holdout + gap >= len(dates):
        raise ValueError(
            f"{len(dates)} dates are too few for a holdout of {holdout} after a gap of {gap}"
        )
    validation = dates[-holdout:]
    train_dates = dates[: len(dates) - holdout - gap]
    if train is not None:
        train_dates = train_dates[-train:]
    return Split(train=train_dates, validation=validation)


def walk_forward_splits(
    dates: pd.DatetimeIndex, folds: int, validation: int, gap: int, train: int | None = None
) -> list[Split]:
    """`folds` consecutive validation windows at the end of `dates`, each trained on what precedes it.

    Training stops `gap` sessions before each window (purge); `train` makes the training window
    rolling (that many most recent dates) instead of expanding.
    """
    dates = pd.DatetimeIndex(sorted(set(dates)))
    splits = []
    for fold in range(folds):
        end = len(dates) - (folds - 1 - fold) * validation
        start = end - validation
        if start - gap <= 0:
            raise ValueError(f"fold {fold} has no training dates: too few dates for {folds} folds")
        train_dates = dates[: start - gap]
        if train is not None:
            train_dates = train_dates[-train:]
        splits.append(Split(train=train_dates, validation=dates[start:end]))
    return splits
