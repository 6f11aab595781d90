"""A run's trade list as the rows the ledger stores, checked row by row before anything is written.

Zero-share rows (skipped names, not orders) are left out; a row with a bad side or a missing,
negative or zero number is refused with its row number and symbol.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pandas as pd

from trading_core.errors import DataError
from trading_core.live.ledger.errors import LedgerError
from trading_core.live.ledger.schema import REQUIRED_TRADE_COLUMNS, WEIGHT_COLUMNS

COST_COLUMNS = ("commission_est", "slippage_est")


def trade_rows(trades: pd.DataFrame, run_date: date) -> list[dict[str, Any]]:
    """The trade list as rows to store (keys: the `trades` table's columns but `run_id`)."""
    missing = [c for c in REQUIRED_TRADE_COLUMNS if c not in trades.columns]
    if missing:
        raise DataError(f"the trade list for {run_date} lacks column(s) {', '.join(missing)}")
    rows = []
    for seq, trade in enumerate(trades.to_dict("records")):
        if trade["shares"] == 0:
            continue
        problem = trade_problem(trade)
        if problem:
            raise LedgerError(
                f"the trade list for {run_date}, row {seq + 1} ({trade['symbol']}): {problem}"
            )
        numbers = {c: float(trade[c]) for c in ("shares", "price", *COST_COLUMNS)}
        weights = {c: optional_float(trade.get(c)) for c in WEIGHT_COLUMNS}
        rows.append(
            {
                "seq": seq,
                "symbol": str(trade["symbol"]),
                "side": trade["side"],
                **numbers,
                "notional": numbers["shares"] * numbers["price"],
                **weights,
                "reason": str(trade["reason"]),
                "status": str(trade["status"]),
            }
        )
    return rows


def trade_problem(trade: dict[str, Any]) -> str:
    """What is wrong with one trade row, or '' if nothing."""
    if trade["side"] not in ("BUY", "SELL"):
        return f"side must be BUY or SELL, not {trade['side']!r}"
    for column in ("shares", "price", *COST_COLUMNS):
        value = optional_float(trade[column])
        positive = column in ("shares", "price")
        if value is None or value < 0 or (positive and value == 0):
            kind = "positive" if positive else "non-negative"
            return f"{column} must be a {kind} number, not {trade[column]!r}"
    return ""


def optional_float(value: Any) -> float | None:
    """`value` as a finite float, or None (missing, NaN, infinite or not a number)."""
    number = float(pd.to_numeric(value, errors="coerce"))
    return number if math.isfinite(number) else None
