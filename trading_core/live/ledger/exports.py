"""The ledger's CSV exports beside it: `current_positions.csv` and `performance_history.csv`.

They are derived from the ledger only, so the same ledger always exports the same bytes, and are
rewritten atomically after every commit that changes them: only the ledger's write paths write
them, reading never does. The ledger never reads them back, but an edited positions export is
refused, since it may mean someone believes the account holds something it does not. An export
one commit behind (a process killed between a commit and its export) is alphapilot's own: it is
not an edit, and the next change to the ledger rewrites it first.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from trading_core.io import atomic_write_text, to_csv
from trading_core.live.ledger.errors import LedgerInconsistent
from trading_core.live.ledger.schema import PERFORMANCE_FILE, POSITIONS_FILE
from trading_core.live.positions import Positions, positions_csv


def export_texts(folder: Path, positions: Positions, performance: pd.DataFrame) -> dict[Path, str]:
    """The text of each export file in `folder`, from the current positions and the performance."""
    dated = performance.assign(date=performance["date"].dt.strftime("%Y-%m-%d"))
    return {
        folder / POSITIONS_FILE: positions_csv(positions),
        folder / PERFORMANCE_FILE: to_csv(dated),
    }


def write_exports(texts: dict[Path, str], changed_only: bool = False) -> None:
    """Write each export atomically; with `changed_only`, only those missing or different."""
    for path, text in texts.items():
        if not (changed_only and path.exists() and path.read_text() == text):
            atomic_write_text(path, text)


def refuse_edited_positions(path: Path, allowed: list[str], ledger: Path) -> None:
    """LedgerInconsistent unless the positions export at `path` reads as one of `allowed` (the
    texts the ledger at `ledger` may have exported: its positions now, or before its last run)."""
    if path.read_text() not in allowed:
        raise LedgerInconsistent(
            f"{path} was edited outside alphapilot: it differs from the ledger {ledger.name}, "
            "the record of the account; delete the file to have it rewritten from the ledger"
        )
