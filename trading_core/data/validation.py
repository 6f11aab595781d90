"""Checks that market data is fit to trade on; each failure names the symbol, date and source row.

`validate_prices` works on long rows (the only shape in which duplicates are visible);
`validate_market_data` on the wide container every provider returns. Both hold every symbol to
SYMBOL_PATTERN, so no output file can carry a formula or markup in a symbol.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

from trading_core.data.calendar import sessions
from trading_core.data.market import OPTIONAL_FIELDS, MarketData
from trading_core.errors import DataError

REQUIRED_COLUMNS = ("date", "symbol", "close")
MIN_UNIVERSE = 2  # scores rank stocks against each other: one name has nothing to rank against
SYMBOL_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,23}")
SYMBOL_RULE = (
    "letters, digits, '.', '-', '_' and '/', starting with a letter or digit, at most 24 characters"
)
CASH = "CASH"  # the cash row of current_positions.csv: no symbol may be called so, in any case


def _where(source: str, row: int | None) -> str:
    return f" ({source} row {row})" if row is not None else f" ({source})"


def _first(mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy())[0])


def symbol_problem(symbol: object) -> str | None:
    """Why `symbol` cannot name a stock, in one line with the symbol repr'd (hostile characters
    visible, cut at 40), or None when it can."""
    text = "" if pd.isna(symbol) else str(symbol)
    shown = repr(text) if len(text) <= 40 else f"{text[:40]!r}..."
    if SYMBOL_PATTERN.fullmatch(text) is None:
        return f"symbol {shown} is not allowed: use {SYMBOL_RULE}"
    if text.upper() == CASH:
        return f"symbol {shown} is reserved: {CASH} is the cash row of current_positions.csv"
    return None


def validate_symbols(
    symbols: pd.Series | pd.Index, source: str, row_offset: int | None = None
) -> None:
    """Refuse the first symbol (in order) that `symbol_problem` rejects, naming it and its row."""
    values = pd.Series(symbols)
    bad = [symbol for symbol in pd.unique(values) if symbol_problem(symbol)]
    if bad:
        pos = _first(values.isin(bad))
        row = None if row_offset is None else pos + row_offset
        raise DataError(f"{symbol_problem(values.iloc[pos])}{_where(source, row)}")


def validate_prices(
    prices: pd.DataFrame,
    source: str = "prices",
    row_offset: int | None = 2,
    today: date | None = None,
) -> None:
    """Reject empty data, missing columns, bad symbols, unparseable values, duplicates, bad closes,
    rows dated after `today` (when given: the market date in New York), non-sessions.

    `row_offset` maps a frame position to the row number a person sees in the file (2 for a CSV with
    a header line); None when rows have no meaningful number.
    """

    def row(position: int) -> int | None:
        return None if row_offset is None else position + row_offset

    missing = [col for col in REQUIRED_COLUMNS if col not in prices.columns]
    if missing:
        raise DataError(
            f"{source} lacks column(s) {', '.join(missing)}; found {', '.join(map(str, prices.columns))}"
        )
    if prices.empty:
        raise DataError(f"{source} has no rows: the universe is empty")
    dates = pd.to_datetime(prices["date"], errors="coerce")
    if dates.isna().any():
        pos = _first(dates.isna())
        raise DataError(
            f"date {prices['date'].iloc[pos]!r} is not a date{_where(source, row(pos))}"
        )
    symbols = prices["symbol"]
    if symbols.isna().any() or (symbols.astype("str").str.strip() == "").any():
        pos = _first(symbols.isna() | (symbols.astype("str").str.strip() == ""))
        raise DataError(f"symbol is empty{_where(source, row(pos))}")
    validate_symbols(symbols, source, row_offset)
    for column in ("close", *OPTIONAL_FIELDS):
        if column not in prices.columns:
            continue
        values = pd.to_numeric(prices[column], errors="coerce")
        unparseable = values.isna() & prices[column].notna()
        if unparseable.any():
            pos = _first(unparseable)
            raise DataError(
                f"{column} {prices[column].iloc[pos]!r} is not a number for "
                f"{symbols.iloc[pos]} on {dates.iloc[pos]:%Y-%m-%d}{_where(source, row(pos))}"
            )
        bad = values.isna() | (values <= 0) if column == "close" else values < 0
        if bad.any():
            pos = _first(bad)
            what = "NaN" if pd.isna(values.iloc[pos]) else f"{values.iloc[pos]:g}"
            rule = " (must be positive)" if column == "close" else " (must not be negative)"
            rule = "" if what == "NaN" else rule
            raise DataError(
                f"{column} is {what}{rule} for {symbols.iloc[pos]} on "
                f"{dates.iloc[pos]:%Y-%m-%d}{_where(source, row(pos))}"
            )
    duplicated = pd.DataFrame({"date": dates, "symbol": symbols}).duplicated(keep="first")
    if duplicated.any():
        pos = _first(duplicated)
        raise DataError(
            f"duplicate row for {symbols.iloc[pos]} on {dates.iloc[pos]:%Y-%m-%d}"
            f"{_where(source, row(pos))}"
        )
    normalized = dates.dt.tz_localize(None).dt.normalize() if dates.dt.tz else dates.dt.normalize()
    if today is not None and (normalized > pd.Timestamp(today)).any():
        pos = _first(normalized > pd.Timestamp(today))
        raise DataError(
            f"row for {symbols.iloc[pos]} is dated {normalized.iloc[pos]:%Y-%m-%d}, after today "
            f"({today:%Y-%m-%d} in New York){_where(source, row(pos))}"
        )
    off_session = ~normalized.isin(sessions())
    if off_session.any():
        pos = _first(off_session)
        raise DataError(
            f"{normalized.iloc[pos]:%Y-%m-%d} ({normalized.iloc[pos]:%A}) is not an NYSE session: "
            f"row for {symbols.iloc[pos]}{_where(source, row(pos))}"
        )


def validate_market_data(data: MarketData) -> None:
    """Reject no symbols, bad symbols (in prices or sectors), non-session dates, bad closes, gaps
    in the benchmark. A name's own gaps are the gap policy's (trading_core.data.quality)."""
    close = data.close
    if close.empty or close.shape[1] == 0 or close.notna().sum().sum() == 0:
        raise DataError(f"{data.source} data has no prices: the universe is empty")
    validate_symbols(close.columns, f"{data.source} data")
    validate_symbols(data.sectors.index, f"sectors of {data.source} data")
    if not close.index.is_unique:
        dup = close.index[close.index.duplicated()][0]
        raise DataError(f"{data.source} data has the date {dup:%Y-%m-%d} twice")
    off_session = ~close.index.isin(sessions())
    if off_session.any():
        day = close.index[off_session][0]
        raise DataError(f"{day:%Y-%m-%d} ({day:%A}) is not an NYSE session ({data.source} data)")
    values = close.to_numpy()
    bad = ~np.isnan(values) & (values <= 0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(
            f"close is {values[i, j]:g} (must be positive) for {close.columns[j]} on "
            f"{close.index[i]:%Y-%m-%d} ({data.source} data)"
        )
    if data.benchmark is not None:
        _check_benchmark(data.benchmark, data.source)


def _check_benchmark(benchmark: pd.Series, source: str) -> None:
    """The benchmark needs positive closes; its gaps are the gap policy's
    (trading_core.data.quality)."""
    known = benchmark.dropna()
    if (known <= 0).any():
        day = known.index[known.to_numpy() <= 0][0]
        raise DataError(f"benchmark close is {known[day]:g} (must be positive) on {day:%Y-%m-%d}")
    if known.empty:
        raise DataError(f"the benchmark has no prices ({source} data)")


def stale_symbols(close: pd.DataFrame, sessions_unchanged: int) -> list[str]:
    """Symbols whose last close has not changed for `sessions_unchanged` sessions in a row."""
    if len(close) <= sessions_unchanged:
        return []
    tail = close.iloc[-(sessions_unchanged + 1) :]
    flat = tail.notna().all() & (tail.nunique() == 1)
    return sorted(flat[flat].index)


def validate_universe(data: MarketData) -> None:
    """Refuse a run date on which fewer than MIN_UNIVERSE symbols have a close."""
    priced = data.close.iloc[-1].dropna().index
    if len(priced) < MIN_UNIVERSE:
        names = ", ".join(map(str, priced)) or "none"
        raise DataError(
            f"only {len(priced)} symbol(s) ({names}) have a close on {data.last_date:%Y-%m-%d}: "
            f"cross-sectional scores need at least {MIN_UNIVERSE}"
        )
