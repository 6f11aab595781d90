"""What a vendor returns for one symbol, and how it says a request failed.

Prices are kept as the vendor reports them traded (`raw`: not adjusted for later splits or
dividends), with the corporate actions beside them, so the adjusted series the features read are
derived in one place (trading_core.data.adjust) and a late correction shows as a revision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import pandas as pd

from trading_core.errors import DataError

BAR_FIELDS = ("open", "high", "low", "close", "volume")
ACTION_FIELDS = ("split", "dividend")


def share_class_ticker(symbol: str) -> str:
    """The symbol as Yahoo and Tiingo write share classes: `BRK.B` and `BF/B` become `BRK-B`,
    `BF-B` (the stored symbol stays as the user wrote it)."""
    return symbol.replace(".", "-").replace("/", "-")


class VendorError(Exception):
    """A request for one symbol failed for a reason that may pass (network, server error)."""


class RateLimited(VendorError):
    """The vendor said to slow down (HTTP 429 or its own equivalent); `retry_after` in seconds
    when the vendor gave one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SymbolNotFound(VendorError):
    """The vendor does not know the symbol (any more): delisted, renamed or mistyped."""


class MalformedResponse(DataError):
    """The vendor answered with something that is not its documented format: nothing is written."""


@dataclass(frozen=True)
class SymbolHistory:
    """One symbol's sessions from a vendor.

    `bars`: index = session dates (tz-naive, normalized), columns BAR_FIELDS (volume may be NaN),
    prices as traded that day. `actions`: index = ex-dates, columns ACTION_FIELDS: `split` is new
    shares per old share (4.0 for a 4-for-1 split; 1.0 = none), `dividend` cash per share (0.0 =
    none); only dates with an action.
    """

    symbol: str
    bars: pd.DataFrame
    actions: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=list(ACTION_FIELDS), index=pd.DatetimeIndex([], name="date"), dtype="float64"
        )
    )


class Vendor(Protocol):
    """A market-data vendor: `history` for one symbol, raising the errors above."""

    @property
    def name(self) -> str:
        """The vendor's key in `data.provider` ("tiingo", "yahoo")."""
        ...

    def history(self, symbol: str, start: date, end: date) -> SymbolHistory:
        """Sessions of `symbol` from `start` to `end` inclusive (empty bars when none traded)."""
        ...
