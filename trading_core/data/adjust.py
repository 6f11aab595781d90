"""Prices as traded plus corporate actions in; the adjusted series the features read out.

The store keeps what a vendor says (`RawHistory`: bars as traded and the split and dividend
events), and derives the adjusted prices from them here, in one place: a split or dividend
announced late, or a vendor's correction, changes the events, and the adjusted history is derived
again, visibly (the store reports it as revised), never patched in place.

Back-adjustment (the CRSP / Yahoo convention): a price on t is multiplied by the product over the
later events of 1/ratio for a split and (1 - dividend / close before the ex-date) for a cash
dividend; volume is multiplied by the split ratios only. The latest prices equal the traded ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trading_core.data.market import MarketData
from trading_core.errors import DataError

PRICE_FIELDS = ("open", "high", "low", "close")
BAR_COLUMNS = ("date", "symbol", *PRICE_FIELDS, "volume")
ACTION_COLUMNS = ("date", "symbol", "split", "dividend")


def empty_bars() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in BAR_COLUMNS}).astype(
        {"date": "datetime64[ns]", "symbol": "str"}
    )


def empty_actions() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in ACTION_COLUMNS}).astype(
        {"date": "datetime64[ns]", "symbol": "str"}
    )


@dataclass(frozen=True)
class RawHistory:
    """Bars as traded (long: BAR_COLUMNS) and corporate actions (long: ACTION_COLUMNS), sorted by
    symbol then date, one row per (date, symbol)."""

    bars: pd.DataFrame
    actions: pd.DataFrame

    @classmethod
    def empty(cls) -> RawHistory:
        return cls(empty_bars(), empty_actions())

    @property
    def symbols(self) -> list[str]:
        return sorted(set(self.bars["symbol"]))

    def last_dates(self) -> dict[str, pd.Timestamp]:
        """Each symbol's last stored session."""
        return {
            str(s): pd.Timestamp(d) for s, d in self.bars.groupby("symbol")["date"].max().items()
        }

    def merge(
        self, newer: RawHistory, starts: dict[str, pd.Timestamp]
    ) -> tuple[RawHistory, list[str]]:
        """This history with `newer` laid over it: for each symbol in `starts`, the stored bars and
        actions from its start date on are replaced by the newer ones. Returns the merged history
        and the symbols whose stored rows in that window the newer ones changed (a revision): a
        bar changed or withdrawn, or an event added, changed or withdrawn on a stored session.
        """
        replaced = _in_windows(self.bars, starts)
        replaced_actions = _in_windows(self.actions, starts)
        stored_last = pd.to_datetime(newer.actions["symbol"].map(self.last_dates()))
        restated = newer.actions[(newer.actions["date"] <= stored_last).to_numpy()]
        revised = sorted(
            set(_changed(self.bars[replaced], newer.bars, BAR_COLUMNS))
            | set(
                _changed(
                    self.actions[replaced_actions], restated, ACTION_COLUMNS, stored_only=False
                )
            )
        )
        bars = pd.concat([self.bars[~replaced], newer.bars], ignore_index=True)
        actions = pd.concat([self.actions[~replaced_actions], newer.actions], ignore_index=True)
        return RawHistory(_sorted(bars), _sorted(actions)), revised

    def adjusted(self, benchmark: str | None = None, source: str = "unknown") -> MarketData:
        """Adjusted MarketData of every symbol (the `benchmark` symbol becomes the benchmark)."""
        if self.bars.empty:
            raise DataError(f"no prices from {source}: the universe is empty")
        bars = self.bars
        factors, volume_factors = _factors(bars, self.actions)
        adjusted = bars.assign(
            **{f: bars[f] * factors for f in PRICE_FIELDS},
            volume=bars["volume"] * volume_factors,
        )
        data = MarketData.from_long(adjusted, source=source)
        if benchmark is None or benchmark not in data.symbols:
            return data
        frames = {
            name: frame.drop(columns=benchmark).dropna(axis=0, how="all")
            for name, frame in data.frames().items()
        }
        level = data.close[benchmark].dropna().rename("benchmark")
        return MarketData(**frames, benchmark=level, source=source)


def _factors(bars: pd.DataFrame, actions: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The back-adjustment factor of every bar's prices and of its volume (bars sorted by symbol
    then date)."""
    price = np.ones(len(bars))
    volume = np.ones(len(bars))
    if actions.empty:
        return price, volume
    by_symbol = {s: frame for s, frame in actions.groupby("symbol")}
    starts = np.flatnonzero(
        np.r_[True, bars["symbol"].to_numpy()[1:] != bars["symbol"].to_numpy()[:-1]]
    )
    ends = np.r_[starts[1:], len(bars)]
    dates = bars["date"].to_numpy()
    close = bars["close"].to_numpy()
    symbols = bars["symbol"].to_numpy()
    for first, stop in zip(starts, ends, strict=True):
        events = by_symbol.get(symbols[first])
        if events is None:
            continue
        day = dates[first:stop]
        for event in events.itertuples(index=False):
            before = day < np.datetime64(event.date)
            if not before.any():
                continue
            step = 1.0 / event.split
            if event.dividend:
                previous = close[first:stop][before][-1] / event.split
                if not 0 < event.dividend < previous:
                    raise DataError(
                        f"dividend {event.dividend:g} of {symbols[first]} on "
                        f"{pd.Timestamp(event.date):%Y-%m-%d} is not below the close before it "
                        f"({previous:g}): a bad event"
                    )
                step *= 1.0 - event.dividend / previous
            price[first:stop][before] *= step
            volume[first:stop][before] *= event.split
    return price, volume


def _in_windows(frame: pd.DataFrame, starts: dict[str, pd.Timestamp]) -> np.ndarray:
    """Rows of symbols in `starts` dated on or after their start."""
    start = frame["symbol"].map(starts)
    return (start.notna() & (frame["date"] >= start)).to_numpy()


def _changed(
    stored: pd.DataFrame, newer: pd.DataFrame, columns: tuple[str, ...], stored_only: bool = True
) -> list[str]:
    """Symbols whose rows differ between `stored` and `newer` on the dates `stored` holds (all
    dates of either when not `stored_only`: an event added or withdrawn is a change)."""
    keys = ["date", "symbol"]
    how = "left" if stored_only else "outer"
    joined = stored.merge(newer, on=keys, how=how, suffixes=("", "_new"), indicator=True)
    differs = joined["_merge"] != "both"
    for column in columns[2:]:
        old, new = joined[column].to_numpy("float64"), joined[f"{column}_new"].to_numpy("float64")
        same = np.isclose(old, new, rtol=1e-9, atol=0) | (np.isnan(old) & np.isnan(new))
        differs |= ~same & (joined["_merge"] == "both")
    return sorted(set(joined.loc[differs, "symbol"].astype("str")))


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["symbol", "date"], kind="stable").reset_index(drop=True)
