"""The consistency replay: every way the stored state disagrees with the ledger's own history.

The positions table and the account cash are a materialized state; replaying the opening balance
plus the applied trades must give them, and each applied run's recorded cash. SQLite's integrity
and foreign-key checks run too, and a proposal left behind an applied date is named. Read only.
"""

from __future__ import annotations

import math
import sqlite3

from trading_core.live.ledger.errors import LedgerError
from trading_core.live.ledger.state import SHARE_TOLERANCE, current_state, history, opening_state


def problems(db: sqlite3.Connection) -> list[str]:
    """Every disagreement between the stored state and what the ledger's history implies."""
    found = [
        f"integrity check: {row[0]}"
        for row in db.execute("PRAGMA integrity_check").fetchall()
        if row[0] != "ok"
    ]
    found += [
        f"table {row[0]} row {row[1]} refers to a missing {row[2]} row"
        for row in db.execute("PRAGMA foreign_key_check").fetchall()
    ]
    stale = db.execute(
        "SELECT run_date FROM runs WHERE status = 'proposed' AND run_date < "
        "(SELECT MAX(run_date) FROM runs WHERE status = 'applied') ORDER BY run_date"
    ).fetchall()
    found += [f"the run for {row[0]} is still proposed behind an applied date" for row in stale]
    try:
        return found + replay_problems(db)
    except LedgerError as exc:
        return [*found, f"replaying the applied trades fails: {exc}"]


def replay_problems(db: sqlite3.Connection) -> list[str]:
    """Differences between the stored cash and positions and a replay of the applied trades."""
    found = []
    shares, cash = opening_state(db)
    for day, run_id, after_shares, after_cash in history(db):
        stored = db.execute("SELECT cash_after FROM runs WHERE run_id = ?", (run_id,))
        cash_after = stored.fetchone()[0]
        if not math.isclose(cash_after, after_cash, rel_tol=1e-12, abs_tol=1e-6):
            found.append(
                f"run {day} records cash {cash_after:,.2f} after applying, "
                f"its trades give {after_cash:,.2f}"
            )
        shares, cash = after_shares, after_cash
    table, table_cash = current_state(db)
    for symbol in sorted(set(table) | set(shares)):
        held, replayed = table.get(symbol, 0.0), shares.get(symbol, 0.0)
        if not math.isclose(held, replayed, rel_tol=1e-12, abs_tol=SHARE_TOLERANCE):
            found.append(
                f"positions hold {held:g} {symbol} but the applied trades give {replayed:g}"
            )
    if not math.isclose(table_cash, cash, rel_tol=1e-12, abs_tol=1e-6):
        found.append(f"cash is {table_cash:,.2f} but the applied trades give {cash:,.2f}")
    return found


def last_applied(db: sqlite3.Connection) -> str | None:
    """The date (ISO) of the last applied run, or None."""
    return db.execute("SELECT MAX(run_date) FROM runs WHERE status = 'applied'").fetchone()[0]
