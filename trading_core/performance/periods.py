"""Calendar-period returns of a daily return series: the monthly table and the yearly returns.

Returns are compounded within each calendar month or year, prod(1 + r) - 1, over the sessions
that have a return (NaN sessions are left out), so a first or last period counts only the part
the account lived through.
"""

from __future__ import annotations

import pandas as pd

MIN_SESSIONS = 1  # one session already fills one month's cell
MONTHS = list(range(1, 13))


def _compounded(returns: pd.Series, *keys: pd.Index) -> pd.Series:
    """prod(1 + r) - 1 per group of `keys` (arrays aligned with `returns`)."""
    return ((1 + returns).groupby(list(keys)).prod() - 1).rename("return")


def monthly_returns(returns: pd.Series) -> pd.DataFrame:
    """Year rows x month columns (1-12) of compounded returns; NaN where a month has no session."""
    returns = returns.dropna()
    dates = returns.index
    growth = _compounded(returns, dates.year.rename("year"), dates.month.rename("month"))
    return growth.unstack("month").reindex(columns=pd.Index(MONTHS, name="month"))


def yearly_returns(returns: pd.Series) -> pd.Series:
    """Compounded return per calendar year (index: year)."""
    returns = returns.dropna()
    return _compounded(returns, returns.index.year.rename("year"))
