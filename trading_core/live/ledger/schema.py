"""The ledger file's tables and their version, its file names, run statuses and stored columns.

The tables' constraints are the last line of defence against a bad row (a date has at most one
current, not superseded, run). `PRAGMA user_version` holds the schema version; another is refused.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from trading_core.live.ledger.errors import LedgerError
from trading_core.live.positions import Positions

SCHEMA_VERSION = 1
LEDGER_FILE = "ledger.sqlite"
POSITIONS_FILE = "current_positions.csv"
PERFORMANCE_FILE = "performance_history.csv"
APPLIED, BLOCKED, SUPERSEDED = "applied", "blocked", "superseded"

TABLES = (
    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    # NaN binds as NULL in SQLite, so NOT NULL on a REAL column also refuses NaN.
    """CREATE TABLE account (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        initial_capital REAL NOT NULL CHECK (initial_capital > 0),
        opening_cash REAL NOT NULL CHECK (opening_cash >= 0),
        cash REAL NOT NULL,
        created_at TEXT NOT NULL)""",
    """CREATE TABLE opening_positions (
        symbol TEXT PRIMARY KEY, shares REAL NOT NULL CHECK (shares > 0))""",
    """CREATE TABLE positions (
        symbol TEXT PRIMARY KEY, shares REAL NOT NULL CHECK (shares > 0))""",
    """CREATE TABLE runs (
        run_id INTEGER PRIMARY KEY,
        run_date TEXT NOT NULL CHECK (date(run_date) = run_date),
        status TEXT NOT NULL CHECK (status IN ('proposed', 'applied', 'blocked', 'superseded')),
        created_at TEXT NOT NULL,
        applied_at TEXT,
        model_id TEXT NOT NULL,
        data_fingerprint TEXT NOT NULL,
        block_reason TEXT NOT NULL,
        summary TEXT NOT NULL CHECK (json_valid(summary)),
        equity_before REAL NOT NULL,
        cash_before REAL NOT NULL,
        equity_after REAL,
        cash_after REAL,
        superseded_by INTEGER REFERENCES runs (run_id) DEFERRABLE INITIALLY DEFERRED,
        CHECK ((applied_at IS NOT NULL) = (status = 'applied')),
        CHECK ((equity_after IS NOT NULL AND cash_after IS NOT NULL) = (status = 'applied')),
        CHECK ((superseded_by IS NOT NULL) = (status = 'superseded')),
        CHECK (status != 'blocked' OR trim(block_reason) != ''))""",
    """CREATE UNIQUE INDEX one_current_run_per_date ON runs (run_date)
        WHERE status != 'superseded'""",
    """CREATE TABLE trades (
        run_id INTEGER NOT NULL REFERENCES runs (run_id),
        seq INTEGER NOT NULL CHECK (seq >= 0),
        symbol TEXT NOT NULL CHECK (symbol != ''),
        side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
        shares REAL NOT NULL CHECK (shares > 0),
        price REAL NOT NULL CHECK (price > 0),
        notional REAL NOT NULL CHECK (notional > 0),
        current_weight REAL,
        target_weight REAL,
        weight_change REAL,
        commission_est REAL NOT NULL CHECK (commission_est >= 0),
        slippage_est REAL NOT NULL CHECK (slippage_est >= 0),
        reason TEXT NOT NULL,
        status TEXT NOT NULL,
        PRIMARY KEY (run_id, seq))""",
    """CREATE TABLE marks (
        run_id INTEGER NOT NULL REFERENCES runs (run_id),
        symbol TEXT NOT NULL,
        close REAL NOT NULL CHECK (close > 0),
        PRIMARY KEY (run_id, symbol))""",
    """CREATE TABLE kill_switch_events (
        event_id INTEGER PRIMARY KEY,
        event TEXT NOT NULL CHECK (event IN ('engaged', 'resumed')),
        recorded_at TEXT NOT NULL,
        run_date TEXT CHECK (run_date IS NULL OR date(run_date) = run_date),
        actor TEXT NOT NULL,
        reason TEXT NOT NULL CHECK (trim(reason) != ''),
        details TEXT NOT NULL CHECK (json_valid(details)))""",
)
REQUIRED_TRADE_COLUMNS = [
    "symbol",
    "side",
    "shares",
    "price",
    "commission_est",
    "slippage_est",
    "reason",
    "status",
]
WEIGHT_COLUMNS = ["current_weight", "target_weight", "weight_change"]
STORED_TRADE_COLUMNS = [
    "symbol",
    "side",
    "shares",
    "price",
    "notional",
    *WEIGHT_COLUMNS,
    "commission_est",
    "slippage_est",
    "reason",
    "status",
]


def create_schema(
    db: sqlite3.Connection, path: Path, initial_capital: float, opening: Positions, stamp: str
) -> bool:
    """Create the tables and the opening balance in a new file; True if it was created.

    An existing file of this version is left as it is (False); any other version is refused.
    """
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return False
    if version != 0:
        raise LedgerError(
            f"ledger {path} has schema version {version}; this alphapilot knows "
            f"version {SCHEMA_VERSION} only"
        )
    if not (opening.cash >= 0 and (opening.shares >= 0).all()):
        raise LedgerError("the opening balance needs non-negative cash and shares")
    for statement in TABLES:
        db.execute(statement)
    held = [(str(s), float(q)) for s, q in opening.shares.sort_index().items() if q > 0]
    db.execute("INSERT INTO schema_version VALUES (?, ?)", (SCHEMA_VERSION, stamp))
    db.execute(
        "INSERT INTO account VALUES (1, ?, ?, ?, ?)",
        (float(initial_capital), opening.cash, opening.cash, stamp),
    )
    db.executemany("INSERT INTO opening_positions VALUES (?, ?)", held)
    db.executemany("INSERT INTO positions VALUES (?, ?)", held)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return True


def stored_json(payload: dict, what: str) -> str:
    """`payload` as the text of a JSON column (a run's summary, the kill switch's details)."""
    try:
        return json.dumps(payload, sort_keys=True, default=str, allow_nan=False)
    except ValueError as exc:
        raise LedgerError(f"{what} is not storable as JSON: {exc}") from None
