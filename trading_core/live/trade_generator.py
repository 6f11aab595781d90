"""TradeGenerator: the trades that move current positions to target weights, with costs.

`generate_trades` runs these steps in order; each rule of its own is a public method:

1. size every held or targeted name in shares (whole by default, fractional by setting): names
   leaving the target are sold (`exit`), names entering are `new`, the rest `rebalance`;
   `turnover_step`: when that move's one-way turnover (½ Σ|weight change|, the one definition in
   `trading_core.turnover`) would exceed `max_turnover`, in weights or in the whole shares it
   rounds to (and the account already holds something: funding from all cash goes all the way),
   every name moves the same fraction of its way instead, rounded toward
   what it holds, so the run trades within the budget and the rest waits for the next run
   (reasons then end in "(partial: max_turnover)");
2. `filter_small_trades`: a change under `min_trade_size` (fraction of value) is skipped (an exit
   never is: a name leaving the portfolio is always sold in full);
3. `validate_liquidity`: a trade above `max_volume_pct` of the symbol's average daily volume over
   the last `volume_window` sessions is skipped (it does not go ahead; with no volume data the
   check cannot run and trades are left as they are: see `liquidity_gaps`);
4. `limit_daily_trades`: at most `max_daily_trades` go ahead, largest |weight change| first;
5. buys are scaled down so they never spend more than cash plus sell proceeds minus all costs;
6. `estimate_costs`: commission and slippage from the one CostModel on each trade's notional.

Forced exits (a delisted name sold at its last close) skip steps 1-4: they are sold in full, and
their turnover comes out of the others' budget.

Every candidate is returned with a `status`: `proposed` (goes ahead) or `skipped: <why>`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from trading_core.costs import CostModel
from trading_core.errors import DataError
from trading_core.turnover import one_way_turnover

TRADE_COLUMNS = [
    "symbol",
    "side",
    "shares",
    "price",
    "notional",
    "current_weight",
    "target_weight",
    "weight_change",
    "commission_est",
    "slippage_est",
    "reason",
    "status",
]
PROPOSED = "proposed"
TURNOVER_MARGIN = 0.95  # share of the turnover budget used, leaving room for whole-share rounding
CASH_MARGIN = 1e-9  # fraction of available cash left unspent so float rounding never overdraws


class TradeGenerator:
    """Turns (positions, target weights, prices, value) into a trade list under the live limits."""

    def __init__(
        self,
        cost_model: CostModel,
        min_trade_size: float = 0.005,
        max_daily_trades: int = 50,
        fractional_shares: bool = False,
        max_volume_pct: float = 0.05,
        volume_window: int = 20,
        max_turnover: float | None = None,
    ) -> None:
        self.cost_model = cost_model
        self.min_trade_size = min_trade_size
        self.max_daily_trades = max_daily_trades
        self.fractional_shares = fractional_shares
        self.max_volume_pct = max_volume_pct
        self.volume_window = volume_window
        self.max_turnover = max_turnover

    def generate_trades(
        self,
        current_positions: pd.Series,
        target_weights: pd.Series,
        current_prices: pd.Series,
        portfolio_value: float,
        cash: float | None = None,
        volume: pd.DataFrame | None = None,
        forced_exits: Mapping[str, str] | None = None,
    ) -> pd.DataFrame:
        """All candidate trades (TRADE_COLUMNS), sells first, each `proposed` or `skipped: why`.

        `current_positions`: shares by symbol; `target_weights`: fractions of `portfolio_value`;
        `cash`: dollars, by default the value not held in positions at `current_prices`;
        `volume`: shares per session (wide, ending at the run date), None when the data has none;
        `forced_exits`: held names sold in full whatever their target, with the given reason (a
        delisted name at its last close), outside steps 1-4: their turnover is taken from the
        budget of the others, and no volume or trade-count limit holds them back.
        """
        held = current_positions[current_positions != 0]
        symbols = sorted(set(held.index) | set(target_weights[target_weights > 0].index))
        prices = _valid_prices(current_prices, symbols)
        if cash is None:
            cash = portfolio_value - float((held * prices[held.index]).sum())
        target = target_weights.reindex(symbols).fillna(0.0).clip(lower=0.0)
        shares = held.reindex(symbols, fill_value=0.0)
        forced = target.index.isin(list(forced_exits or {})) & (shares > 0).to_numpy()
        target = target.where(~forced, 0.0)
        exits = self._size(shares[forced], target[forced], prices[forced], portfolio_value)
        exits = exits.assign(reason=exits["symbol"].map(forced_exits or {}))
        shares, target, prices = shares[~forced], target[~forced], prices[~forced]
        trades = self._size(shares, target, prices, portfolio_value)
        step = self.turnover_step(
            shares * prices / portfolio_value, target, turnover(trades), turnover(exits)
        )
        if step < 1:
            trades = self._size(shares, target, prices, portfolio_value, step)
        trades = self.filter_small_trades(trades)
        trades = self.validate_liquidity(trades, volume)
        trades = self.limit_daily_trades(trades)
        trades = pd.concat([exits, trades]) if len(exits) else trades
        trades = _with_notional(self._fit_cash(trades, cash), portfolio_value)
        trades = self.estimate_costs(trades)
        order = trades.assign(_buy=trades["side"] == "BUY").sort_values(["_buy", "symbol"])
        return order[TRADE_COLUMNS].reset_index(drop=True)

    def turnover_step(
        self, current: pd.Series, target: pd.Series, rounded: float = 0.0, spent: float = 0.0
    ) -> float:
        """The fraction of the way to `target` whose one-way turnover fits `max_turnover` (1: all).

        `rounded`: the turnover of the whole move in the shares it rounds to, which can exceed the
        weights' (a sell rounds down to whole shares); `spent`: turnover already taken by forced
        exits. Funding from all cash is never limited; the budget keeps a 5% margin.
        """
        needed = one_way_turnover(target - current.reindex(target.index, fill_value=0.0))
        needed = max(needed, rounded)
        funding = not (current > 0).any() and not spent
        if (
            self.max_turnover is None
            or funding
            or needed + spent <= self.max_turnover
            or not needed
        ):
            return 1.0
        return TURNOVER_MARGIN * max(self.max_turnover - spent, 0.0) / needed

    def filter_small_trades(self, trades: pd.DataFrame) -> pd.DataFrame:
        """Skip proposed changes under `min_trade_size` of value; exits always go ahead in full."""
        trades = trades.copy()
        small = (
            (trades["status"] == PROPOSED)
            & (trades["weight_change"].abs() < self.min_trade_size)
            & ~trades["reason"].str.startswith("exit")  # a name leaving is always sold
        )
        trades.loc[small, "status"] = f"skipped: below min_trade_size {self.min_trade_size:g}"
        return trades

    def validate_liquidity(self, trades: pd.DataFrame, volume: pd.DataFrame | None) -> pd.DataFrame:
        """Skip proposed trades above `max_volume_pct` of average daily volume (shares).

        A symbol without volume over the window is not judged: its trade is left as it is, and
        `liquidity_gaps` names it so the caller can warn. With `volume` None nothing changes.
        """
        if volume is None:
            return trades
        trades = trades.copy()
        limit = self.max_volume_pct * self.average_volume(volume).reindex(trades["symbol"])
        limit = limit.to_numpy("float64")
        over = (trades["status"] == PROPOSED).to_numpy() & (trades["shares"].to_numpy() > limit)
        trades.loc[over, "status"] = [
            f"skipped: above max_volume_pct {self.max_volume_pct:g} of {self.volume_window}-day "
            f"volume ({cap:,.0f} shares)"
            for cap in limit[over]
        ]
        return trades

    def average_volume(self, volume: pd.DataFrame) -> pd.Series:
        """Mean shares traded per session over the last `volume_window` sessions (NaN: no data)."""
        return volume.tail(self.volume_window).mean()

    def liquidity_gaps(self, trades: pd.DataFrame, volume: pd.DataFrame | None) -> list[str]:
        """Symbols of proposed trades the liquidity check could not judge (all, without volume)."""
        symbols = trades.loc[trades["status"] == PROPOSED, "symbol"]
        if volume is None:
            return sorted(symbols)
        known = self.average_volume(volume).reindex(symbols).notna().to_numpy()
        return sorted(symbols[~known])

    def limit_daily_trades(self, trades: pd.DataFrame) -> pd.DataFrame:
        """Keep the `max_daily_trades` largest proposed |weight changes| (ties: by symbol)."""
        proposed = trades[trades["status"] == PROPOSED]
        if len(proposed) <= self.max_daily_trades:
            return trades
        ranked = proposed.assign(_size=proposed["weight_change"].abs()).sort_values(
            ["_size", "symbol"], ascending=[False, True]
        )
        trades = trades.copy()
        dropped = ranked.index[self.max_daily_trades :]
        trades.loc[dropped, "status"] = f"skipped: max_daily_trades {self.max_daily_trades}"
        return trades

    def estimate_costs(self, trades: pd.DataFrame) -> pd.DataFrame:
        """Commission and slippage in dollars on each trade's notional, from the shared CostModel."""
        notional = trades["notional"].to_numpy("float64")
        return trades.assign(
            commission_est=self.cost_model.commission(notional),
            slippage_est=self.cost_model.slippage(notional),
        )

    def calculate_turnover(self, trades: pd.DataFrame) -> float:
        """Turnover of the proposed trades (see `turnover`)."""
        return turnover(trades)

    def _size(
        self,
        held: pd.Series,
        target: pd.Series,
        prices: pd.Series,
        portfolio_value: float,
        step: float = 1.0,
    ) -> pd.DataFrame:
        """One row per symbol whose share count changes (`step` of the way there), all `proposed`.

        All the way, shares round down (a name never ends above its target); part of the way, they
        round toward the holding, so no name trades more than `step` of its way (the budget holds).
        """
        current = held.to_numpy("float64")
        full = target.to_numpy("float64")
        price = prices.to_numpy("float64")
        current_w = current * price / portfolio_value
        target_w = current_w + step * (full - current_w) if step < 1 else full
        exact = target_w * portfolio_value / price
        target_shares = np.where(target_w > 0, self._round(exact), 0.0)
        if step < 1:
            target_shares = np.where(exact < current, self._round_up(exact), target_shares)
        delta = target_shares - current
        reason = np.where(full == 0, "exit", np.where(current == 0, "new", "rebalance"))
        if step < 1:
            reason = np.char.add(reason.astype(str), " (partial: max_turnover)")
        trades = pd.DataFrame(
            {
                "symbol": list(target.index),
                "side": np.where(delta > 0, "BUY", "SELL"),
                "shares": np.abs(delta),
                "price": price,
                "current_weight": current_w,
                "target_weight": target_w,
                "reason": reason,
                "status": PROPOSED,
            }
        )
        keep = trades["shares"] > 0
        if step < 1:  # a name whose part of the way rounds to no whole share is held back: say so
            stuck = ~keep & (np.abs(full - current_w) > 1e-12)
            trades.loc[stuck, "status"] = "skipped: max_turnover leaves it less than one share"
            keep |= stuck
        return _with_notional(trades[keep], portfolio_value)

    def _round(self, shares: np.ndarray) -> np.ndarray:
        """Whole shares (rounded down) unless fractional shares are allowed."""
        return shares if self.fractional_shares else np.floor(shares + 1e-9)

    def _round_up(self, shares: np.ndarray) -> np.ndarray:
        """Whole shares (rounded up) unless fractional shares are allowed."""
        return shares if self.fractional_shares else np.ceil(shares - 1e-9)

    def _fit_cash(self, trades: pd.DataFrame, cash: float) -> pd.DataFrame:
        """Scale buys down so buys + all costs never exceed cash + sell proceeds."""
        live = trades["status"] == PROPOSED
        sells = live & (trades["side"] == "SELL")
        buys = live & (trades["side"] == "BUY")
        sell_notional = float(trades.loc[sells, "notional"].sum())
        available = cash + sell_notional - float(self.cost_model.total(sell_notional))
        budget = max(available, 0.0) * (1 - CASH_MARGIN)
        needed = float(trades.loc[buys, "notional"].sum()) * (1 + self.cost_model.rate)
        if needed <= budget:
            return trades
        trades = trades.copy()
        scaled = trades.loc[buys, "shares"].to_numpy() * (budget / needed)
        trades.loc[buys, "shares"] = self._round(scaled)
        trades.loc[buys & (trades["shares"] == 0), "status"] = "skipped: not enough cash"
        trades.loc[buys & (trades["shares"] > 0), "reason"] += " (reduced: cash)"
        return trades


def turnover(trades: pd.DataFrame) -> float:
    """One-way turnover of the proposed trades, ½ Σ|weight change| (as the backtester measures)."""
    return one_way_turnover(trades.loc[trades["status"] == PROPOSED, "weight_change"])


def _valid_prices(prices: pd.Series, symbols: Sequence[str]) -> pd.Series:
    """`prices` of `symbols`; DataError naming every symbol without a positive price."""
    chosen = prices.reindex(symbols)
    bad = chosen[~(chosen > 0)]
    if len(bad):
        raise DataError(f"no valid price for {', '.join(bad.index)}: cannot size trades")
    return chosen


def _with_notional(trades: pd.DataFrame, portfolio_value: float) -> pd.DataFrame:
    """Notional (dollars) and signed weight change from the shares and prices of each trade."""
    notional = trades["shares"] * trades["price"]
    sign = np.where(trades["side"] == "BUY", 1.0, -1.0)
    return trades.assign(notional=notional, weight_change=sign * notional / portfolio_value)
