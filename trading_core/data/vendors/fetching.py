"""Ask a vendor for a universe: in batches, retrying what may pass, naming what failed.

A rate limit or a network error is retried with exponential backoff (the orchestration settings'
retries and first delay; a vendor's Retry-After wins when longer); a symbol the vendor does not
know is reported as vanished; a malformed answer stops the whole fetch (MalformedResponse is a
DataError), so nothing is written from a vendor that is not speaking its own format.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from trading_core.data.vendors.base import (
    RateLimited,
    SymbolHistory,
    SymbolNotFound,
    Vendor,
    VendorError,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """`retries` more attempts per symbol after the first, waiting `delay_seconds` doubled each
    time (capped at `max_delay_seconds`)."""

    retries: int = 2
    delay_seconds: float = 10.0
    max_delay_seconds: float = 300.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt` (1-based)."""
        backoff = min(self.delay_seconds * 2 ** (attempt - 1), self.max_delay_seconds)
        return max(backoff, min(retry_after or 0.0, self.max_delay_seconds))


@dataclass(frozen=True)
class FetchResult:
    """What a fetch got: histories by symbol, symbols that failed (symbol -> last reason) and
    symbols the vendor no longer knows."""

    histories: dict[str, SymbolHistory] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    vanished: list[str] = field(default_factory=list)
    rate_limited: int = 0  # how many answers were "slow down"


def fetch_bars(
    vendor: Vendor,
    starts: Mapping[str, date],
    end: date,
    policy: RetryPolicy = RetryPolicy(),
    batch_size: int = 50,
    pause_seconds: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[int, int], None] | None = None,
) -> FetchResult:
    """Each symbol's history from its start date (`starts`) to `end`, `batch_size` symbols at a
    time with `pause_seconds` between batches; `progress(done, total)` after each batch."""
    symbols = list(starts)
    result = FetchResult()
    limited = 0
    for first in range(0, len(symbols), batch_size):
        if first and pause_seconds:
            sleep(pause_seconds)
        for symbol in symbols[first : first + batch_size]:
            limited += _fetch_one(vendor, symbol, starts[symbol], end, policy, sleep, result)
        if progress is not None:
            progress(min(first + batch_size, len(symbols)), len(symbols))
    return FetchResult(result.histories, result.failed, result.vanished, limited)


def _fetch_one(
    vendor: Vendor,
    symbol: str,
    start: date,
    end: date,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    result: FetchResult,
) -> int:
    """Fetch one symbol into `result`; returns how many rate-limit answers it met."""
    limited = 0
    for attempt in range(policy.retries + 1):
        try:
            result.histories[symbol] = vendor.history(symbol, start, end)
            return limited
        except SymbolNotFound as exc:
            log.warning("%s: %s", symbol, exc)
            result.vanished.append(symbol)
            return limited
        except VendorError as exc:
            retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
            limited += isinstance(exc, RateLimited)
            if attempt == policy.retries:
                result.failed[symbol] = f"{type(exc).__name__}: {exc}"
                return limited
            wait = policy.delay(attempt + 1, retry_after)
            log.info("%s: %s; retry %d in %.1fs", symbol, exc, attempt + 1, wait)
            sleep(wait)
    return limited
