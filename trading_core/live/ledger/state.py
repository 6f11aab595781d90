"""The account's holdings and cash: as stored, at the opening, and replayed from applied trades.

The positions table and the account cash are a materialized state: the opening balance plus every
applied run's proposed trades, filled at their recorded prices with commission_est and
slippage_est out of cash. Long only; an overdraft of a cent or less is rounding, not an overdraft.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from datetime import date

import pandas as pd

from trading_core.errors import DataError
from trading_core.live.ledger.errors import LedgerError
from trading_core.live.positions import Positions
from trading_core.live.trade_generator import PROPOSED

SHARE_TOLERANCE = 1e-9  # shares: a residual this small after a sale is no holding
CASH_TOLERANCE = 0.01  # dollars: a cent of rounding in cost estimates is no overdraft

Holdings = dict[str, float]  # shares by symbol


def current_state(db: sqlite3.Connection) -> tuple[Holdings, float]:
    """The stored holdings and cash (after every applied run)."""
    shares = dict(db.execute("SELECT symbol, shares FROM positions ORDER BY symbol").fetchall())
    return shares, db.execute("SELECT cash FROM account").fetchone()[0]


def opening_state(db: sqlite3.Connection) -> tuple[Holdings, float]:
    """The holdings and cash the account was opened with."""
    rows = db.execute("SELECT symbol, shares FROM opening_positions ORDER BY symbol").fetchall()
    return dict(rows), db.execute("SELECT opening_cash FROM account").fetchone()[0]


def run_orders(db: sqlite3.Connection, run_id: int) -> list[sqlite3.Row]:
    """The run's trades to execute (status `proposed`), in recorded order."""
    return db.execute(
        "SELECT symbol, side, shares, price, commission_est, slippage_est FROM trades "
        "WHERE run_id = ? AND status = ? ORDER BY seq",
        (run_id, PROPOSED),
    ).fetchall()


def execute(shares: Holdings, cash: float, orders: list, run_date: date) -> tuple[Holdings, float]:
    """Holdings and cash after `orders` fill at their prices, costs out of cash; no shorts, no overdraft."""
    held = dict(shares)
    for order in orders:
        sign = 1.0 if order["side"] == "BUY" else -1.0
        held[order["symbol"]] = held.get(order["symbol"], 0.0) + sign * order["shares"]
        cash -= sign * order["shares"] * order["price"] + order["commission_est"]
        cash -= order["slippage_est"]
    short = sorted(s for s, q in held.items() if q < -SHARE_TOLERANCE)
    if short:
        raise LedgerError(
            f"the trades for {run_date} sell more {', '.join(short)} than is held "
            f"(would leave {', '.join(f'{held[s]:g}' for s in short)} shares)"
        )
    if cash < -CASH_TOLERANCE:
        raise LedgerError(f"the trades for {run_date} overdraw cash (would leave {cash:,.2f})")
    return {s: q for s, q in sorted(held.items()) if q > SHARE_TOLERANCE}, cash


def history(db: sqlite3.Connection) -> Iterator[tuple[date, int, Holdings, float]]:
    """(date, run id, shares, cash) after each applied run, replayed from the opening balance."""
    shares, cash = opening_state(db)
    runs = db.execute(
        "SELECT run_id, run_date FROM runs WHERE status = 'applied' ORDER BY run_date"
    ).fetchall()
    for run_id, run_date in runs:
        day = date.fromisoformat(run_date)
        shares, cash = execute(shares, cash, run_orders(db, run_id), day)
        yield day, run_id, shares, cash


def state_before(db: sqlite3.Connection, before: date | None) -> tuple[Holdings, float]:
    """Holdings and cash after every applied run dated before `before` (None: all of them)."""
    if before is None:
        return current_state(db)
    shares, cash = opening_state(db)
    for run_date, _, run_shares, run_cash in history(db):
        if run_date >= before:
            break
        shares, cash = run_shares, run_cash
    return shares, cash


def account_value(shares: Holdings, cash: float, marks: dict[str, float]) -> float:
    """Cash plus every holding at `marks` (closes by symbol)."""
    return cash + math.fsum(q * marks[s] for s, q in sorted(shares.items()))


def marks_for(prices: pd.Series, symbols: list[str], run_date: date) -> dict[str, float]:
    """The closes used to value the account on D; every held or traded symbol needs one."""
    closes = {s: float(prices[s]) if s in prices.index else math.nan for s in symbols}
    missing = [s for s, p in closes.items() if not (math.isfinite(p) and p > 0)]
    if missing:
        raise DataError(f"no valid close on {run_date} for {', '.join(missing)}: cannot value")
    return closes


def as_positions(shares: Holdings, cash: float) -> Positions:
    """Holdings and cash as the Positions the daily run computes from."""
    series = pd.Series(shares, dtype="float64", name="shares").sort_index()
    return Positions(shares=series.rename_axis("symbol"), cash=cash)
