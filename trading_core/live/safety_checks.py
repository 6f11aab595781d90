"""SafetyValidator: the last gate before any trade list is published as ready.

Any failed check blocks every trade of the run; the verdict lists each check with its detail.

Portfolio (`validate_portfolio`): finite weights, long-only, no name above `max_weight`, no known
sector above `max_sector_weight`, gross exposure at most 100%, and total exposure within
`exposure_tolerance` (absolute) of the exposure the construction could reach: the regime's target,
or less when the caps cannot hold that much. The validator recomputes that reachable figure itself
from the caps (the weights must list every candidate name, zeros included, as
`PortfolioResult.weights` does) instead of trusting a figure handed in.

Trades (`validate_trades`), over the proposed trades only:
- one-way turnover (½ Σ|weight change|, as the backtest measures it) at most `max_turnover`,
  except on the funding run: the first run from an all-cash account (nothing held before it) buys
  the whole portfolio, so the check is reported as skipped there;
- no rebalance trade (a name held before and after) above `max_trade_pct` of portfolio value. New
  names are bounded by the position cap on their target weight and exits by the position they
  close, so the rule targets what is otherwise unbounded: a held position resized by a large step
  in one run. The funding run holds only new names, so it needs no exemption;
- estimated costs (commission + slippage) at most `max_cost_pct` of portfolio value;
- every traded or held symbol has a positive, fresh close on the run date (`validate_prices`).

Kill switch (`check_kill_switch`): see `trading_core.live.kill_switch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trading_core.data.validation import stale_symbols
from trading_core.live.kill_switch import TOLERANCE, KillSwitchState, kill_switch
from trading_core.live.trade_generator import PROPOSED, turnover
from trading_core.portfolio.caps import Caps


@dataclass(frozen=True)
class Check:
    """One named rule, whether it held, and a sentence saying why."""

    name: str
    passed: bool
    detail: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "passed", bool(self.passed))


@dataclass(frozen=True)
class SafetyVerdict:
    """All checks of one run; `passed` only when every check passed."""

    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def violations(self) -> list[str]:
        return [f"{c.name}: {c.detail}" for c in self.checks if not c.passed]

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "violations": self.violations,
            "checks": [
                {"name": c.name, "passed": c.passed, "detail": c.detail} for c in self.checks
            ],
        }


class SafetyValidator:
    """Validates target weights, trades, prices and the equity curve against the live limits."""

    def __init__(
        self,
        max_weight: float,
        max_stale_sessions: int = 5,
        max_sector_weight: float | None = None,
        exposure_tolerance: float = 0.01,
        max_turnover: float = 0.5,
        max_trade_pct: float = 0.10,
        max_cost_pct: float = 0.005,
        max_daily_loss_pct: float = 0.03,
        min_live_sharpe: float = 0.5,
        lookback_weeks: int = 6,
    ) -> None:
        self.max_weight = max_weight
        self.max_stale_sessions = max_stale_sessions
        self.max_sector_weight = max_sector_weight
        self.exposure_tolerance = exposure_tolerance
        self.max_turnover = max_turnover
        self.max_trade_pct = max_trade_pct
        self.max_cost_pct = max_cost_pct
        self.max_daily_loss_pct = max_daily_loss_pct
        self.min_live_sharpe = min_live_sharpe
        self.lookback_weeks = lookback_weeks

    def validate(
        self,
        weights: pd.Series,
        trades: pd.DataFrame,
        close: pd.DataFrame,
        held: Sequence[str],
        *,
        target_exposure: float,
        portfolio_value: float,
        sectors: pd.Series | None = None,
        equity_curve: pd.Series | None = None,
    ) -> SafetyVerdict:
        """The full verdict for one run; without an equity curve the kill switch is not judged."""
        symbols = sorted(set(weights[weights > 0].index) | set(trades["symbol"]) | set(held))
        return SafetyVerdict(
            self.validate_portfolio(weights, target_exposure, sectors)
            + self._trade_limits(trades, portfolio_value, held)
            + self.validate_prices(close, symbols)
            + [self._kill_switch_check(equity_curve)]
        )

    def validate_portfolio(
        self, weights: pd.Series, target_exposure: float, sectors: pd.Series | None = None
    ) -> list[Check]:
        """Finite, long-only, name and sector caps, gross <= 1, exposure at the reachable target."""
        undefined = weights[~np.isfinite(weights.to_numpy(dtype="float64"))]
        short = weights[weights < -TOLERANCE]
        over = weights[weights > self.max_weight + TOLERANCE]
        total = float(weights.sum(skipna=False))
        return [
            _check(
                "weights_defined", undefined.index, "every weight is a number", "undefined weights"
            ),
            _check("long_only", short.index, "no negative weights", "short weights"),
            Check(
                "position_cap",
                over.empty,
                f"every weight <= {self.max_weight:.2%}"
                if over.empty
                else "above cap: " + ", ".join(f"{s} {w:.2%}" for s, w in over.items()),
            ),
            self._sector_check(weights, sectors),
            Check(
                "gross_exposure",
                total <= 1 + TOLERANCE and np.isfinite(total),
                f"weights sum to {total:.4f} (must be <= 1)",
            ),
            self._exposure_check(weights, total, target_exposure, sectors),
        ]

    def validate_trades(
        self,
        trades: pd.DataFrame,
        portfolio_value: float,
        close: pd.DataFrame,
        held: Sequence[str] = (),
    ) -> list[Check]:
        """Turnover, rebalance size, costs and prices of the proposed trades.

        `held`: symbols held before the run; a run is the funding run when it is empty and no
        trade starts from a position (`current_weight` > 0).
        """
        symbols = sorted(set(trades["symbol"]) | set(held))
        return self._trade_limits(trades, portfolio_value, held) + self.validate_prices(
            close, symbols
        )

    def validate_prices(self, close: pd.DataFrame, symbols: list[str]) -> list[Check]:
        """Every symbol has a positive close on the last date, unchanged for fewer than N sessions."""
        last = close.iloc[-1].reindex(symbols)
        invalid = last[~(last > 0)].index.tolist()
        stale = [
            s
            for s in stale_symbols(
                close[close.columns.intersection(symbols)], self.max_stale_sessions
            )
            if s not in invalid
        ]
        day = f"{close.index[-1]:%Y-%m-%d}"
        return [
            Check(
                "prices_valid",
                not invalid,
                f"every symbol priced on {day}"
                if not invalid
                else f"no valid close on {day} for {', '.join(invalid)}",
            ),
            Check(
                "prices_fresh",
                not stale,
                f"no close unchanged for {self.max_stale_sessions} sessions"
                if not stale
                else f"close unchanged for {self.max_stale_sessions} sessions: {', '.join(stale)}",
            ),
        ]

    def check_kill_switch(self, equity_curve: pd.Series) -> KillSwitchState:
        """Trip on a daily loss or a weak rolling Sharpe over `lookback_weeks` x 5 sessions."""
        return kill_switch(
            equity_curve, self.max_daily_loss_pct, self.min_live_sharpe, self.lookback_weeks * 5
        )

    def _sector_check(self, weights: pd.Series, sectors: pd.Series | None) -> Check:
        """No known sector above `max_sector_weight` (names without a sector are not capped)."""
        if sectors is None or sectors.dropna().empty or self.max_sector_weight is None:
            return Check("sector_cap", True, "skipped: no sector map or no sector cap")
        known = sectors.reindex(weights.index)
        totals = weights.groupby(known.to_numpy(), dropna=True).sum()
        over = totals[totals > self.max_sector_weight + TOLERANCE]
        return Check(
            "sector_cap",
            over.empty,
            f"every sector <= {self.max_sector_weight:.2%}"
            if over.empty
            else "above sector cap: " + ", ".join(f"{s} {w:.2%}" for s, w in over.items()),
        )

    def _exposure_check(
        self, weights: pd.Series, total: float, target: float, sectors: pd.Series | None
    ) -> Check:
        """Total weight within `exposure_tolerance` of min(target, what the caps can hold)."""
        caps = Caps(self.max_weight, sectors, self.max_sector_weight)
        reachable = min(target, caps.capacity(weights.index.tolist()))
        gap = total - reachable
        return Check(
            "target_exposure",
            abs(gap) <= self.exposure_tolerance + TOLERANCE,
            f"weights sum to {total:.4f}, reachable target {reachable:.4f} "
            f"(regime target {target:.4f}), tolerance {self.exposure_tolerance:g}",
        )

    def _trade_limits(
        self, trades: pd.DataFrame, portfolio_value: float, held: Sequence[str]
    ) -> list[Check]:
        """Turnover (skipped on the funding run), rebalance size and estimated cost."""
        proposed = trades[trades["status"] == PROPOSED]
        return [
            self._turnover_check(trades, funding=_is_funding_run(trades, held)),
            self._trade_size_check(proposed, portfolio_value),
            self._cost_check(proposed, portfolio_value),
        ]

    def _turnover_check(self, trades: pd.DataFrame, funding: bool) -> Check:
        """One-way turnover at most `max_turnover`; reported as skipped on the funding run."""
        value = turnover(trades)
        if funding:
            return Check("turnover", True, f"skipped: funding run from all cash ({value:.2%})")
        return Check(
            "turnover",
            value <= self.max_turnover + TOLERANCE,
            f"one-way turnover {value:.2%} (½ Σ|weight change|; limit {self.max_turnover:.2%})",
        )

    def _trade_size_check(self, proposed: pd.DataFrame, portfolio_value: float) -> Check:
        """No rebalance trade (held before and after) above `max_trade_pct` of value."""
        kept = ~proposed["reason"].str.startswith("exit")  # a partial exit is still an exit
        rebalance = proposed[
            (proposed["current_weight"] > 0) & (proposed["target_weight"] > 0) & kept
        ]
        size = rebalance.set_index("symbol")["notional"] / portfolio_value
        over = size[size > self.max_trade_pct + TOLERANCE]
        return Check(
            "trade_size",
            over.empty,
            f"every rebalance trade <= {self.max_trade_pct:.2%} of value"
            if over.empty
            else "rebalance trades above "
            + f"{self.max_trade_pct:.2%}: "
            + ", ".join(f"{s} {w:.2%}" for s, w in over.items()),
        )

    def _cost_check(self, proposed: pd.DataFrame, portfolio_value: float) -> Check:
        """Estimated commission + slippage at most `max_cost_pct` of value."""
        cost = float((proposed["commission_est"] + proposed["slippage_est"]).sum())
        share = cost / portfolio_value
        return Check(
            "estimated_cost",
            share <= self.max_cost_pct + TOLERANCE,
            f"estimated cost {cost:,.2f} = {share:.3%} of value (limit {self.max_cost_pct:.2%})",
        )

    def _kill_switch_check(self, equity_curve: pd.Series | None) -> Check:
        """The kill switch as a check (passes, saying so, when no equity curve is given)."""
        if equity_curve is None:
            return Check("kill_switch", True, "skipped: no equity curve")
        state = self.check_kill_switch(equity_curve)
        return Check("kill_switch", not state.triggered, state.detail)


def _is_funding_run(trades: pd.DataFrame, held: Sequence[str]) -> bool:
    """True when nothing was held before the run: the first run from an all-cash account."""
    return len(held) == 0 and not (trades["current_weight"] > 0).any()


def _check(name: str, offenders: pd.Index, ok: str, failing: str) -> Check:
    """A check that passes when `offenders` is empty, else names them after `failing`."""
    return Check(
        name,
        offenders.empty,
        ok if offenders.empty else f"{failing}: {', '.join(map(str, offenders))}",
    )
