"""Performance figures of a daily backtest: returns, risk, drawdown, trading and regimes.

Implements, on a Series of daily net returns (simple, one per session) unless stated:

- `total_return`, `cagr`, `annual_volatility`: growth and spread, annualized with
  `periods_per_year` sessions.
- `sharpe`, `sortino`: annualized mean excess return over the cash rate, per unit of volatility or
  of downside deviation.
- `max_drawdown` (a negative fraction, e.g. -0.25), `calmar` (CAGR / |max drawdown|).
- `win_rate`: share of sessions with a positive return.
- `best_day`, `worst_day`: the largest and smallest daily return.
- `value_at_risk`, `conditional_value_at_risk`: historical daily VaR and CVaR (the worst 5% by
  default), as returns (-0.02: a 2% loss), with empyrical's quantile conventions.
- `beta`, `alpha`: slope on a benchmark's daily returns, and Jensen's alpha over the cash rate
  compounded to a year (empyrical's convention; quantstats multiplies by 252 instead).
- `average_turnover`, `annual_turnover` (of the per-rebalance one-way turnover, ½ sum |target -
  drifted| weights: see `trading_core.turnover`) and `cost_drag` (costs as a fraction of equity
  per year).
- `regime_performance`: per regime, average daily return, annualized Sharpe, win rate and days.
- `summarize`: all of the above as one dict of plain floats.

Degenerate input never raises: a figure that is undefined (no sessions, one session, zero
volatility, no drawdown, no losing session) is NaN, so a grid of runs always completes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trading_core.regime import LABELS

NAN = float("nan")
REGIME_COLUMNS = ["regime", "avg_return", "sharpe", "win_rate", "days"]


def session_rate(cash_rate: float, periods_per_year: int = 252) -> float:
    """Per-session rate that compounds to the annual `cash_rate` over `periods_per_year`."""
    return (1 + cash_rate) ** (1 / periods_per_year) - 1


def total_return(returns: pd.Series) -> float:
    """Compounded return over the whole series (0.0 for an empty series)."""
    return float(np.prod(1 + returns.to_numpy("float64")) - 1)


def cagr(returns: pd.Series, periods_per_year: int = 252) -> float:
    """Compound annual growth rate, with len(returns) / periods_per_year years (NaN if empty)."""
    if len(returns) == 0:
        return NAN
    growth = 1 + total_return(returns)
    if growth <= 0:
        return -1.0
    return float(growth ** (periods_per_year / len(returns)) - 1)


def annual_volatility(returns: pd.Series, periods_per_year: int = 252) -> float:
    """Sample standard deviation of daily returns times sqrt(periods_per_year) (NaN if < 2)."""
    if len(returns) < 2:
        return NAN
    return float(returns.to_numpy("float64").std(ddof=1) * np.sqrt(periods_per_year))


def sharpe(returns: pd.Series, cash_rate: float = 0.0, periods_per_year: int = 252) -> float:
    """Annualized Sharpe ratio of returns in excess of the cash rate (NaN if volatility is 0)."""
    excess = returns.to_numpy("float64") - session_rate(cash_rate, periods_per_year)
    if len(excess) < 2:
        return NAN
    spread = excess.std(ddof=1)
    if not spread > 1e-15:
        return NAN
    return float(excess.mean() / spread * np.sqrt(periods_per_year))


def sortino(returns: pd.Series, cash_rate: float = 0.0, periods_per_year: int = 252) -> float:
    """Annualized mean excess return over the downside deviation sqrt(mean(min(excess, 0)^2)).

    The downside deviation averages over every session (not only the losing ones); NaN when no
    session falls below the cash rate or the series has fewer than two sessions.
    """
    excess = returns.to_numpy("float64") - session_rate(cash_rate, periods_per_year)
    if len(excess) < 2:
        return NAN
    downside = np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2))
    if not downside > 1e-15:
        return NAN
    return float(excess.mean() / downside * np.sqrt(periods_per_year))


def drawdown(returns: pd.Series) -> pd.Series:
    """Per session, equity over its running peak minus 1; the starting capital counts as a peak."""
    return pd.Series(_drawdown(returns.to_numpy("float64")), index=returns.index, name="drawdown")


def _drawdown(returns: np.ndarray) -> np.ndarray:
    wealth = np.cumprod(1 + returns)
    return wealth / np.maximum.accumulate(np.maximum(wealth, 1.0)) - 1


def max_drawdown(returns: pd.Series) -> float:
    """Deepest fall from a running peak, as a fraction <= 0 (-0.25: a quarter lost; 0.0 if empty)."""
    if len(returns) == 0:
        return 0.0
    return float(min(_drawdown(returns.to_numpy("float64")).min(), 0.0))


def calmar(returns: pd.Series, periods_per_year: int = 252) -> float:
    """CAGR divided by |max drawdown| (NaN without a drawdown)."""
    deepest = max_drawdown(returns)
    if deepest == 0:
        return NAN
    return cagr(returns, periods_per_year) / abs(deepest)


def win_rate(returns: pd.Series) -> float:
    """Share of sessions with a strictly positive return (NaN if empty)."""
    if len(returns) == 0:
        return NAN
    return float((returns.to_numpy("float64") > 0).mean())


def best_day(returns: pd.Series) -> float:
    """Largest daily return (NaN if empty)."""
    return float(returns.max()) if len(returns) else NAN


def worst_day(returns: pd.Series) -> float:
    """Smallest daily return (NaN if empty)."""
    return float(returns.min()) if len(returns) else NAN


def value_at_risk(returns: pd.Series, tail: float = 0.05) -> float:
    """Historical VaR: the `tail` quantile of daily returns, as a return (NaN if empty).

    Linear interpolation between order statistics (numpy's default, as empyrical's
    `value_at_risk`); tail 0.05 is the 95% VaR. Negative for a loss: -0.02 says that one session
    in twenty lost 2% or more.
    """
    if len(returns) == 0:
        return NAN
    return float(np.quantile(returns.to_numpy("float64"), tail))


def conditional_value_at_risk(returns: pd.Series, tail: float = 0.05) -> float:
    """Historical CVaR (expected shortfall): mean of the worst int((n - 1) * tail) + 1 returns.

    The averaged sessions are those at or below the order statistic that `value_at_risk`
    interpolates from, so CVaR <= VaR; the count is empyrical's `conditional_value_at_risk`.
    NaN if empty.
    """
    values = returns.to_numpy("float64")
    if len(values) == 0:
        return NAN
    worst = int((len(values) - 1) * tail)
    return float(np.partition(values, worst)[: worst + 1].mean())


def _paired(returns: pd.Series, benchmark: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The two series on the sessions where both have a return (aligned by date)."""
    both = pd.concat([returns, benchmark], axis=1, join="inner").dropna().to_numpy("float64")
    return both[:, 0], both[:, 1]


