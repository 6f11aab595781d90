"""A network vendor as a data provider: incremental fetches laid over the stored history.

Only the sessions after the store's last one are asked for, plus `overlap_sessions` before it
so a vendor's revision (a late split, a corrected close) is seen; a symbol new to the store is
fetched from `history_start`. The raw bars and corporate actions are merged into the stored ones
(trading_core.data.adjust) and the adjusted series derived from the whole. A symbol that failed
after its retries stops the update, naming it, with nothing written: the store stays as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

import pandas as pd

from trading_core.data.adjust import ACTION_COLUMNS, BAR_COLUMNS, RawHistory
from trading_core.data.calendar import last_closed_session, sessions
from trading_core.data.market import MarketData
from trading_core.data.vendors.base import Vendor
from trading_core.data.vendors.fetching import FetchResult, RetryPolicy, fetch_bars
from trading_core.errors import ConfigError, DataError

VENDORS = ("yfinance", "tiingo")
SHOWN_FAILURES = 5


@dataclass(frozen=True)
class Fetched:
    """A vendor's answers: the bars and events, the window each replaces in the stored history,
    the symbols it no longer knows, how many it answered and how many "slow down"s it gave."""

    raw: RawHistory
    windows: dict[str, pd.Timestamp]
    vanished: list[str]
    symbols: int
    rate_limited: int


@dataclass(frozen=True)
class VendorUpdate:
    """A fetch merged into the stored history: the raw history to keep, the adjusted data it
    gives, the symbols whose stored window the vendor revised and the ones it no longer knows."""

    raw: RawHistory
    data: MarketData
    revised: list[str]
    vanished: list[str]
    fetched: int
    rate_limited: int


@dataclass(frozen=True)
class VendorProvider:
    """A vendor's data for a universe. Only `name` identifies the source (DataSource): the
    symbols may grow from one update to the next without replacing the store."""

    name: str
    vendor: Vendor | None = field(default=None, compare=False)
    symbols: tuple[str, ...] = field(default=(), compare=False)
    universe: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    sectors: pd.Series | None = field(default=None, compare=False, repr=False)
    benchmark: str | None = field(default="SPY", compare=False)
    history_start: date = field(default=date(2015, 1, 2), compare=False)
    overlap_sessions: int = field(default=5, compare=False)
    batch_size: int = field(default=50, compare=False)
    pause_seconds: float = field(default=1.0, compare=False)
    retry: RetryPolicy = field(default=RetryPolicy(), compare=False)

    def wanted(self) -> list[str]:
        """The symbols to fetch: the configured ones, the universe's and the benchmark."""
        names = set(self.symbols)
        if self.universe is not None:
            names |= set(self.universe["symbol"].astype("str"))
        if self.benchmark:
            names.add(self.benchmark)
        return sorted(names)

    def starts(self, stored: RawHistory | None, end: pd.Timestamp) -> dict[str, pd.Timestamp]:
        """Each symbol's first session to ask for: `overlap_sessions` before its last stored one,
        or `history_start`. A symbol that left the universe before that is not asked for again."""
        last = stored.last_dates() if stored is not None else {}
        days = sessions()
        first = pd.Timestamp(self.history_start)
        starts = {}
        for symbol in self.wanted():
            if symbol in last:
                position = max(days.searchsorted(last[symbol]) - self.overlap_sessions, 0)
                start = max(days[position], first)
            else:
                start = first
            if start <= end and not self._left_before(symbol, start):
                starts[symbol] = start
        return starts

    def update(
        self,
        stored: RawHistory | None,
        end: pd.Timestamp | None = None,
        sleep: Callable[[float], None] = time.sleep,
        progress: Callable[[int, int], None] | None = None,
    ) -> VendorUpdate:
        """Fetch what is missing up to `end` (default: the last closed session) and merge it."""
        end = pd.Timestamp(end if end is not None else last_closed_session())
        fetched = self.fetch_new(self.starts(stored, end), end, sleep, progress)
        return self.merge(stored, fetched)

    def fetch_new(
        self,
        starts: dict[str, pd.Timestamp],
        end: pd.Timestamp,
        sleep: Callable[[float], None] = time.sleep,
        progress: Callable[[int, int], None] | None = None,
    ) -> Fetched:
        """Each symbol's sessions from its start to `end`; DataError naming the symbols that
        failed after their retries (then nothing may be written)."""
        if self.vendor is None:
            raise DataError(f"the {self.name} provider has no vendor client configured")
        if not set(self.wanted()) - {self.benchmark}:
            raise ConfigError(
                f"no symbols to fetch from {self.name}: set data.vendor.symbols or "
                "data.vendor.universe"
            )
        result = fetch_bars(
            self.vendor,
            {symbol: start.date() for symbol, start in starts.items()},
            pd.Timestamp(end).date(),
            self.retry,
            self.batch_size,
            self.pause_seconds,
            sleep,
            progress,
        )
        _refuse_failures(self.name, result, len(starts))
        windows = {  # an empty answer (a halt, a holiday) leaves the stored rows alone
            symbol: starts[symbol]
            for symbol, history in result.histories.items()
            if len(history.bars)
        }
        return Fetched(
            _as_raw(result),
            windows,
            sorted(result.vanished),
            len(result.histories),
            result.rate_limited,
        )

    def merge(self, stored: RawHistory | None, fetched: Fetched) -> VendorUpdate:
        """`fetched` laid over the stored raw history, and the adjusted data derived from it."""
        merged, revised = (stored or RawHistory.empty()).merge(fetched.raw, fetched.windows)
        data = merged.adjusted(self.benchmark, source=self.name)
        return VendorUpdate(
            raw=merged,
            data=replace(
                data,
                universe=self.universe,
                sectors=data.sectors if self.sectors is None else self.sectors,
            ),
            revised=revised,
            vanished=fetched.vanished,
            fetched=fetched.symbols,
            rate_limited=fetched.rate_limited,
        )

    def fetch(self) -> MarketData:
        """The whole history from `history_start` (no store): the DataProvider interface."""
        return self.update(None).data

    def revision(self) -> str:
        """A vendor cannot tell its content without a fetch: the date bounds the cache."""
        return ""

    def _left_before(self, symbol: str, start: pd.Timestamp) -> bool:
        if self.universe is None or symbol == self.benchmark:
            return False
        rows = self.universe[self.universe["symbol"] == symbol]
        return bool(len(rows)) and bool((rows["end"].notna() & (rows["end"] < start)).all())


