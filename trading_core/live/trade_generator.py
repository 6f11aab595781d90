"""TradeGenerator: the trades that move current positions to target weights, with costs.

Shares are whole by default (fractional by setting). Names leaving the portfolio are sold in full;
changes smaller than `min_trade_size` (fraction of portfolio value) are skipped and reported; at
most `max_daily_trades` trades go ahead, largest weight change first; buys never spend more cash
than the account has after sells and costs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trading_core.costs import CostModel
from trading_core.errors import DataError

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


class TradeGenerator:
    """Turns (positions, target weights, prices, value) into a trade list under the live limits."""

    def __init__(
        self,
        cost_model: CostModel,
        min_trade_size: float = 0.005,
        max_daily_trades: int = 50,
        fractional_shares: bool = False,
    ) -> None:
        self.cost_model = cost_model
        self.min_trade_size = min_trade_size
        self.max_daily_trades = max_daily_trades
        self.fractional_shares = fractional_shares

    def _round(self, shares: np.ndarray) -> np.ndarray:
        return shares if self.fractional_shares else np.floor(shares + 1e-9)

    def generate_trades(
        self,
        current_positions: pd.Series,
        target_weights: pd.Series,
        current_prices: pd.Series,
        portfolio_value: float,
        cash: float,
    ) -> pd.DataFrame:
        """All candidate trades with a `status`: `proposed` for those to execute, else why not."""
        held = current_positions[current_positions != 0]
        symbols = sorted(set(held.index) | set(target_weights[target_weights > 0].index))
        prices = current_prices.reindex(symbols)
        bad = prices[~(prices > 0)]
        if len(bad):
            raise DataError(f"no valid price for {', '.join(bad.index)}: cannot size trades")
        current = held.reindex(symbols, fill_value=0.0).to_numpy("float64")
        target_w = target_weights.reindex(symbols, fill_value=0.0).to_numpy("float64")
        price = prices.to_numpy("float64")
        target_shares = self._round(target_w * portfolio_value / price)
        target_shares = np.where(target_w > 0, target_shares, 0.0)
        delta = target_shares - current
        reason = np.where(target_w == 0, "exit", np.where(current == 0, "new", "rebalance"))
        trades = pd.DataFrame(
            {
                "symbol": symbols,
                "side": np.where(delta > 0, "BUY", "SELL"),
                "shares": np.abs(delta),
                "price": price,
                "current_weight": current * price / portfolio_value,
                "target_weight": target_w,
                "weight_change": delta * price / portfolio_value,
                "reason": reason,
            }
        )
        trades = trades[trades["shares"] > 0].copy()
        trades["status"] = PROPOSED
        small = (trades["weight_change"].abs() < self.min_trade_size) & (trades["reason"] != "exit")
        trades.loc[small, "status"] = f"skipped: below min_trade_size {self.min_trade_size:g}"
        trades = self._limit_count(trades)
        trades = self._fit_cash(trades, cash)
        trades["notional"] = trades["shares"] * trades["price"]
        sign = np.where(trades["side"] == "BUY", 1.0, -1.0)
        trades["weight_change"] = sign * trades["notional"] / portfolio_value
        trades["commission_est"] = self.cost_model.commission(trades["notional"].to_numpy())
        trades["slippage_est"] = self.cost_model.slippage(trades["notional"].to_numpy())
        order = trades.assign(_buy=trades["side"] == "BUY").sort_values(["_buy", "symbol"])
        return order[TRADE_COLUMNS].reset_index(drop=True)

    def _limit_count(self, trades: pd.DataFrame) -> pd.DataFrame:
        proposed = trades[trades["status"] == PROPOSED]
        if len(proposed) <= self.max_daily_trades:
            return trades
        ranked = proposed.assign(_size=proposed["weight_change"].abs()).sort_values(
            ["_size", "symbol"], ascending=[False, True]
        )
        dropped = ranked.index[self.max_daily_trades :]
        trades.loc[dropped, "status"] = f"skipped: max_daily_trades {self.max_daily_trades}"
        return trades

    def _fit_cash(self, trades: pd.DataFrame, cash: float) -> pd.DataFrame:
        """Scale buys down (whole shares) so buys + all costs never exceed cash + sell proceeds."""
        live = trades["status"] == PROPOSED
        sells = live & (trades["side"] == "SELL")
        buys = live & (trades["side"] == "BUY")
        sell_notional = float((trades.loc[sells, "shares"] * trades.loc[sells, "price"]).sum())
        available = cash + sell_notional - float(self.cost_model.total(sell_notional))
        buy_notional = float((trades.loc[buys, "shares"] * trades.loc[buys, "price"]).sum())
        needed = buy_notional * (1 + self.cost_model.rate)
        if needed <= available or buy_notional == 0:
            return trades
        scale = max(available, 0.0) / needed
        trades.loc[buys, "shares"] = self._round(trades.loc[buys, "shares"].to_numpy() * scale)
        trades.loc[buys & (trades["shares"] == 0), "status"] = "skipped: not enough cash"
        trades.loc[buys & (trades["shares"] > 0), "reason"] += " (reduced: cash)"
        return trades


def turnover(trades: pd.DataFrame) -> float:
    """One-way turnover of the proposed trades: sum of |weight change| (fraction of value)."""
    return float(trades.loc[trades["status"] == PROPOSED, "weight_change"].abs().sum())
