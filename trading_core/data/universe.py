"""Point-in-time universe: which symbols belonged to the investable set on each date.

A data folder's optional `universe.csv` (symbol,start,end) lists membership spans; `end` empty
means still a member, and a symbol may have several rows (it left and came back) as long as they
do not overlap. Both ends are inclusive: a name is a member on its `start` and on its `end`.
Without the file the data may be a survivor set: the names that are still around today, whose
past looks better than the past of the names an investor could actually have held.

Implements:

- `read_universe`: the file, validated (one-line DataError naming the row and the symbol).
- `membership`: a dates x symbols boolean frame; a symbol the file does not list is never a member.
- `left_universe`: held names whose membership has ended by a session (the daily run sells them).
- `coverage_notes`: listed names without prices and priced names never listed, for the logs.
- `validate_members`: enough priced members on the run date to rank against each other.

A name is scored, held and backtested only inside its membership; its features may still use
the prices before it joined (a momentum window does not start at the index inclusion).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from trading_core.data.market import MarketData
from trading_core.data.validation import MIN_UNIVERSE, validate_symbols
from trading_core.errors import DataError

FILE = "universe.csv"
COLUMNS = ("symbol", "start", "end")
SHOWN = 10  # names listed in a coverage note before "and N more"


def read_universe(path: Path | str) -> pd.DataFrame:
    """The membership spans of `path`: columns symbol (str), start, end (datetime64[ns]; NaT: open),
    sorted by symbol and start. Other columns are ignored.

    Refused (DataError naming the file row and the symbol): a missing column, no rows, a bad
    symbol, a start that is empty or not a date, an end that is not a date or before its start,
    two spans of one symbol that overlap.
    """
    path = Path(path)
    try:  # keep_default_na=False: a symbol such as NA stays a symbol, an empty end stays ""
        table = pd.read_csv(path, dtype="str", keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path.name} is empty ({path})") from None
    except Exception as exc:  # csv and decoding errors have no common base class
        raise DataError(f"cannot read {path.name}: {type(exc).__name__}: {exc}") from None
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise DataError(
            f"{path.name} needs columns symbol,start,end; lacks {', '.join(missing)} "
            f"(found {', '.join(map(str, table.columns))})"
        )
    if table.empty:
        raise DataError(f"{path.name} has no rows: no name would ever be a member ({path})")
    table = table[list(COLUMNS)].apply(lambda column: column.str.strip())
    validate_symbols(table["symbol"], path.name, row_offset=2)
    start = _dates(table, "start", path.name, required=True)
    end = _dates(table, "end", path.name, required=False)
    backwards = (end < start).to_numpy()
    if backwards.any():
        i = int(np.flatnonzero(backwards)[0])
        raise DataError(
            f"end {end.iloc[i]:%Y-%m-%d} is before start {start.iloc[i]:%Y-%m-%d} for "
            f"{table['symbol'].iloc[i]} ({path.name} row {i + 2})"
        )
    spans = pd.DataFrame(
        {
            "symbol": table["symbol"].astype("str"),
            "start": start,
            "end": end,
            "row": table.index + 2,
        }
    ).sort_values(["symbol", "start"], kind="stable")
    _refuse_overlaps(spans, path.name)
    return spans.drop(columns="row").reset_index(drop=True)


def _dates(table: pd.DataFrame, column: str, source: str, required: bool) -> pd.Series:
    """`column` parsed as dates (NaT where empty); a value that is not a date is refused."""
    text = table[column]
    parsed = pd.to_datetime(text.where(text != ""), errors="coerce")
    bad = (parsed.isna() & (text != "")) | (parsed.isna() & required)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        what = f"{text.iloc[i]!r} is not a date" if text.iloc[i] else "is empty"
        raise DataError(f"{column} {what} for {table['symbol'].iloc[i]} ({source} row {i + 2})")
    if parsed.dt.tz is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.dt.normalize().astype("datetime64[ns]")


def _refuse_overlaps(spans: pd.DataFrame, source: str) -> None:
    """Two spans of one symbol (sorted by start) overlap when one starts on or before the end of
    the one before it (an open end reaches forever)."""
    previous = spans.groupby("symbol", sort=False).shift(1)
    overlap = (spans["symbol"] == spans["symbol"].shift(1)) & (
        previous["end"].isna() | (spans["start"] <= previous["end"])
    )
    if overlap.any():
        row, before = spans[overlap].iloc[0], previous[overlap].iloc[0]
        until = "open" if pd.isna(before["end"]) else f"{before['end']:%Y-%m-%d}"
        raise DataError(
            f"membership of {row['symbol']} from {row['start']:%Y-%m-%d} ({source} row "
            f"{row['row']}) overlaps its membership {before['start']:%Y-%m-%d}..{until} "
            f"(row {int(before['row'])})"
        )


def membership(
    universe: pd.DataFrame, dates: pd.DatetimeIndex, symbols: Iterable[str]
) -> pd.DataFrame:
    """True where a symbol is a member on a date (start and end inclusive): index `dates`,
    columns `symbols`. A symbol `universe` does not list is never a member."""
    dates = pd.DatetimeIndex(dates)
    columns = pd.Index(list(symbols), name="symbol")
    spans = universe[universe["symbol"].isin(columns)]
    # +1 where a span starts, -1 after it ends; a running sum above 0 is inside a span
    change = np.zeros((len(dates) + 1, len(columns)), dtype=np.int32)
    column = columns.get_indexer(spans["symbol"])
    first = dates.searchsorted(spans["start"].to_numpy(), side="left")
    ends = spans["end"].to_numpy()
    after = np.where(pd.isna(ends), len(dates), dates.searchsorted(ends, side="right"))
    np.add.at(change, (first, column), 1)
    np.add.at(change, (after, column), -1)
    inside = np.cumsum(change[:-1], axis=0) > 0
    return pd.DataFrame(inside, index=dates, columns=columns)


def left_universe(
    universe: pd.DataFrame, symbols: Iterable[str], session: pd.Timestamp
) -> dict[str, pd.Timestamp]:
    """The `symbols` that are no longer members on `session`, each with the end of its last
    membership: a name listed in `universe` whose spans all ended before `session` (or the next
    one starts after it). A name never listed, or not yet a member, has not left."""
    session = pd.Timestamp(session)
    left = {}
    for symbol in sorted(set(symbols)):
        spans = universe[universe["symbol"] == symbol]
        member = (spans["start"] <= session) & (spans["end"].isna() | (spans["end"] >= session))
        ended = spans["end"][spans["end"] < session]
        if not member.any() and len(ended):
            left[symbol] = ended.max()
    return left


def coverage_notes(universe: pd.DataFrame, priced: Iterable[str]) -> list[str]:
    """What the log should say about `universe` against the priced symbols: listed names without
    prices (fine: they are simply never scored) and priced names never listed (never members)."""
    priced = set(priced)
    listed = set(universe["symbol"])
    notes = []
    unpriced = sorted(listed - priced)
    if unpriced:
        notes.append(f"{len(unpriced)} name(s) of {FILE} have no prices: {_some(unpriced)}")
    unlisted = sorted(priced - listed)
    if unlisted:
        notes.append(
            f"{len(unlisted)} priced name(s) are not in {FILE}, so never members (never scored "
            f"or held): {_some(unlisted)}"
        )
    return notes


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown if len(names) <= SHOWN else f"{shown} and {len(names) - SHOWN} more"


def validate_members(data: MarketData) -> None:
    """Refuse a run date on which fewer than MIN_UNIVERSE members of the universe have a close
    (no universe: nothing to check; `validation.validate_universe` counts the priced names)."""
    if data.universe is None:
        return
    day = data.last_date
    member = membership(data.universe, data.dates[-1:], data.symbols).iloc[0]
    priced = data.close.iloc[-1].notna()
    names = data.close.columns[(member & priced).to_numpy()]
    if len(names) < MIN_UNIVERSE:
        raise DataError(
            f"only {len(names)} member(s) of the universe ({', '.join(names) or 'none'}) have a "
            f"close on {day:%Y-%m-%d}: cross-sectional scores need at least {MIN_UNIVERSE} "
            f"(see {FILE})"
        )
