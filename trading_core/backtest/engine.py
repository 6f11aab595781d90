"""VectorizedBacktester: daily equity of a portfolio rebalanced to target weights, net of costs.

Execution convention (`execution`, setting `backtest.execution`; see `trading_core.features.labels`,
whose labels start at the same fill). Targets are decided at the close of rebalance date t:

- `next_open` (default): they fill at the open of t+1, the first price the daily run (which works
  after the close) can get. A name without a positive open that session fills at its close; data
  without any opens falls back to `next_close` (`BacktestResult.execution` says which was used).
- `next_close`: they fill at the close of t+1.
- `same_close`: they fill at the close of t that produced them. No live run can trade there: it is
  kept only to measure what the delay costs.

A target decided on the last session has no next session: it is not traded. At the fill, the
portfolio is worth V at the fill prices (holdings plus cash). Each name trades towards target x V:

- Costs are the shared `CostModel` applied to each name's traded notional (commission +
  slippage, in bps), what the live `TradeGenerator` estimates for the same trades with fractional
  shares; they come out of cash, as in live trading, so a fully invested portfolio holds a small
  negative cash balance (a debit of the costs) that accrues the cash rate like any cash. Turnover is
  one-way, ½ sum |traded notional| / V (`trading_core.turnover`), so a rebalance costs
  2 x turnover x V x the cost rate.
- Participation (`max_volume_pct`, setting `live.max_volume_pct`): a name's trade is capped at that
  share of its average daily volume over the `volume_window` sessions to t (shares, known at the
  decision); the rest is left unfilled that session, as the live run skips it. A name without
  volume is not capped (the live check cannot judge it either). `BacktestResult.unfilled` is
  the notional left unfilled per rebalance and the metric `capped_share` its share of the
  notional the targets asked for.
- Between fills the share counts stay fixed: weights drift with close-to-close returns and cash
  compounds at `cash_rate` (annual) per session. No price after a fill is used to trade at it.
- Equity is at session closes from the first fill, after that session's trades and costs; the
  first daily return is that equity over `initial_capital`, so returns compound to the final equity.

Missing prices:

- same_close: a symbol can be targeted (non-zero weight) on t only if its close on t is a positive
  number; otherwise `run` raises a DataError naming the symbol and date.
- A held name whose close goes missing later keeps its last close (its value is frozen, never
  dropped to zero or silently removed) until its close returns or a later fill sells it at that
  last close (a gap in the data is not a trading halt). `BacktestResult.stale_sessions` counts, per symbol, the held sessions valued at a carried close.

Target weights: index = rebalance (decision) dates, sessions of `close`; columns = symbols of
`close`; values = fractions of equity; NaN means 0 (not held) and a row may sum to less than 1 (the
rest is cash). Turnover, costs, unfilled notional and positions are indexed by fill date. The
benchmark buys every symbol priced at the first fill (and a member then, with a point-in-time
universe) in equal weight there, with the same capital and cost model and no participation cap,
and holds it to the end.

The simulation is a loop over rebalance periods, vectorized across symbols and across the days
of each period (a period's equity is one product of its closes and the share counts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trading_core.backtest import metrics
from trading_core.backtest.inputs import (
    align_targets,
    carried_closes,
    check_close,
    check_targetable,
    refuse_nonpositive,
)
from trading_core.costs import CostModel
from trading_core.errors import ConfigError, DataError
from trading_core.features.labels import effective_execution, execution_delay, execution_prices
from trading_core.turnover import one_way_turnover


@dataclass(frozen=True)
class BacktestResult:
    """Daily paths, per-rebalance trading figures and summary metrics of one backtest."""

    equity: pd.Series  # daily, post-trade, from the first rebalance date to the end of close
    returns: pd.Series  # daily net returns; the first is equity on day one / initial capital - 1
    turnover: pd.Series  # per fill date, one-way: ½ sum |traded notional| / equity
    costs: pd.Series  # per fill date, currency
    unfilled: pd.Series  # per fill date, notional the targets asked for but not traded, currency
    positions: pd.DataFrame  # per fill date, shares held after trading
    stale_sessions: pd.Series  # per symbol, held sessions valued at a carried (missing) close
    benchmark_equity: pd.Series  # equal-weight buy-and-hold of the universe, same start/capital
    benchmark_returns: pd.Series
    metrics: dict[str, float]
    benchmark_metrics: dict[str, float]
    regime_performance: pd.DataFrame | None  # per regime code: avg_return, sharpe, win_rate, days
    execution: str  # the convention used (next_open falls back to next_close without opens)


@dataclass(frozen=True)
class _Path:
    """Raw arrays of one simulation (rows are positions in `close`)."""

    equity: np.ndarray
    turnover: np.ndarray
    costs: np.ndarray
    unfilled: np.ndarray
    wanted: np.ndarray  # per rebalance, notional the targets asked for
    shares: np.ndarray
    stale: np.ndarray


@dataclass(frozen=True)
class _Fills:
    """Where and at what the rebalances fill (rows are fill sessions of `close`)."""

    rows: np.ndarray
    weights: np.ndarray
    prices: np.ndarray  # per rebalance x symbol: fill price (the last close where none is quoted)
    caps: np.ndarray | None  # per rebalance x symbol: most shares tradable (inf: not capped)


class VectorizedBacktester:
    """Backtests target weights on rebalance dates against daily closes (see module docstring)."""

    def __init__(
        self,
        costs: CostModel,
        cash_rate: float = 0.0,
        initial_capital: float = 1.0,
        periods_per_year: int = 252,
        execution: str = "next_open",
        max_volume_pct: float | None = None,
        volume_window: int = 20,
    ) -> None:
        execution_delay(execution)  # ValueError naming the choices
        if max_volume_pct is not None and not 0 < max_volume_pct <= 1:
            raise ConfigError(f"max_volume_pct must be in (0, 1], got {max_volume_pct}")
        if not initial_capital > 0:
            raise ConfigError(f"initial_capital must be positive, got {initial_capital}")
        if periods_per_year <= 0:
            raise ConfigError(f"periods_per_year must be positive, got {periods_per_year}")
        self.costs = costs
        self.cash_rate = cash_rate
        self.initial_capital = initial_capital
        self.periods_per_year = periods_per_year
        self.execution = execution
        self.max_volume_pct = max_volume_pct
        self.volume_window = volume_window

    def with_execution(self, execution: str) -> VectorizedBacktester:
        """The same backtester filling by another execution convention (for comparisons)."""
        return VectorizedBacktester(
            self.costs,
            self.cash_rate,
            self.initial_capital,
            self.periods_per_year,
            execution,
            self.max_volume_pct,
            self.volume_window,
        )

    def run(
        self,
        target_weights: pd.DataFrame,
        close: pd.DataFrame,
        regimes: pd.Series | None = None,
        open_: pd.DataFrame | None = None,
        volume: pd.DataFrame | None = None,
        members: pd.DataFrame | None = None,
    ) -> BacktestResult:
        """Simulate `target_weights` on the prices; regime codes add a breakdown.

        `open_` is needed for next_open fills and `volume` for the participation cap (both wide,
        like `close`; either may be None). `members` (booleans like `close`: a point-in-time
        universe) limits the benchmark to the names that are members at its first fill.
        """
        check_close(close)
        raw = np.ascontiguousarray(close.to_numpy("float64"))  # rows contiguous: one per session
        valid = raw > 0
        rows, weights = align_targets(target_weights, close)
        execution = effective_execution(self.execution, open_)
        if execution == "same_close":
            check_targetable(weights, rows, valid, raw, close)
        prices, missing = raw, None
        if not valid.all():
            refuse_nonpositive(raw, close)
            prices, missing = carried_closes(close), ~valid
        fills = self._fills(execution, rows, weights, close, prices, open_, volume)
        path = self._simulate(prices, fills, missing)
        first = fills.rows[:1]
        listed = valid[fills.rows[0]]
        if members is not None:
            aligned = members.reindex(index=close.index, columns=close.columns, fill_value=False)
            listed = listed & aligned.to_numpy(bool)[fills.rows[0]]
        bench_fills = _Fills(first, _equal_weights(listed), fills.prices[:1], None)
        bench = self._simulate(prices, bench_fills, None)
        return self._result(close, fills.rows, path, bench, regimes, execution)

    def _fills(
        self,
        execution: str,
        rows: np.ndarray,
        weights: np.ndarray,
        close: pd.DataFrame,
        marks: np.ndarray,
        open_: pd.DataFrame | None,
        volume: pd.DataFrame | None,
    ) -> _Fills:
        """The fill session, prices and participation caps of every tradable rebalance."""
        delay = execution_delay(execution)
        fill_rows = rows + delay
        keep = fill_rows < len(close)
        if not keep.any():
            raise DataError(
                f"no rebalance can fill: the only target is on the last session ({execution})"
            )
        rows, weights, fill_rows = rows[keep], weights[keep], fill_rows[keep]
        quoted = execution_prices(close, open_, execution).to_numpy("float64")[fill_rows]
        prices = np.where(quoted > 0, quoted, marks[fill_rows])  # a gap fills at the last close
        caps = None
        if self.max_volume_pct is not None and volume is not None:
            average = volume.reindex_like(close).rolling(self.volume_window, min_periods=1).mean()
            shares = self.max_volume_pct * average.to_numpy("float64")[rows]
            caps = np.where(np.isfinite(shares), shares, np.inf)
        return _Fills(fill_rows, weights, prices, caps)

    def _simulate(self, prices: np.ndarray, fills: _Fills, missing: np.ndarray | None) -> _Path:
        """Loop over rebalance periods: trade at each fill, then hold to the next.

        `prices` (closes) is positive and finite everywhere (see `carried_closes`), so every step
        is a dense vector operation across symbols. Products use einsum rather than BLAS: the sums
        run in one fixed order (bit-identical results whatever the BLAS thread count) and no BLAS
        threads compete with other work.
        """
        rows, weights = fills.rows, fills.weights
        n_days, n_names = prices.shape
        start = int(rows[0])
        ends = [*rows[1:].tolist(), n_days - 1]
        longest = int((np.array(ends) - rows).max())
        daily = 1 + metrics.session_rate(self.cash_rate, self.periods_per_year)
        growth = daily ** np.arange(1, longest + 1)  # cash growth after 1, 2, ... sessions
        equity = np.empty(n_days - start)
        turnover, costs = np.empty(len(rows)), np.empty(len(rows))
        unfilled, wanted = np.empty(len(rows)), np.empty(len(rows))
        positions = np.zeros((len(rows), n_names))
        stale = np.zeros(n_names)
        shares = positions[0]
        cash = float(self.initial_capital)
        for k, (day, end) in enumerate(zip(rows.tolist(), ends, strict=True)):
            at = fills.prices[k]
            holding = shares * at
            value = cash + float(holding.sum())
            asked = weights[k] * value - holding
            trade = asked
            if fills.caps is not None:
                limit = fills.caps[k] * at
                trade = np.clip(trade, -limit, limit)
            gross = float(np.abs(trade).sum())
            wanted[k] = float(np.abs(asked).sum())
            unfilled[k] = wanted[k] - gross
            cost = float(self.costs.total(gross))
            costs[k] = cost
            turnover[k] = one_way_turnover(trade / value) if value > 0 else np.nan
            filled = np.where(trade == asked, weights[k] * value / at, shares + trade / at)
            shares = positions[k]
            shares[:] = filled  # a full fill holds target / price exactly
            cash -= float(trade.sum()) + cost
            equity[day - start] = float(np.einsum("j,j->", prices[day], shares)) + cash
            if end > day:
                held = np.einsum("ij,j->i", prices[day + 1 : end + 1], shares)
                equity[day + 1 - start : end + 1 - start] = held + cash * growth[: end - day]
                cash *= float(growth[end - day - 1])
                if missing is not None:
                    stale += missing[day + 1 : end + 1].sum(axis=0) * (shares != 0)
        return _Path(equity, turnover, costs, unfilled, wanted, positions, stale)

    def _result(
        self,
        close: pd.DataFrame,
        rows: np.ndarray,
        path: _Path,
        bench: _Path,
        regimes: pd.Series | None,
        execution: str,
    ) -> BacktestResult:
        """Wrap the raw arrays in labeled Series/frames and compute the metrics."""
        days = close.index[rows[0] :]
        dates = close.index[rows]
        equity = pd.Series(path.equity, index=days, name="equity")
        returns = self._returns(equity)
        turnover = pd.Series(path.turnover, index=dates, name="turnover")
        costs = pd.Series(path.costs, index=dates, name="costs")
        unfilled = pd.Series(path.unfilled, index=dates, name="unfilled")
        bench_equity = pd.Series(bench.equity, index=days, name="benchmark_equity")
        bench_returns = self._returns(bench_equity)
        bench_turnover = pd.Series(bench.turnover, index=dates[:1])
        bench_costs = pd.Series(bench.costs, index=dates[:1])
        breakdown = None
        if regimes is not None:
            breakdown = metrics.regime_performance(
                returns, regimes, self.cash_rate, self.periods_per_year
            )
        return BacktestResult(
            equity=equity,
            returns=returns,
            turnover=turnover,
            costs=costs,
            unfilled=unfilled,
            positions=pd.DataFrame(path.shares, index=dates, columns=close.columns),
            stale_sessions=pd.Series(path.stale, index=close.columns, name="stale_sessions"),
            benchmark_equity=bench_equity,
            benchmark_returns=bench_returns,
            metrics={
                **self._summary(returns, equity, turnover, costs),
                "capped_share": _share(path.unfilled, path.wanted),
            },
            benchmark_metrics=self._summary(
                bench_returns, bench_equity, bench_turnover, bench_costs
            ),
            regime_performance=breakdown,
            execution=execution,
        )

    def _returns(self, equity: pd.Series) -> pd.Series:
        """Daily returns; the first is measured from the initial capital (it carries the costs)."""
        values = equity.to_numpy()
        previous = np.concatenate(([self.initial_capital], values[:-1]))
        return pd.Series(values / previous - 1, index=equity.index, name="returns")

    def _summary(
        self, returns: pd.Series, equity: pd.Series, turnover: pd.Series, costs: pd.Series
    ) -> dict[str, float]:
        return metrics.summarize(
            returns, equity, turnover, costs, self.cash_rate, self.periods_per_year
        )


def _share(part: np.ndarray, whole: np.ndarray) -> float:
    """Sum of `part` over sum of `whole` (0.0 when nothing was asked)."""
    total = float(whole.sum())
    return float(part.sum()) / total if total > 0 else 0.0


def _equal_weights(listed: np.ndarray) -> np.ndarray:
    """One target row: equal weight in every listed symbol (1 x symbols)."""
    return (listed / max(listed.sum(), 1)).reshape(1, -1).astype("float64")
