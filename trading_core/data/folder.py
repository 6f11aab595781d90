"""Read and write the data folder format (docs/reference/data.md): prices, optional sectors,
benchmark, universe.

A folder holds `prices.csv`, `prices.csv.gz` or `prices.parquet` (long: date,symbol,close and
optionally open,high,low,volume), `sectors.csv` (symbol,sector), `benchmark.csv` (date,close) and
`universe.csv` (symbol,start,end: point-in-time membership, `trading_core.data.universe`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from trading_core.data.calendar import market_today
from trading_core.data.market import OPTIONAL_FIELDS, MarketData
from trading_core.data.universe import FILE as UNIVERSE_FILE
from trading_core.data.universe import read_universe
from trading_core.data.validation import validate_market_data, validate_prices, validate_symbols
from trading_core.errors import DataError

PRICE_FILES = ("prices.parquet", "prices.csv.gz", "prices.csv")


def _read_table(path: Path) -> pd.DataFrame:
    """Read a CSV (optionally gzipped) or Parquet file, turning parser failures into DataError."""
    try:
        if path.name.endswith(".parquet"):
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype={"symbol": "str", "sector": "str"})
    except pd.errors.EmptyDataError:
        raise DataError(f"{path.name} is empty ({path})") from None
    except Exception as exc:  # pyarrow, gzip and csv errors have no common base class
        raise DataError(f"cannot read {path.name}: {type(exc).__name__}: {exc}") from None


def _read_benchmark(path: Path, today: date) -> pd.Series:
    table = _read_table(path)
    if not {"date", "close"} <= set(table.columns):
        raise DataError(f"benchmark.csv needs columns date,close; found {', '.join(table.columns)}")
    validate_prices(table.assign(symbol="benchmark"), source="benchmark.csv", today=today)
    dates = pd.DatetimeIndex(pd.to_datetime(table["date"]), name="date").as_unit("ns")
    series = pd.Series(
        pd.to_numeric(table["close"]).to_numpy("float64"), index=dates, name="benchmark"
    )
    return series.sort_index()


def read_sectors(path: Path) -> pd.Series:
    """A `symbol,sector` file as a Series indexed by symbol (DataError naming a bad row)."""
    table = _read_table(path)
    if not {"symbol", "sector"} <= set(table.columns):
        raise DataError(
            f"sectors.csv needs columns symbol,sector; found {', '.join(table.columns)}"
        )
    validate_symbols(table["symbol"], "sectors.csv", row_offset=2)
    if table["symbol"].duplicated().any():
        symbol = table.loc[table["symbol"].duplicated(), "symbol"].iloc[0]
        raise DataError(f"sectors.csv lists {symbol} more than once")
    return pd.Series(
        table["sector"].astype("str").to_numpy(),
        index=pd.Index(table["symbol"].astype("str"), name="symbol"),
        name="sector",
    )


def read_folder(folder: Path | str, today: date | None = None) -> MarketData:
    """Load and validate a data folder; raise DataError naming the file, row, symbol and date.

    A row dated after `today` (default: the market date in New York) is refused: it cannot be a
    close yet, and it would pass for the latest session.
    """
    folder = Path(folder)
    today = today or market_today()
    if not folder.is_dir():
        raise DataError(f"data folder not found: {folder}")
    price_file = next((folder / name for name in PRICE_FILES if (folder / name).exists()), None)
    if price_file is None:
        raise DataError(f"{folder} has no {' / '.join(PRICE_FILES)}")
    prices = _read_table(price_file)
    row_offset = None if price_file.name.endswith(".parquet") else 2
    validate_prices(prices, source=price_file.name, row_offset=row_offset, today=today)
    columns = ["date", "symbol", "close", *[c for c in OPTIONAL_FIELDS if c in prices.columns]]
    prices = prices[columns].assign(symbol=prices["symbol"].astype("str"))
    sectors = read_sectors(folder / "sectors.csv") if (folder / "sectors.csv").exists() else None
    benchmark = (
        _read_benchmark(folder / "benchmark.csv", today)
        if (folder / "benchmark.csv").exists()
        else None
    )
    universe = read_universe(folder / UNIVERSE_FILE) if (folder / UNIVERSE_FILE).exists() else None
    data = MarketData.from_long(
        prices, sectors=sectors, benchmark=benchmark, source=f"folder {folder}", universe=universe
    )
    validate_market_data(data)
    return data


def write_folder(data: MarketData, folder: Path | str, fmt: str = "csv") -> Path:
    """Write `data` in the folder format (`fmt`: csv, csv.gz or parquet); returns the prices file."""
    if fmt not in ("csv", "csv.gz", "parquet"):
        raise ValueError(f"unknown format {fmt!r}: use csv, csv.gz or parquet")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    prices = data.to_long()
    prices["date"] = prices["date"].dt.strftime("%Y-%m-%d")
    target = folder / f"prices.{fmt}"
    if fmt == "parquet":
        prices.to_parquet(target, index=False)
    else:
        prices.to_csv(target, index=False)
    if len(data.sectors):
        data.sectors.rename_axis("symbol").rename("sector").reset_index().to_csv(
            folder / "sectors.csv", index=False
        )
    if data.benchmark is not None:
        bench = data.benchmark.rename("close").rename_axis("date").reset_index()
        bench["date"] = bench["date"].dt.strftime("%Y-%m-%d")
        bench.to_csv(folder / "benchmark.csv", index=False)
    if data.universe is not None:
        spans = data.universe[["symbol", "start", "end"]].copy()
        for column in ("start", "end"):
            spans[column] = spans[column].dt.strftime("%Y-%m-%d")
        spans.to_csv(folder / UNIVERSE_FILE, index=False)
    return target
