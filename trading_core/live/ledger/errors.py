"""The ledger's refusals: one kind per thing a person must do about it (exit code 4 in the CLI)."""

from __future__ import annotations

from trading_core.errors import AlphapilotError


class LedgerError(AlphapilotError):
    """The ledger refuses a change (names the date and why) or cannot be opened."""


class ApprovalRefused(LedgerError):
    """A run cannot be applied: already applied, blocked, superseded, or the kill switch is on."""


class LedgerInconsistent(LedgerError):
    """The stored state disagrees with the ledger's own history (names every difference)."""


class LedgerMissing(LedgerError):
    """No ledger where one is needed, or a missing/empty one where the home shows an account."""


class StalePositions(LedgerError):
    """A run was computed from positions the ledger no longer holds (another run changed them)."""
