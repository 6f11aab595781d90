"""Corporate actions at the run date: unadjusted splits caught, delisted holdings closed.

- `check_splits`: a name's close moving in one session by a factor close to a common split ratio
  (`SPLIT_RATIOS`) is most likely an unadjusted split, not a market move; trading on it would book
  a fake loss (or gain) and resize the position at the wrong price, so the run is refused until
  the data is adjusted. Only the run date's move of the names that matter to the run (held or
  targeted) is judged; the history's implausible jumps are refused at import (`data.quality.find_jumps`).
- `delisted_closes` / `with_last_close`: a held name that stopped trading has no close on the run
  date; listed as delisted by the user, it is valued and sold at its last known close instead of
  blocking every later run.
- `forced_exits`: those names and the held names that left the point-in-time universe
  (`trading_core.data.universe.left_universe`), each sold in full with its reason; a name that left
  counts as listed, so a missing close after it left is not an error either.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date
from fractions import Fraction

import pandas as pd

from trading_core.errors import DataError

# Common split ratios as (new shares, old shares): a n:m split moves the close by m/n. Forward
# splits 3:2, 2:1, 3:1, 4:1, 5:1, 7:1, 8:1, 10:1, 20:1 and the same reverse splits (1:2 ... 1:20).
# 4:3 and 5:4 are left out: their moves (-25%, -20%) are ordinary bad days, not telling signs.
FORWARD_SPLITS = ((3, 2), (2, 1), (3, 1), (4, 1), (5, 1), (7, 1), (8, 1), (10, 1), (20, 1))
SPLIT_RATIOS = FORWARD_SPLITS + tuple((old, new) for new, old in FORWARD_SPLITS)


def check_splits(
    close: pd.DataFrame,
    symbols: Iterable[str],
    tolerance: float,
    recorded: Collection[tuple[str, date]] = (),
) -> None:
    """Refuse a close of `symbols` that moves on the last date like an unadjusted split.

    `close`: closes (index: session dates, columns: symbols) ending at the run date; the move is
    the last row over the one before it (a name without both closes is not judged). A move within
    `tolerance` (relative, 0.02 = 2%) of a ratio in `SPLIT_RATIOS` is a DataError naming the
    symbol, the date and the ratio, unless (symbol, date) is in `recorded` (a split the data
    knows of). `tolerance` 0 turns the check off.
    """
    if tolerance <= 0 or len(close) < 2:
        return
    day = close.index[-1]
    before, last = close.iloc[-2], close.iloc[-1]
    for symbol in sorted(set(symbols) & set(close.columns)):
        move = last[symbol] / before[symbol]
        if not move > 0 or (symbol, day.date()) in recorded:
            continue
        for new, old in SPLIT_RATIOS:
            if abs(move / (old / new) - 1) <= tolerance:
                raise DataError(
                    f"close of {symbol} moves x{move:.4f} on {day:%Y-%m-%d} (from "
                    f"{before[symbol]:g} to {last[symbol]:g}): looks like an unadjusted "
                    f"{_split_name(new, old)} with no split recorded; fix the data (adjust the "
                    f"history before {day:%Y-%m-%d}) or set live.split_guard_tolerance: 0 if the "
                    "move is real"
                )


def _split_name(new: int, old: int) -> str:
    """`2:1 split`, `3:2 split` or `1:10 reverse split`."""
    ratio = Fraction(new, old)
    kind = "split" if ratio > 1 else "reverse split"
    return f"{ratio.numerator}:{ratio.denominator} {kind}"


def delisted_closes(
    close: pd.DataFrame, held: Iterable[str], delisted: Collection[str]
) -> dict[str, pd.Timestamp]:
    """Held names without a close on the last date, each with the date of its last close.

    Every such name must be in `delisted` (the user says it stopped trading): any other is a
    DataError naming it and saying how to close it, so a missing row is never taken for a
    delisting by itself.
    """
    day = close.index[-1]
    missing = [s for s in sorted(set(held)) if not (s in close.columns and close[s].iloc[-1] > 0)]
    last = {s: close[s].last_valid_index() if s in close.columns else None for s in missing}
    unlisted = [s for s in missing if s not in delisted or last[s] is None]
    if unlisted:
        when = ", ".join(
            f"{s} {last[s]:%Y-%m-%d}" if last[s] is not None else f"{s} never" for s in unlisted
        )
        raise DataError(
            f"no valid price on {day:%Y-%m-%d} for held symbol(s) {', '.join(unlisted)}; if a "
            f"name stopped trading, list it in live.delisted_symbols to sell it at its last "
            f"close ({when})"
        )
    return {s: last[s] for s in missing}


def with_last_close(close: pd.DataFrame, names: Mapping[str, pd.Timestamp]) -> pd.DataFrame:
    """`close` with the last date's close of `names` set to their close on the mapped date."""
    filled = close.copy()
    for symbol, last in names.items():
        filled.loc[filled.index[-1], symbol] = close.at[last, symbol]
    return filled


def delisting_reason(last: pd.Timestamp) -> str:
    """The trade reason of a delisted name's forced sale."""
    return f"delisted: sold at last close {last:%Y-%m-%d}"


def leaving_reason(end: pd.Timestamp, last: pd.Timestamp | None = None) -> str:
    """The trade reason of the forced sale of a name whose membership ended on `end` (sold at its
    close of `last` when it has none on the run date)."""
    reason = f"left the universe on {end:%Y-%m-%d}"
    return reason if last is None else f"{reason}: sold at last close {last:%Y-%m-%d}"


def forced_exits(
    close: pd.DataFrame,
    held: Iterable[str],
    delisted: Collection[str],
    left: Mapping[str, pd.Timestamp],
) -> tuple[dict[str, pd.Timestamp], dict[str, str]]:
    """The held names sold in full on the last date, and the last close of those without one.

    Returns (symbol -> date of the last close to price it at, for names without a close on the
    last date; symbol -> trade reason, for every forced sale). A held name in `left` (symbol ->
    end of its last membership) is sold whether it still trades or not; any other held name
    without a close must be in `delisted` (`delisted_closes`).
    """
    held = set(held)
    closes = delisted_closes(close, held, {*delisted, *left})
    reasons = {symbol: delisting_reason(when) for symbol, when in closes.items()}
    for symbol in sorted(held & set(left)):
        reasons[symbol] = leaving_reason(left[symbol], closes.get(symbol))
    return closes, reasons
