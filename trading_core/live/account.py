"""Opening a new paper account on purpose: the one way a home's account starts over.

The daily run opens an account by itself only in a home that never had one. When a ledger is lost
(deleted, emptied, damaged beyond reading), `open_new_account` keeps everything that was in
`live/` in a dated folder beside it and opens a new ledger: all cash at the initial capital, or
with the last exported positions as its opening balance.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from trading_core.home import Home
from trading_core.live.ledger import (
    LEDGER_FILE,
    Ledger,
    LedgerError,
    LedgerMissing,
    has_ledger,
    utc_now,
)
from trading_core.live.positions import load_positions


def open_new_account(
    home: Home,
    initial_capital: float,
    from_positions: bool = False,
    now: Callable[[], datetime] = utc_now,
) -> tuple[Ledger, Path | None]:
    """A new ledger in `home`, and where the previous `live/` folder was kept (None: there was none).

    Refused while the home's ledger opens and verifies: a working account is never replaced.
    With `from_positions`, the kept `current_positions.csv` becomes the opening balance.
    """
    if has_ledger(home):
        try:
            working = Ledger.at_home(home, initial_capital, now, create=False)
            working.verify()
        except LedgerError:
            pass  # damaged: it may be set aside
        else:
            raise LedgerError(
                f"the home {home.root} already has a working account ({working.path}); move "
                f"{home.live} away yourself to start over"
            )
    opening = None
    if from_positions:
        if not home.positions_file.exists():
            raise LedgerMissing(f"there is no {home.positions_file} to open the account from")
        opening = load_positions(home.positions_file, initial_capital)
    kept = None
    if home.live.exists():
        kept = home.root / f"live.before-{now():%Y%m%dT%H%M%SZ}"
        os.replace(home.live, kept)
    return Ledger(home.live / LEDGER_FILE, initial_capital, opening=opening, now=now), kept
