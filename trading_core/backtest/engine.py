"""VectorizedBacktester: daily equity of a portfolio rebalanced to target weights, net of costs.

Execution convention (every figure is at session closes; currency is that of `initial_capital`):

- At the close of rebalance date t the portfolio is worth V_t at the closes of t (holdings marked
  at those closes, plus cash). It trades to the targets at those same closes: holdings become
  target_weight x V_t, cash becomes V_t x (1 - sum of targets) - costs. Costs come out of cash, as
  in live trading, so a fully invested portfolio holds a small negative cash balance (a debit of
  the costs) that accrues the cash rate like any cash.
- Costs are the shared `CostModel` applied to each name's traded notional |target x V_t -
  holding_t| (commission + slippage, in bps), exactly what the live `TradeGenerator` estimates for
  the same trades with fractional shares. Turnover is one-way, ½ sum |target - drifted weight|
  (`trading_core.turnover`), so the costs of a rebalance are 2 x turnover x V_t x the cost rate.
- Between rebalances the share counts stay fixed: weights drift with close-to-close returns and
  cash compounds at `cash_rate` (annual) per session. No price after t is used to trade at t.
- The equity of a rebalance date is after that day's trades and costs; the first daily return is
  that equity over `initial_capital`, so the returns compound to the final equity exactly.

Missing prices:

- A symbol can be targeted (non-zero weight) on t only if its close on t is a positive number;
  otherwise `run` raises a DataError naming the symbol and date.
- A held name whose close goes missing later keeps its last close (its value is frozen, never
  dropped to zero or silently removed) until its close returns or the next rebalance, which sells
  it at that last close when it is no longer targeted. `BacktestResult.stale_sessions` counts, per
  symbol, the held sessions valued at a carried close, so a caller can see and refuse them.

Target weights: index = rebalance dates (sessions of `close`), columns = symbols of `close`, values
= fractions of pre-trade equity; NaN means 0 (not held) and a row may sum to less than 1 (the
rest is cash). The benchmark buys every symbol with a close on the first rebalance date in equal
weight at that close, with the same capital and cost model, and holds it to the end.

The simulation is a loop over rebalance periods, vectorized across symbols and across the days
of each period (a period's equity is one product of its closes and the share counts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trading_core.backtest import metrics
from trading_core.costs import CostModel
from trading_core.errors import ConfigError, DataError
from trading_core.turnover import one_way_turnover


@dataclass(frozen=True)
class BacktestResult:
    """Daily paths, per-rebalance trading figures and summary metrics of one backtest."""

    equity: pd.Series  # daily, post-trade, from the first rebalance date to the end of close
    returns: pd.Series  # daily net returns; the first is equity on day one / initial capital - 1
    turnover: pd.Series  # per rebalance date, one-way: ½ sum |target - drifted| (of equity)
    costs: pd.Series  # per rebalance date, currency
    positions: pd.DataFrame  # per rebalance date, shares held after trading
    stale_sessions: pd.Series  # per symbol, held sessions valued at a carried (missing) close
    benchmark_equity: pd.Series  # equal-weight buy-and-hold of the universe, same start/capital
    benchmark_returns: pd.Series
    metrics: dict[str, float]
    benchmark_metrics: dict[str, float]
    regime_performance: pd.DataFrame | None  # per regime code: avg_return, sharpe, win_rate, days


@dataclass(frozen=True)
class _Path:
    """Raw arrays of one simulation (rows are positions in `close`)."""

    equity: np.ndarray
    turnover: np.ndarray
    costs: np.ndarray
    shares: np.ndarray
    stale: np.ndarray


class VectorizedBacktester:
    """Backtests target weights on rebalance dates against daily closes (see module docstring)."""

    def __init__(
        self,
        costs: CostModel,
        cash_rate: float = 0.0,
        initial_capital: float = 1.0,
        periods_per_year: int = 252,
    ) -> None:
        if not initial_capital > 0:
            raise ConfigError(f"initial_capital must be positive, got {initial_capital}")
        if periods_per_year <= 0:
            raise ConfigError(f"periods_per_year must be positive, got {periods_per_year}")
        self.costs = costs
        self.cash_rate = cash_rate
        self.initial_capital = initial_capital
        self.periods_per_year = periods_per_year

    def run(
        self,
        target_weights: pd.DataFrame,
        close: pd.DataFrame,
        regimes: pd.Series | None = None,
    ) -> BacktestResult:
        """Simulate rebalancing to `target_weights` on `close`; regime codes add a breakdown."""
        _check_close(close)
        raw = np.ascontiguousarray(close.to_numpy("float64"))  # rows contiguous: one per session
        valid = raw > 0
        rows, weights = _align_targets(target_weights, close)
        _check_targetable(weights, rows, valid, raw, close)
        prices, missing = raw, None
        if not valid.all():
            _refuse_nonpositive(raw, close)
            prices, missing = _carried_closes(close), ~valid
        path = self._simulate(prices, rows, weights, missing)
        bench = self._simulate(prices, rows[:1], _equal_weights(valid[rows[0]]), None)
        return self._result(close, rows, path, bench, regimes)

    def _simulate(
        self,
        prices: np.ndarray,
        rows: np.ndarray,
        weights: np.ndarray,
        missing: np.ndarray | None,
    ) -> _Path:
        """Loop over rebalance periods: trade at the close of each row, then hold to the next.

        `prices` is positive and finite everywhere (see `_carried_closes`), so every step is a
        dense vector operation across symbols. Products use einsum rather than BLAS: the sums
        run in one fixed order (bit-identical results whatever the BLAS thread count) and no BLAS
        threads compete with other work.
        """
        n_days, n_names = prices.shape
        start = int(rows[0])
        ends = [*rows[1:].tolist(), n_days - 1]
        longest = int((np.array(ends) - rows).max())
        daily = 1 + metrics.session_rate(self.cash_rate, self.periods_per_year)
        growth = daily ** np.arange(1, longest + 1)  # cash growth after 1, 2, ... sessions
        invested = weights.sum(axis=1).tolist()
        equity = np.empty(n_days - start)
        turnover = np.empty(len(rows))
        costs = np.empty(len(rows))
        positions = np.zeros((len(rows), n_names))
        stale = np.zeros(n_names)
        shares = positions[0]
        cash = float(self.initial_capital)
        for k, (day, end) in enumerate(zip(rows.tolist(), ends, strict=True)):
            closes = prices[day]
            holding = shares * closes
            value = cash + float(holding.sum())
            target = weights[k] * value
            trade = target - holding
            cost = float(self.costs.total(float(np.abs(trade).sum())))
            costs[k] = cost
            turnover[k] = one_way_turnover(trade / value) if value > 0 else np.nan
            shares = np.divide(target, closes, out=positions[k])
            cash = value * (1 - invested[k]) - cost
            equity[day - start] = value - cost
            if end > day:
                held = np.einsum("ij,j->i", prices[day + 1 : end + 1], shares)
                equity[day + 1 - start : end + 1 - start] = held + cash * growth[: end - day]
                cash *= float(growth[end - day - 1])
                if missing is not None:
                    stale += missing[day + 1 : end + 1].sum(axis=0) * (shares != 0)
        return _Path(equity, turnover, costs, positions, stale)

    def _result(
        self,
        close: pd.DataFrame,
        rows: np.ndarray,
        path: _Path,
        bench: _Path,
        regimes: pd.Series | None,
    ) -> BacktestResult:
        """Wrap the raw arrays in labeled Series/frames and compute the metrics."""
        days = close.index[rows[0] :]
        dates = close.index[rows]
        equity = pd.Series(path.equity, index=days, name="equity")
        returns = self._returns(equity)
        turnover = pd.Series(path.turnover, index=dates, name="turnover")
        costs = pd.Series(path.costs, index=dates, name="costs")
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
            positions=pd.DataFrame(path.shares, index=dates, columns=close.columns),
            stale_sessions=pd.Series(path.stale, index=close.columns, name="stale_sessions"),
            benchmark_equity=bench_equity,
            benchmark_returns=bench_returns,
            metrics=self._summary(returns, equity, turnover, costs),
            benchmark_metrics=self._summary(
                bench_returns, bench_equity, bench_turnover, bench_costs
            ),
            regime_performance=breakdown,
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


def _equal_weights(listed: np.ndarray) -> np.ndarray:
    """One target row: equal weight in every listed symbol (1 x symbols)."""
    return (listed / max(listed.sum(), 1)).reshape(1, -1).astype("float64")


def _carried_closes(close: pd.DataFrame) -> np.ndarray:
    """Closes with each gap filled by the last close, and 1.0 before a symbol's first close.

    The placeholder 1.0 only keeps the arithmetic finite: a symbol cannot be targeted before its
    first close, so it holds no shares there.
    """
    return np.ascontiguousarray(close.ffill().fillna(1.0).to_numpy("float64"))


def _refuse_nonpositive(raw: np.ndarray, close: pd.DataFrame) -> None:
    """A close that is a number must be positive (NaN is a missing close, handled separately)."""
    bad = raw <= 0
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(
            f"close is {raw[i, j]:g} (must be positive) for {close.columns[j]} on "
            f"{_day(close.index[i])}"
        )


def _check_close(close: pd.DataFrame) -> None:
    """Closes must be indexed by strictly increasing, unique session dates."""
    if close.empty:
        raise DataError("close is empty: nothing to backtest")
    if not close.index.is_monotonic_increasing or not close.index.is_unique:
        raise DataError("close index must be unique, increasing session dates")


def _align_targets(
    target_weights: pd.DataFrame, close: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the rebalance dates in `close`, and the weights on `close`'s columns."""
    if len(target_weights.index) == 0:
        raise DataError("target_weights has no rebalance date")
    if not target_weights.index.is_unique:
        duplicated = target_weights.index[target_weights.index.duplicated()][0]
        raise DataError(f"rebalance date {_day(duplicated)} appears twice in target_weights")
    unknown = target_weights.columns.difference(close.columns)
    if len(unknown):
        raise DataError(f"target_weights names symbols without closes: {', '.join(unknown)}")
    targets = target_weights.sort_index()
    rows = close.index.get_indexer(targets.index)
    if (rows < 0).any():
        missing = targets.index[rows < 0][0]
        raise DataError(f"rebalance date {_day(missing)} is not a session of close")
    weights = targets.reindex(columns=close.columns).fillna(0.0).to_numpy("float64")
    if not np.isfinite(weights).all():
        k, j = np.argwhere(~np.isfinite(weights))[0]
        raise DataError(
            f"target weight of {close.columns[j]} on {_day(targets.index[k])} is infinite"
        )
    return rows.astype(np.intp), weights


def _check_targetable(
    weights: np.ndarray, rows: np.ndarray, valid: np.ndarray, raw: np.ndarray, close: pd.DataFrame
) -> None:
    """Refuse a non-zero target in a symbol without a positive close on its rebalance date."""
    bad = (weights != 0) & ~valid[rows]
    if bad.any():
        k, j = np.argwhere(bad)[0]
        raise DataError(
            f"close is {raw[rows[k], j]:g} for {close.columns[j]} on {_day(close.index[rows[k]])}: "
            "it cannot be targeted"
        )


def _day(value: object) -> str:
    """A date as YYYY-MM-DD for messages (other labels as they are)."""
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else str(value)
