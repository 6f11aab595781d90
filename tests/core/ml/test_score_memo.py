"""The score memo: a saved model's scores of rows it scored before are read back, not recomputed,
and are exactly the model's scores; changed rows, unreadable files and other models' files are
handled so that no remembered score can differ from a fresh one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trading_core.ml.score_memo import SUFFIX, model_id, remembered_scores


class CountingModel:
    """A deterministic scorer that records how many rows it was asked to score; `ranked`: its
    score is the row's percentile rank within its date, as an ensemble's is."""

    name = "counting"

    def __init__(self, ranked: bool = False) -> None:
        self.scored = 0
        self.ranked = ranked

    def predict(self, rows: pd.DataFrame) -> pd.Series:
        self.scored += len(rows)
        weights = np.linspace(-1.0, 1.0, rows.shape[1])
        raw = pd.Series((rows.to_numpy("float64") * weights).sum(axis=1), index=rows.index)
        scores = raw.groupby(level="date").rank(pct=True) if self.ranked else raw
        return scores.rename("score")


def feature_rows(dates: int, names: int = 30, seed: int = 0) -> pd.DataFrame:
    index = pd.MultiIndex.from_product(
        [pd.bdate_range("2024-01-02", periods=dates), [f"S{i:02d}" for i in range(names)]],
        names=["date", "symbol"],
    )
    values = np.random.default_rng(seed).standard_normal((len(index), 6)).astype("float32")
    return pd.DataFrame(values, index=index, columns=[f"f{i}" for i in range(6)])


@pytest.fixture
def memo(tmp_path):
    return tmp_path / "scores" / f"abc{SUFFIX}"


def test_a_second_day_scores_only_its_new_rows_and_gets_the_model_s_scores(memo):
    model = CountingModel()
    first, second = feature_rows(20).iloc[: 19 * 30], feature_rows(20)

    remembered_scores(model, first, memo)
    assert model.scored == len(first)
    scores = remembered_scores(model, second, memo)

    assert model.scored == len(first) + 30  # the new session only
    pd.testing.assert_series_equal(scores, CountingModel().predict(second), check_exact=True)


@pytest.mark.parametrize("ranked", [False, True])
def test_a_date_with_a_changed_row_is_scored_again_whole(memo, ranked):
    model = CountingModel(ranked)
    rows = feature_rows(5)
    remembered_scores(model, rows, memo)
    revised = rows.copy()
    revised.iloc[37, 2] += 3.0  # a data correction moved one feature of one row (second date)

    scores = remembered_scores(model, revised, memo)

    assert model.scored == len(rows) + 30  # that row's date, all of its names
    pd.testing.assert_series_equal(scores, CountingModel(ranked).predict(revised), check_exact=True)
    assert not scores.equals(CountingModel(ranked).predict(rows))  # the change shows


def test_an_unreadable_memo_is_read_as_empty_and_rewritten(memo):
    model = CountingModel()
    rows = feature_rows(3)
    memo.parent.mkdir(parents=True)
    memo.write_bytes(b"not parquet")

    scores = remembered_scores(model, rows, memo)

    assert model.scored == len(rows)
    pd.testing.assert_series_equal(scores, CountingModel().predict(rows), check_exact=True)
    remembered_scores(model, rows, memo)
    assert model.scored == len(rows)  # the rewritten memo is read


def test_without_a_memo_file_or_rows_the_model_scores_directly(memo):
    model = CountingModel()
    rows = feature_rows(2)
    pd.testing.assert_series_equal(remembered_scores(model, rows, None), model.predict(rows))
    assert remembered_scores(model, rows.iloc[:0], memo).empty
    assert not memo.exists()


def test_only_the_current_model_s_memo_is_kept(memo):
    other = memo.with_name(f"old{SUFFIX}")
    other.parent.mkdir(parents=True)
    other.write_bytes(b"an earlier champion's scores")

    remembered_scores(CountingModel(), feature_rows(2), memo)

    assert memo.exists() and not other.exists()


def test_a_model_is_identified_by_its_member_files():
    record = {"members": [{"sha256": "a" * 64}, {"sha256": "b" * 64}]}
    retrained = {"members": [{"sha256": "a" * 64}, {"sha256": "c" * 64}]}

    assert model_id(record) == model_id(dict(record))
    assert model_id(record) != model_id(retrained)
    assert model_id({"model_name": "lightgbm"}) is None  # fitted on the spot: not remembered
    assert model_id({"members": [{"sha256": None}]}) is None
