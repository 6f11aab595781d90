"""The ledger: the one transactional record of the paper account (SQLite, `<home>/live/ledger.sqlite`).

It holds the opening balance, positions, cash, every run's trade list and status, the daily
equity and the kill switch. `current_positions.csv` and `performance_history.csv` beside it are
exports: rewritten atomically after every commit that changes them, derived from the ledger only,
so `export()` always writes the same bytes for the same ledger. Reading never writes.

Modules, one job each:
- `ledger`: the `Ledger` class (opening a home's ledger, reading it, the changes as transactions);
- `lifecycle`: runs and dates (record, apply, supersede) and the rules that refuse them;
- `kill_switch_store`: the kill switch's engagements and releases;
- `exports`: the two CSV exports, and the refusal of an edited positions export;
- `consistency`: the replay that checks the stored state against the ledger's history;
- `state`: holdings and cash (stored, opening, replayed); `trade_rows`: a trade list as rows;
- `schema`: tables, version, file names, statuses; `store`: connections and transactions;
- `errors`: LedgerError and its kinds.
"""

from trading_core.live.ledger.errors import (
    ApprovalRefused,
    LedgerError,
    LedgerInconsistent,
    LedgerMissing,
    StalePositions,
)
from trading_core.live.ledger.kill_switch_store import KillSwitchEvent
from trading_core.live.ledger.ledger import Ledger, account_traces, has_ledger, utc_now
from trading_core.live.ledger.lifecycle import RunRecord
from trading_core.live.ledger.schema import (
    APPLIED,
    BLOCKED,
    LEDGER_FILE,
    PERFORMANCE_FILE,
    POSITIONS_FILE,
    SCHEMA_VERSION,
    SUPERSEDED,
)
from trading_core.live.ledger.state import CASH_TOLERANCE, SHARE_TOLERANCE

__all__ = [
    "APPLIED",
    "BLOCKED",
    "CASH_TOLERANCE",
    "LEDGER_FILE",
    "PERFORMANCE_FILE",
    "POSITIONS_FILE",
    "SCHEMA_VERSION",
    "SHARE_TOLERANCE",
    "SUPERSEDED",
    "ApprovalRefused",
    "KillSwitchEvent",
    "Ledger",
    "LedgerError",
    "LedgerInconsistent",
    "LedgerMissing",
    "RunRecord",
    "StalePositions",
    "account_traces",
    "has_ledger",
    "utc_now",
]