def beta(returns: pd.Series, benchmark: pd.Series) -> float:
    """Slope of daily returns on the benchmark's: cov / var over the sessions both have.

    NaN with fewer than two such sessions or a benchmark that does not move (standard deviation
    not above 1e-15, the threshold `sharpe` uses).
    """
    ours, market = _paired(returns, benchmark)
    if len(ours) < 2:
        return NAN
    centred = market - market.mean()
    variance = np.mean(centred**2)
    if not variance > 1e-30:
        return NAN
    return float(np.mean(centred * ours) / variance)


def alpha(
    returns: pd.Series, benchmark: pd.Series, cash_rate: float = 0.0, periods_per_year: int = 252
) -> float:
    """Jensen's alpha, annualized: (1 + mean daily excess return beta does not explain)^year - 1.

    Both series are taken in excess of the session cash rate; the daily alpha is the intercept of
    that regression, mean((r - c) - beta (b - c)), compounded over `periods_per_year` sessions as
    empyrical's `alpha` does. NaN where `beta` is.
    """
    slope = beta(returns, benchmark)
    if np.isnan(slope):
        return NAN
    ours, market = _paired(returns, benchmark)
    cash = session_rate(cash_rate, periods_per_year)
    daily = np.mean((ours - cash) - slope * (market - cash))
    return float((1 + daily) ** periods_per_year - 1)


