"""The headline table of the paper account's tear sheet, and how much history each figure needs.

- `headline_table`: per window (the account's life, the last 3 and 12 calendar months) and per
  side (strategy, benchmark), the return statistics of `backtest.metrics`, plus the strategy's
  beta and alpha on the benchmark; a long frame with one figure per row.
- `LABELS`: the metric keys in display order with the words a reader sees, so the report never
  prints a raw key; `WINDOW_LABELS` likewise for the windows.
- `trailing`: the returns of the last `months` calendar months, or None when the account is
  younger than that.
- `enough_history`: the sessions each figure of the tear sheet still needs, so the report writes
  one line instead of an empty figure.

Inputs are daily simple returns indexed by session date; sessions without a return (NaN) are left
out, so the account's life starts at its first return. Conventions (annualization, cash rate,
NaN for undefined figures) are those of `backtest.metrics`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trading_core.backtest import metrics
from trading_core.performance import drawdowns, periods, rolling

MIN_SESSIONS = 2  # a volatility, and so a Sharpe ratio, needs two returns
# An annualized figure from a few sessions is noise raised to the power 252 (three sessions of
# +1% read as a CAGR of +1,100%): these are NaN in a window of fewer than a month of sessions.
ANNUALIZED = ("cagr", "volatility", "sharpe", "sortino", "calmar", "alpha")
MIN_ANNUALIZED_SESSIONS = 21
COLUMNS = ["window", "side", "metric", "value"]
WINDOWS: dict[str, int | None] = {"life": None, "3m": 3, "12m": 12}  # calendar months back
WINDOW_LABELS = {"life": "Since inception", "3m": "Last 3 months", "12m": "Last 12 months"}
LABELS = {
    "total_return": "Total return",
    "cagr": "CAGR",
    "volatility": "Annual volatility",
    "sharpe": "Sharpe ratio",
    "sortino": "Sortino ratio",
    "max_drawdown": "Max drawdown",
    "calmar": "Calmar ratio",
    "win_rate": "Win rate (share of positive days)",
    "best_day": "Best day",
    "worst_day": "Worst day",
    "var_95": "VaR (95%, daily)",
    "cvar_95": "CVaR (95%, daily)",
    "beta": "Beta",
    "alpha": "Alpha (annualized)",
    "sessions": "Sessions",
}


def trailing(returns: pd.Series, months: int) -> pd.Series | None:
    """Returns of the sessions after the date `months` calendar months before the last session.

    Their compounded return is the growth of equity from the close of that date (the anchor) to
    the last close. None when the first return is dated after the anchor: a window longer than
    the history is not shown at all rather than shown cut short under its name.
    """
    if len(returns) == 0:
        return None
    anchor = returns.index[-1] - pd.DateOffset(months=months)
    return returns[returns.index > anchor] if returns.index[0] <= anchor else None


def _figures(returns: pd.Series, cash_rate: float, periods_per_year: int) -> dict[str, float]:
    """The statistics of one side over one window, keyed as in `LABELS`."""
    return {
        "total_return": metrics.total_return(returns),
        "cagr": metrics.cagr(returns, periods_per_year),
        "volatility": metrics.annual_volatility(returns, periods_per_year),
        "sharpe": metrics.sharpe(returns, cash_rate, periods_per_year),
        "sortino": metrics.sortino(returns, cash_rate, periods_per_year),
        "max_drawdown": metrics.max_drawdown(returns),
        "calmar": metrics.calmar(returns, periods_per_year),
        "win_rate": metrics.win_rate(returns),
        "best_day": metrics.best_day(returns),
        "worst_day": metrics.worst_day(returns),
        "var_95": metrics.value_at_risk(returns, 0.05),
        "cvar_95": metrics.conditional_value_at_risk(returns, 0.05),
        "sessions": float(len(returns)),
    }


def headline_table(
    returns: pd.Series,
    benchmark: pd.Series | None = None,
    cash_rate: float = 0.0,
    periods_per_year: int = 252,
) -> pd.DataFrame:
    """Long frame (columns window, side, metric, value): every figure of the headline table.

    Rows run window by window (`WINDOWS` order), strategy before benchmark, metrics in `LABELS`
    order. The benchmark is taken on the strategy's sessions; without one there are no benchmark
    rows and no beta or alpha. A trailing window longer than the history has every value NaN,
    and a window of fewer than `MIN_ANNUALIZED_SESSIONS` sessions its `ANNUALIZED` figures.
    `cash_rate` is annual; Sharpe, Sortino and alpha are in excess of its per-session rate.
    """
    strategy = returns.dropna()
    market = None if benchmark is None else benchmark.reindex(strategy.index)
    rows = []
    for window, months in WINDOWS.items():
        window_part = strategy if months is None else trailing(strategy, months)
        shown = window_part is not None
        part = window_part if window_part is not None else strategy.iloc[:0]
        sides = {"strategy": _figures(part, cash_rate, periods_per_year)}
        if market is not None:
            sides["strategy"]["beta"] = metrics.beta(part, market)
            sides["strategy"]["alpha"] = metrics.alpha(part, market, cash_rate, periods_per_year)
            sides["benchmark"] = _figures(
                market.loc[part.index].dropna(), cash_rate, periods_per_year
            )
        annualized = len(part) >= MIN_ANNUALIZED_SESSIONS
        for side, figures in sides.items():
            rows += [
                (
                    window,
                    side,
                    key,
                    figures[key] if shown and (annualized or key not in ANNUALIZED) else np.nan,
                )
                for key in LABELS
                if key in figures
            ]
    return pd.DataFrame(rows, columns=COLUMNS)


def _weekdays_until_covered(dates: pd.DatetimeIndex, months: int) -> int:
    """Weekdays after the last session until `trailing(months)` is shown (0: it is already).

    The first weekday whose date `months` back is on or after the first session; a market
    holiday in between makes it one session fewer. With no session yet, 21 a month plus one.
    """
    if len(dates) == 0:
        return 21 * months + 1
    first, last, back = dates[0], dates[-1], pd.DateOffset(months=months)
    if first <= last - back:
        return 0
    ahead = pd.bdate_range(last + pd.Timedelta(days=1), first + back + pd.Timedelta(days=7))
    return int(np.argmax(ahead - back >= first)) + 1


def enough_history(returns: pd.Series) -> dict[str, int]:
    """Sessions each part of the tear sheet still needs before it is drawn (0: ready now).

    Keys: "statistics" (the headline table), "annualized" (its `ANNUALIZED` figures over the
    account's life), "3m" and "12m" (its trailing columns, counted in
    weekdays: see `_weekdays_until_covered`), "drawdowns", "rolling" (the six-month lines) and
    "periods" (the monthly and yearly returns), so the report can write "needs N more sessions"
    in place of an empty figure.
    """
    dates = returns.dropna().index
    windows = {window: _weekdays_until_covered(dates, m) for window, m in WINDOWS.items() if m}
    return {
        "statistics": max(MIN_SESSIONS - len(dates), 0),
        "annualized": max(MIN_ANNUALIZED_SESSIONS - len(dates), 0),
        **windows,
        "drawdowns": max(drawdowns.MIN_SESSIONS - len(dates), 0),
        "rolling": max(rolling.MIN_SESSIONS - len(dates), 0),
        "periods": max(periods.MIN_SESSIONS - len(dates), 0),
    }
