"""Time-series splits: validation after training, never overlapping, with a purge gap between."""

from __future__ import annotations

from itertools import pairwise

import pandas as pd
import pytest

from trading_core.data.calendar import sessions_between
from trading_core.ml.cv import holdout_split, walk_forward_splits

DATES = sessions_between("2019-01-02", "2020-12-31")  # 505 sessions


def sessions_strictly_between(
    dates: pd.DatetimeIndex, first: pd.Timestamp, last: pd.Timestamp
) -> int:
    return int(((dates > first) & (dates < last)).sum())


@pytest.mark.parametrize("gap", [0, 1, 5, 21])
def test_holdout_leaves_exactly_gap_sessions_between_train_and_validation(gap):
    split = holdout_split(DATES, holdout=100, gap=gap)

    assert list(split.validation) == list(DATES[-100:])
    assert sessions_strictly_between(DATES, split.train[-1], split.validation[0]) == gap
    assert split.train[0] == DATES[0]
    assert not set(split.train) & set(split.validation)
    assert len(split.train) + gap + len(split.validation) == len(DATES)


def test_holdout_train_keeps_only_the_most_recent_training_dates():
    split = holdout_split(DATES, holdout=100, gap=5, train=250)

    assert len(split.train) == 250
    assert sessions_strictly_between(DATES, split.train[-1], split.validation[0]) == 5


def test_holdout_ignores_order_and_repeats_of_the_input_dates():
    repeated = DATES.append(DATES[::-1])

    split = holdout_split(repeated, holdout=100, gap=5)

    assert list(split.validation) == list(DATES[-100:])
    assert split.train.is_monotonic_increasing and split.train.is_unique


@pytest.mark.parametrize(("holdout", "gap"), [(500, 5), (505, 0), (600, 5)])
def test_holdout_with_too_few_dates_is_refused(holdout, gap):
    with pytest.raises(ValueError, match="too few"):
        holdout_split(DATES, holdout=holdout, gap=gap)


def test_an_empty_holdout_is_refused():
    with pytest.raises(ValueError):
        holdout_split(DATES, holdout=0, gap=5)


@pytest.mark.parametrize("train", [None, 150])
@pytest.mark.parametrize("gap", [0, 5])
def test_walk_forward_folds_are_purged_ordered_and_disjoint(gap, train):
    splits = walk_forward_splits(DATES, folds=4, validation=60, gap=gap, train=train)

    assert len(splits) == 4
    for split in splits:
        assert len(split.validation) == 60
        assert sessions_strictly_between(DATES, split.train[-1], split.validation[0]) >= gap
        assert split.train[-1] < split.validation[0]
        if train is not None:
            assert len(split.train) <= train
    for earlier, later in pairwise(splits):
        assert earlier.validation[-1] < later.validation[0]
    validations = [day for split in splits for day in split.validation]
    assert len(validations) == len(set(validations))
    assert validations == list(DATES[-240:])  # consecutive windows ending at the last date


def test_walk_forward_with_too_few_dates_is_refused():
    with pytest.raises(ValueError, match="too few dates"):
        walk_forward_splits(DATES[:100], folds=4, validation=25, gap=5)
