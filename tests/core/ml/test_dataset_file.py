"""The feature cache's file: a dataset saved as Arrow comes back exactly, and a saved one pickles
to its path alone (what Prefect's cache record holds)."""

from __future__ import annotations

import os
import pickle
import time

import numpy as np
import pandas as pd
import pytest

from tasks.feature_cache import FeatureFile, FeatureFileLost
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.features.library import feature_set
from trading_core.ml.dataset import Dataset, build_dataset
from trading_core.ml.dataset_file import load_dataset, save_dataset


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    data = generate_synthetic_market(symbols=6, years=1, seed=11).data
    return build_dataset(data, feature_set(), horizon=5, execution="next_open")


def assert_same(back: Dataset, dataset: Dataset) -> None:
    pd.testing.assert_frame_equal(back.rows, dataset.rows, check_exact=True)
    pd.testing.assert_series_equal(back.labels, dataset.labels, check_exact=True)
    pd.testing.assert_series_equal(back.forward_returns, dataset.forward_returns, check_exact=True)
    assert back.rows.index.dtypes.equals(dataset.rows.index.dtypes)
    assert (back.horizon, back.execution) == (dataset.horizon, dataset.execution)


def test_a_saved_dataset_loads_back_exactly(dataset, tmp_path):
    assert dataset.labels.isna().any() and dataset.rows.isna().to_numpy().any()  # NaNs survive
    save_dataset(dataset, tmp_path / "d.arrow")
    assert_same(load_dataset(tmp_path / "d.arrow"), dataset)
    assert [p.name for p in tmp_path.iterdir()] == ["d.arrow"]  # no temporary file left


def test_a_saved_feature_file_pickles_to_its_path_and_loads_from_it(dataset, tmp_path):
    saved = FeatureFile.save(dataset, tmp_path / "k.arrow", keep_hours=24)
    payload = pickle.dumps(saved)
    assert len(payload) < 1_000 < (tmp_path / "k.arrow").stat().st_size
    assert_same(pickle.loads(payload).load(), dataset)
    unsaved = pickle.loads(pickle.dumps(FeatureFile(dataset)))  # caching off: the data itself
    assert_same(unsaved.load(), dataset)


def test_a_lost_or_torn_file_is_reported_for_a_rebuild(dataset, tmp_path):
    path = tmp_path / "k.arrow"
    record = pickle.dumps(FeatureFile.save(dataset, path, keep_hours=24))
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(FeatureFileLost, match="k.arrow"):
        pickle.loads(record).load()
    path.unlink()
    with pytest.raises(FeatureFileLost, match="k.arrow"):
        pickle.loads(record).load()


def test_saving_deletes_files_past_the_cache_expiry_only(dataset, tmp_path):
    expired, recent = tmp_path / "expired.arrow", tmp_path / "recent.arrow"
    for path in (expired, recent):
        save_dataset(dataset, path)
    hours_ago = time.time() - 26 * 3600
    os.utime(expired, (hours_ago, hours_ago))  # its record expired over an hour ago
    os.utime(recent, (time.time() - 24.5 * 3600,) * 2)  # its record may still be valid
    FeatureFile.save(dataset, tmp_path / "new.arrow", keep_hours=24)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.arrow", "recent.arrow"]


def test_an_empty_dataset_round_trips(dataset, tmp_path):
    empty = Dataset(
        rows=dataset.rows.iloc[:0],
        labels=dataset.labels.iloc[:0],
        forward_returns=dataset.forward_returns.iloc[:0],
        horizon=dataset.horizon,
        execution=dataset.execution,
    )
    save_dataset(empty, tmp_path / "e.arrow")
    back = load_dataset(tmp_path / "e.arrow")
    assert back.rows.shape == (0, dataset.rows.shape[1])
    assert list(back.rows.columns) == list(dataset.rows.columns)
    assert np.dtype(back.rows.dtypes.iloc[0]) == np.dtype(dataset.rows.dtypes.iloc[0])


def test_a_failed_write_names_the_file_not_its_temporary(dataset, tmp_path, monkeypatch):
    import errno
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", "/x/.tmp")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(OSError, match="Read-only") as raised:
        save_dataset(dataset, tmp_path / "d.arrow")
    assert raised.value.filename == str(tmp_path / "d.arrow")
