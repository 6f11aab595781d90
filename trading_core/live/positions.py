"""Current positions: share counts per symbol plus cash, read from `current_positions.csv`.

The file has columns `symbol,quantity`: shares for each symbol and dollars for the row `CASH`.
With no file yet, the account is all cash at the configured initial capital.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from trading_core.data.validation import CASH, symbol_problem
from trading_core.errors import DataError
from trading_core.io import read_csv, to_csv


@dataclass(frozen=True)
class Positions:
    """Shares held per symbol (long only) and cash in dollars."""

    shares: pd.Series
    cash: float

    def value(self, prices: pd.Series) -> float:
        """Cash plus every holding at `prices`; DataError if a held symbol has no valid price."""
        held = self.shares[self.shares != 0]
        missing = [s for s in held.index if not (s in prices.index and prices[s] > 0)]
        if missing:
            when = f" on {prices.name:%Y-%m-%d}" if isinstance(prices.name, pd.Timestamp) else ""
            raise DataError(f"no valid price{when} for held symbol(s) {', '.join(missing)}")
        return float(self.cash + (held * prices[held.index]).sum())

    def weights(self, prices: pd.Series) -> pd.Series:
        """Each holding's fraction of total value."""
        total = self.value(prices)
        held = self.shares[self.shares != 0]
        return (held * prices[held.index] / total).rename("weight")


def all_cash(capital: float) -> Positions:
    return Positions(shares=pd.Series(dtype="float64", name="shares"), cash=float(capital))


def load_positions(path: Path, initial_capital: float) -> Positions:
    """Read positions; a missing file means all cash. Malformed content (a bad symbol, a
    quantity that is not a non-negative number, a symbol twice) is a DataError."""
    if not path.exists():
        return all_cash(initial_capital)
    try:
        table = read_csv(path, dtype={"symbol": "str"})
    except Exception as exc:
        raise DataError(f"cannot read positions file {path}: {exc}") from None
    if list(table.columns) != ["symbol", "quantity"]:
        raise DataError(f"positions file {path} must have columns symbol,quantity")
    for pos, symbol in enumerate(table["symbol"]):
        problem = None if symbol == CASH else symbol_problem(symbol)
        if problem:
            raise DataError(f"positions file {path} row {pos + 2}: {problem}")
    quantity = pd.to_numeric(table["quantity"], errors="coerce")
    for bad in np.flatnonzero(quantity.isna() | ~np.isfinite(quantity) | (quantity < 0)):
        raise DataError(
            f"positions file {path} row {bad + 2}: quantity {table['quantity'].iloc[bad]!r} for "
            f"{table['symbol'].iloc[bad]} must be a non-negative number"
        )
    if table["symbol"].duplicated().any():
        raise DataError(
            f"positions file {path} lists {table['symbol'][table['symbol'].duplicated()].iloc[0]} twice"
        )
    series = pd.Series(quantity.to_numpy("float64"), index=table["symbol"].astype("str"))
    cash = float(series.get(CASH, 0.0))
    shares = series.drop(CASH, errors="ignore").rename("shares").rename_axis("symbol")
    return Positions(shares=shares, cash=cash)


def positions_csv(positions: Positions) -> str:
    """The positions as `symbol,quantity` CSV text (CASH last)."""
    table = positions.shares.sort_index().rename("quantity").rename_axis("symbol").reset_index()
    table = pd.concat(
        [table, pd.DataFrame({"symbol": [CASH], "quantity": [positions.cash]})], ignore_index=True
    )
    return to_csv(table)
