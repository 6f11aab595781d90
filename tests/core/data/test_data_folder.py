"""The data folder format and the store's refusal of bad data.

A folder round-trips exactly in every format; every bad input is refused with a DataError that
names what a person needs to fix it (symbol, date, file and row); the store never writes a byte of
data it refused.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trading_core.data.folder import read_folder, write_folder
from trading_core.data.market import MarketData
from trading_core.data.store import MarketStore
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.errors import DataError

ROW = 40  # the long-format row the bad-input cases damage (file row ROW + 2 under the header)
SATURDAY = "2012-04-07"


@pytest.fixture(scope="module")
def data() -> MarketData:
    return generate_synthetic_market(symbols=12, years=1.5, seed=3).data


@pytest.fixture(scope="module")
def damaged(data) -> pd.Series:
    """The long row the bad-input cases damage: its symbol and date appear in every message."""
    return data.to_long().iloc[ROW]


# ---------------------------------------------------------------------------------------------
# round trip


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet"])
def test_a_dataset_round_trips_through_a_folder_exactly(data, tmp_path, fmt):
    prices_file = write_folder(data, tmp_path, fmt=fmt)

    back = read_folder(tmp_path)

    assert prices_file.name == f"prices.{fmt}"
    for name, frame in data.frames().items():
        pd.testing.assert_frame_equal(back.frames()[name], frame, check_exact=True)
    pd.testing.assert_series_equal(back.sectors, data.sectors)
    pd.testing.assert_series_equal(back.benchmark, data.benchmark, check_exact=True)
    assert back.fingerprint() == data.fingerprint()


def test_a_folder_with_only_closes_reads_without_volume(data, tmp_path):
    closes_only = MarketData(close=data.close, source="closes")
    write_folder(closes_only, tmp_path)

    back = read_folder(tmp_path)

    assert not back.has_volume
    assert back.open is None and back.benchmark is None and back.sectors.empty
    pd.testing.assert_frame_equal(back.close, data.close, check_exact=True)


# ---------------------------------------------------------------------------------------------
# bad inputs: each names what to fix


def edit_csv(change: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        table = pd.read_csv(path, dtype="str", keep_default_na=False)
        change(table).to_csv(path, index=False)

    return apply


def set_cell(column: str, value: str) -> Callable[[Path], None]:
    def change(table: pd.DataFrame) -> pd.DataFrame:
        table.loc[ROW, column] = value
        return table

    return edit_csv(change)


def duplicate_row(table: pd.DataFrame) -> pd.DataFrame:
    """Repeat row ROW right after itself: the repeat is file row ROW + 3."""
    return pd.concat([table.iloc[: ROW + 1], table.iloc[[ROW]], table.iloc[ROW + 1 :]])


def nan_close_in_parquet(path: Path) -> None:
    table = pd.read_parquet(path)
    table.loc[ROW, "close"] = np.nan
    table.to_parquet(path, index=False)


def truncate(path: Path) -> None:
    payload = path.read_bytes()
    path.write_bytes(payload[: len(payload) // 2])


def names(message: str, *words: str) -> bool:
    """True when every word appears in the message as a whole word, not glued to another."""
    return all(re.search(rf"(?<![\w.]){re.escape(w)}(?![\w])", message) for w in words)


ROW_LEVEL_CASES = [
    pytest.param("csv", set_cell("close", ""), None, "prices.csv row 42", id="nan-close"),
    pytest.param("csv", set_cell("close", "0"), None, "prices.csv row 42", id="zero-close"),
    pytest.param("csv", set_cell("close", "-3.5"), None, "prices.csv row 42", id="negative-close"),
    pytest.param("csv", set_cell("close", "n/a!"), None, "prices.csv row 42", id="text-close"),
    pytest.param("csv", edit_csv(duplicate_row), None, "prices.csv row 43", id="duplicate-row"),
    pytest.param("csv", set_cell("date", SATURDAY), SATURDAY, "prices.csv row 42", id="saturday"),
    pytest.param("parquet", nan_close_in_parquet, None, "prices.parquet", id="parquet-nan-close"),
]


@pytest.mark.parametrize(("fmt", "damage", "day", "where"), ROW_LEVEL_CASES)
def test_a_bad_price_row_names_symbol_date_file_and_row(
    data, damaged, tmp_path, fmt, damage, day, where
):
    damage(write_folder(data, tmp_path, fmt=fmt))
    day = day or f"{damaged['date']:%Y-%m-%d}"  # the damaged row's own date, unless it is the fault

    with pytest.raises(DataError) as error:
        read_folder(tmp_path)

    message = str(error.value)
    assert names(message, damaged["symbol"], day), message
    assert where in message


FILE_LEVEL_CASES = [
    pytest.param(
        "csv", edit_csv(lambda t: t.drop(columns="close")), ["prices.csv", "close"], id="no-close"
    ),
    pytest.param("csv", lambda p: p.write_bytes(b""), ["prices.csv", "empty"], id="empty-file"),
    pytest.param(
        "csv",
        lambda p: p.write_text("date,symbol,close,volume\n"),
        ["prices.csv", "empty"],
        id="header-only",
    ),
    pytest.param("parquet", truncate, ["prices.parquet"], id="truncated-parquet"),
    pytest.param(
        "csv", lambda p: p.unlink(), ["prices.csv", "prices.parquet"], id="no-prices-file"
    ),
]


@pytest.mark.parametrize(("fmt", "damage", "words"), FILE_LEVEL_CASES)
def test_an_unusable_prices_file_names_the_file_and_the_problem(data, tmp_path, fmt, damage, words):
    damage(write_folder(data, tmp_path, fmt=fmt))

    with pytest.raises(DataError) as error:
        read_folder(tmp_path)

    for word in words:
        assert word in str(error.value)


def test_a_missing_folder_is_a_data_error_naming_it(tmp_path):
    with pytest.raises(DataError, match="no-such-folder"):
        read_folder(tmp_path / "no-such-folder")


def test_a_symbol_listed_twice_in_sectors_is_named(data, tmp_path):
    write_folder(data, tmp_path)
    sectors = pd.read_csv(tmp_path / "sectors.csv")
    pd.concat([sectors, sectors.iloc[[3]]]).to_csv(tmp_path / "sectors.csv", index=False)

    with pytest.raises(DataError, match=rf"sectors\.csv lists {sectors['symbol'][3]} more than"):
        read_folder(tmp_path)


def test_a_bad_benchmark_close_names_the_date_and_file(data, tmp_path):
    write_folder(data, tmp_path)
    bench = pd.read_csv(tmp_path / "benchmark.csv")
    bench.loc[10, "close"] = -1.0
    bench.to_csv(tmp_path / "benchmark.csv", index=False)

    with pytest.raises(DataError) as error:
        read_folder(tmp_path)

    assert names(str(error.value), bench.loc[10, "date"], "benchmark.csv")


# ---------------------------------------------------------------------------------------------
# the store writes nothing it refused


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under `root` with its bytes (None for folders): equal only if nothing changed."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


def bad_market(data: MarketData, kind: str) -> MarketData:
    """`data` with one defect a provider could deliver."""
    close = data.close.copy()
    cell = (data.dates[100], data.symbols[2])
    if kind == "saturday":
        close = close.rename(index={data.dates[100]: pd.Timestamp(SATURDAY)}).sort_index()
        return MarketData(close=close, sectors=data.sectors, source="bad provider")
    if kind == "empty-universe":
        return MarketData(close=close.iloc[:, :0], source="bad provider")
    if kind == "long-gap-inside-history":  # beyond data.max_gap_sessions (3)
        close.loc[data.dates[100] : data.dates[103], data.symbols[2]] = np.nan
        return dataclasses.replace(data, close=close)
    close.loc[cell] = {
        "zero-close": 0.0,
        "negative-close": -1.0,
    }[kind]
    return dataclasses.replace(data, close=close)


@pytest.mark.parametrize("prefilled", [False, True], ids=["empty-store", "store-with-data"])
@pytest.mark.parametrize(
    "kind",
    ["long-gap-inside-history", "zero-close", "negative-close", "saturday", "empty-universe"],
)
def test_the_store_refuses_bad_data_and_writes_nothing(data, tmp_path, kind, prefilled):
    store = MarketStore(tmp_path / "store")
    if prefilled:
        store.update(data.as_of(data.dates[200]))
    before = snapshot(tmp_path)

    with pytest.raises(DataError):
        store.update(bad_market(data, kind))

    assert snapshot(tmp_path) == before
    if prefilled:
        assert store.load().fingerprint() == data.as_of(data.dates[200]).fingerprint()
