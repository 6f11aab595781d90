"""Connections to the ledger file, and whole transactions over it (crash safety).

Every change to the file is one `BEGIN IMMEDIATE ... COMMIT` transaction (rollback journal,
synchronous=FULL); an exception anywhere rolls it back and leaves the file as it was. A connection
lives for one transaction only, so nothing holding a ledger keeps the file open.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from trading_core.live.ledger.errors import LedgerError


def connect(path: Path) -> sqlite3.Connection:
    """A connection with foreign keys on and full syncs; LedgerError if the file is no database."""
    db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
    db.row_factory = sqlite3.Row
    try:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA user_version").fetchone()  # reads the header: is it a database?
    except sqlite3.DatabaseError as exc:
        db.close()
        raise LedgerError(f"ledger {path} cannot be read: {exc}") from None
    return db


@contextmanager
def transaction(path: Path, write: bool = True) -> Iterator[sqlite3.Connection]:
    """One connection, one transaction: committed if the block ends normally, else rolled back.

    A write transaction takes the file's write lock at once (`BEGIN IMMEDIATE`), so what it reads
    cannot change under it before it commits.
    """
    db = connect(path)
    try:
        db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    finally:
        db.close()


def column_names(cursor: sqlite3.Cursor) -> list[str]:
    """The names of the columns a query returned, in order."""
    return [column[0] for column in cursor.description]


def insert_rows(db: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert dict rows (keys: column names) into `table`."""
    if rows:
        columns = list(rows[0])
        db.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(':' + c for c in columns)})",
            rows,
        )