def _refuse_failures(name: str, result: FetchResult, asked: int) -> None:
    if not result.failed:
        return
    shown = "; ".join(f"{s} ({why})" for s, why in list(result.failed.items())[:SHOWN_FAILURES])
    more = len(result.failed) - SHOWN_FAILURES
    raise DataError(
        f"{name} failed for {len(result.failed)} of {asked} symbols after retries: {shown}"
        f"{f'; {more} more' if more > 0 else ''}. Nothing was written; run the update again later"
    )


def _as_raw(result: FetchResult) -> RawHistory:
    """The fetched histories as one long RawHistory."""
    bars, actions = [], []
    for symbol, history in result.histories.items():
        frame = history.bars.rename_axis("date").reset_index().assign(symbol=symbol)
        bars.append(frame.reindex(columns=list(BAR_COLUMNS)))
        events = history.actions.rename_axis("date").reset_index().assign(symbol=symbol)
        actions.append(events.reindex(columns=list(ACTION_COLUMNS)))
    empty = RawHistory.empty()
    bars_frame = pd.concat([empty.bars, *bars], ignore_index=True) if bars else empty.bars
    actions_frame = (
        pd.concat([empty.actions, *actions], ignore_index=True) if actions else empty.actions
    )
    return RawHistory(
        bars_frame.astype({"date": "datetime64[ns]", "symbol": "str"}),
        actions_frame.astype({"date": "datetime64[ns]", "symbol": "str"}),
    )