def average_turnover(turnover: pd.Series) -> float:
    """Mean one-way turnover per rebalance date (NaN with no rebalance)."""
    return float(turnover.to_numpy("float64").mean()) if len(turnover) else NAN


def annual_turnover(turnover: pd.Series, sessions: int, periods_per_year: int = 252) -> float:
    """One-way turnover summed per year: the per-rebalance figures x periods_per_year / sessions.

    Weekly rebalances of 20% each give about 10.4 (1,040% a year); NaN if no session.
    """
    if sessions == 0:
        return NAN
    return float(turnover.sum() * periods_per_year / sessions)


def cost_drag(costs: pd.Series, equity: pd.Series, periods_per_year: int = 252) -> float:
    """Costs per year as a fraction of equity: sum over rebalances of cost / pre-trade equity.

    `costs` (currency) is indexed by rebalance date; `equity` is the daily post-trade equity, so
    the pre-trade equity of a rebalance date is equity + cost. With one-way turnover T (so 2T of
    equity traded, buys plus sells) and cost rate c per unit traded, each rebalance contributes
    2T x c: doubling c doubles the drag. Years are len(equity) / periods_per_year (NaN for an
    empty equity series or a cost dated outside it).
    """
    if len(equity) == 0:
        return NAN
    paid = costs.to_numpy("float64")
    at = equity.index.get_indexer(costs.index)
    before = np.where(at >= 0, equity.to_numpy("float64")[at], NAN) + paid
    return float((paid / before).sum() * periods_per_year / len(equity))


def regime_performance(
    returns: pd.Series,
    regimes: pd.Series,
    cash_rate: float = 0.0,
    periods_per_year: int = 252,
) -> pd.DataFrame:
    """Per regime code (rows 0 Risk-Off, 1 Normal, 2 Risk-On): avg daily return, Sharpe, wins, days.

    The return of session t counts for the regime label of session t; sessions without a label
    are left out. A regime never seen has 0 days and NaN figures.
    """
    labels = regimes.reindex(returns.index)
    rows = []
    for code, name in LABELS.items():
        part = returns[labels == code]
        rows.append(
            {
                "regime": name,
                "avg_return": float(part.mean()) if len(part) else NAN,
                "sharpe": sharpe(part, cash_rate, periods_per_year),
                "win_rate": win_rate(part),
                "days": len(part),
            }
        )
    return pd.DataFrame(rows, index=pd.Index(list(LABELS), name="code"), columns=REGIME_COLUMNS)


def summarize(
    returns: pd.Series,
    equity: pd.Series,
    turnover: pd.Series,
    costs: pd.Series,
    cash_rate: float = 0.0,
    periods_per_year: int = 252,
) -> dict[str, float]:
    """Every figure of a backtest as a dict of plain floats (the row of a comparison table)."""
    return {
        "total_return": total_return(returns),
        "cagr": cagr(returns, periods_per_year),
        "volatility": annual_volatility(returns, periods_per_year),
        "sharpe": sharpe(returns, cash_rate, periods_per_year),
        "sortino": sortino(returns, cash_rate, periods_per_year),
        "max_drawdown": max_drawdown(returns),
        "calmar": calmar(returns, periods_per_year),
        "win_rate": win_rate(returns),
        "avg_turnover": average_turnover(turnover),
        "annual_turnover": annual_turnover(turnover, len(returns), periods_per_year),
        "cost_drag": cost_drag(costs, equity, periods_per_year),
        "total_costs": float(costs.sum()),
        "sessions": float(len(returns)),
    }
