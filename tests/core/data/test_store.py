"""The market-data store: idempotent, incremental, cut-able at any date, and tamper-evident."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest

from trading_core.data.market import MarketData
from trading_core.data.store import MarketStore
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.errors import DataError


@pytest.fixture(scope="module")
def data() -> MarketData:
    return generate_synthetic_market(symbols=12, years=1.5, seed=3).data


@pytest.fixture
def store(tmp_path) -> MarketStore:
    return MarketStore(tmp_path / "store")


def files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())}


def priced_rows(data: MarketData) -> int:
    return int(data.close.notna().sum().sum())


def test_a_first_update_stores_every_row_and_loads_back_identical(data, store):
    result = store.update(data)

    assert result.changed and not result.history_revised
    assert result.rows_added == priced_rows(data)
    assert result.fingerprint == data.fingerprint() == store.manifest()["fingerprint"]
    loaded = store.load()
    assert loaded.fingerprint() == data.fingerprint()
    for name, frame in data.frames().items():
        pd.testing.assert_frame_equal(loaded.frames()[name], frame, check_exact=True)


def test_updating_twice_with_the_same_data_changes_nothing(data, store):
    store.update(data)
    before = files(store.root)

    again = store.update(data)

    assert not again.changed
    assert again.rows_added == 0
    assert files(store.root) == before


def test_an_update_appends_only_the_new_sessions(data, store):
    mid = data.dates[200]
    store.update(data.as_of(mid))

    result = store.update(data)

    assert result.changed and not result.history_revised
    assert result.rows_added == priced_rows(data) - priced_rows(data.as_of(mid))
    assert store.load().fingerprint() == data.fingerprint()
    assert result.last_date == f"{data.last_date:%Y-%m-%d}"


def test_a_provider_returning_only_older_sessions_leaves_the_store_unchanged(data, store):
    store.update(data)
    before = files(store.root)

    result = store.update(data.as_of(data.dates[200]))

    assert not result.changed
    assert files(store.root) == before


@pytest.mark.parametrize("cut", ["2012-03-15", "2012-06-02", "2013-01-02", "2030-01-01"])
def test_load_as_of_never_returns_a_row_after_the_cut(data, store, cut):
    store.update(data)

    loaded = store.load(as_of=cut)

    for frame in loaded.frames().values():
        assert frame.index.max() <= pd.Timestamp(cut)
    assert loaded.benchmark.index.max() <= pd.Timestamp(cut)
    assert loaded.fingerprint() == data.as_of(cut).fingerprint()


def test_a_hand_edited_price_file_is_refused_by_fingerprint(data, store):
    store.update(data)
    prices_file = store.root / store.manifest()["files"]["prices"]
    prices = pd.read_parquet(prices_file)
    prices.loc[5, "close"] *= 1.001
    prices.to_parquet(prices_file, index=False)

    with pytest.raises(DataError, match="fingerprint"):
        store.load()


def test_the_files_checksums_vouch_for_the_fingerprint_so_loading_hashes_no_content(
    data, store, monkeypatch
):
    store.update(data)
    manifest = store.manifest()
    assert set(manifest["checksums"]) == set(manifest["files"])

    def no_hashing(self):
        raise AssertionError("the content was hashed")

    monkeypatch.setattr(MarketData, "_content_hash", no_hashing)
    loaded = store.load()

    assert loaded.fingerprint() == manifest["fingerprint"] == data.fingerprint()


def test_a_hand_edited_file_is_refused_by_its_checksum_naming_it(data, store):
    store.update(data)
    sectors_file = store.root / store.manifest()["files"]["sectors"]
    sectors = pd.read_parquet(sectors_file)
    sectors.loc[0, "sector"] = "Edited"
    sectors.to_parquet(sectors_file, index=False)

    with pytest.raises(
        DataError, match=f"{sectors_file.name} does not match its manifest checksum"
    ):
        store.load()


def test_a_manifest_from_before_checksums_is_checked_by_fingerprint(data, store):
    store.update(data)
    manifest = store.manifest()
    del manifest["checksums"]
    store.manifest_path.write_text(json.dumps(manifest))
    assert store.load().fingerprint() == data.fingerprint()
    prices_file = store.root / manifest["files"]["prices"]
    prices = pd.read_parquet(prices_file)
    prices.loc[5, "close"] *= 1.001
    prices.to_parquet(prices_file, index=False)

    with pytest.raises(DataError, match="does not match its manifest fingerprint"):
        store.load()


def test_a_missing_price_file_is_a_data_error(data, store):
    store.update(data)
    (store.root / store.manifest()["files"]["prices"]).unlink()

    with pytest.raises(DataError, match="damaged"):
        store.load()


def test_an_empty_store_says_to_run_an_update(store):
    with pytest.raises(DataError, match="data update"):
        store.load()


def test_an_unreadable_manifest_is_a_data_error(data, store):
    store.update(data)
    store.manifest_path.write_text("{ not json")

    with pytest.raises(DataError, match="manifest"):
        store.load()


def test_revised_history_rewrites_the_store(data, store):
    store.update(data)
    close = data.close.copy()
    close.iloc[10, 3] *= 1.01  # a re-adjusted old close, as after a dividend
    revised = dataclasses.replace(data, close=close)

    result = store.update(revised)

    assert result.changed and result.history_revised
    assert store.load().fingerprint() == revised.fingerprint() != data.fingerprint()
    manifest = json.loads(store.manifest_path.read_text())
    assert set(files(store.root)) == {"manifest.json", *manifest["files"].values()}


def test_a_jump_at_the_seam_between_stored_and_new_sessions_is_refused(data, store):
    """Only the new session is fetched; its x100 close is judged against the stored close."""
    store.update(data.as_of(data.dates[-2]))
    before = files(store.root)
    new = data.since(data.dates[-1])
    close = new.close.copy()
    close["S05"] *= 100
    bad = dataclasses.replace(new, close=close)

    with pytest.raises(DataError, match=r"close of S05 moves x\d+"):
        store.update(bad)

    assert files(store.root) == before
    assert store.update(new).changed  # the same session, unbroken, passes


def test_long_rows_become_the_pivot_of_each_field_with_gaps_as_nan(data):
    long = data.to_long().sample(frac=0.8, random_state=1)  # shuffled, with missing pairs

    wide = MarketData.from_long(long)

    for name, frame in wide.frames().items():
        pivot = long.pivot(index="date", columns="symbol", values=name).sort_index()
        pd.testing.assert_frame_equal(frame, pivot.astype("float64"), check_names=False)
        assert (frame.index.name, frame.columns.name) == ("date", "symbol")


def test_long_rows_with_a_repeated_date_and_symbol_are_refused(data):
    long = data.to_long()
    with pytest.raises(ValueError, match="one row per"):
        MarketData.from_long(pd.concat([long, long.iloc[:1]]))


def test_data_cut_after_its_last_date_is_the_same_data_with_its_fingerprint_kept(data):
    fingerprint = data.fingerprint()
    assert data.as_of(data.last_date) is data
    assert data.as_of(data.dates[-2]).fingerprint() != fingerprint
    changed = dataclasses.replace(data, close=data.close * 2)
    assert changed.fingerprint() != fingerprint == data.fingerprint()
