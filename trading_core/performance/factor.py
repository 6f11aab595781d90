"""Factor tear sheet: what a model's scores said about the returns that followed them.

The numbers of alphalens' factor tear sheet, for scores indexed by (date, symbol) as in
`trading_core.ml.metrics`; forward returns come from `trading_core.features.labels.forward_returns`
(fill conventions same_close, next_open, next_close), stacked to the same index.

- `quantile_returns_by_date`, `mean_by_quantile`: mean forward return of each score quintile per
  date, and over dates with its standard error (the bars).
- `top_minus_bottom`, `cumulative_spread`, `annualized_spread`: the top-minus-bottom quintile
  return per date, compounded and annualized.
- `ic_table`, `ic_by_month`, `ic_decay`: the daily rank IC (`ml.metrics.daily_ic`) summarized as
  alphalens' IC table, by calendar month, and at horizons 1 to 20 sessions.
- `rank_autocorrelation`: how much the score ranking changes from one date to the next.
- `factor_tear_sheet` builds all of them (`FactorTearSheet`); `factor_summary_row` is the compact
  row a candidate gets in the selection report. `LABELS` names every key and series for reports.

Conventions against alphalens-reloaded (tests/core/performance/test_factor_stats.py pins each one):
- alphalens' forward returns run close to close from the factor date, our same_close. next_open
  is alphalens fed the opens of the session after each factor date as its prices; next_close, the
  next session's closes. A missing entry price gives no return here, where alphalens forward-fills.
- Quintiles: alphalens cuts each date with pd.qcut, we rank (`ml.metrics.quintile_returns`). The
  buckets agree when a date's count of names is a multiple of the quantiles and scores are
  distinct; otherwise a name at a bucket edge may sit one bucket apart, and where tied scores make
  qcut's edges repeat (alphalens then refuses the date), tied names share their average rank here.
- Overlap: returns over h > 1 sessions overlap from one date to the next, so t-statistics and
  standard errors use days / h effective observations (`ml.metrics.ic_summary`); alphalens uses
  all days. Equal at h = 1; at h > 1 ours are alphalens' t-statistic / sqrt(h) and standard
  error * sqrt(h).
- Spread: top minus bottom quintile (long one, short one, as `evaluate_predictions`'
  top_minus_bottom); alphalens-reloaded 0.5 halves it to a 100% gross book, so ours is twice its.
- A daily IC needs `ml.metrics.MIN_NAMES` names on the date; alphalens computes it from any count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trading_core.features.labels import effective_execution, forward_returns, stack_labels
from trading_core.ml.metrics import NAN, QUINTILES, daily_ic, ic_summary, quintile_returns

DECAY_HORIZONS = (1, 5, 10, 20)

# Every key and series name the functions below produce, as a report shows it, in report order.
LABELS = {
    "ic_mean": "Mean rank IC",
    "ic_std": "Rank IC standard deviation",
    "risk_adjusted_ic": "Risk-adjusted IC (mean / std)",
    "ic_t_stat": "t-statistic of the mean rank IC",
    "ic_p_value": "p-value of the mean rank IC",
    "ic_skew": "Rank IC skew",
    "ic_kurtosis": "Rank IC excess kurtosis",
    "ic_hit_rate": "Share of days with a positive rank IC",
    "ic_days": "Days with a rank IC",
    "rank_ic": "Daily rank IC",
    "ic_by_month": "Mean rank IC by month",
    "month": "Month",
    "horizon": "Horizon (sessions)",
    "quantile": "Score quantile (1 = lowest scores)",
    "mean_return": "Mean forward return",
    "std_err": "Standard error of the mean",
    "dates": "Dates",
    "top_minus_bottom": "Top minus bottom quintile return",
    "cumulative_spread": "Cumulative top minus bottom return",
    "annualized_spread": "Top minus bottom quintile return, annualized",
    "rank_autocorrelation": "Score rank autocorrelation (lag 1)",
}


def _check_horizon(horizon: int) -> None:
    if int(horizon) != horizon or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")


def quantile_returns_by_date(
    scores: pd.Series, returns: pd.Series, quantiles: int = QUINTILES, demeaned: bool = True
) -> pd.DataFrame:
    """Mean forward return of each score quantile per date (index: date, columns 1..quantiles).

    Buckets as `ml.metrics.quintile_returns`. With `demeaned` (alphalens' default, the long-short
    view), each return first loses the mean return of the date's scored names, so a bar shows a
    quintile against its universe rather than the market's move.
    """
    joined = pd.DataFrame({"score": scores, "ret": returns}).dropna()
    ret = joined["ret"]
    if demeaned:
        ret = ret - ret.groupby(level="date").transform("mean")
    return quintile_returns(joined["score"], ret, quantiles=quantiles)


def mean_by_quantile(by_date: pd.DataFrame, horizon: int = 1) -> pd.DataFrame:
    """Mean over dates of each quantile's return (`quantile_returns_by_date`), for the bars.

    Columns: `mean_return` (per `horizon` sessions, as the inputs), `std_err` (sample std over
    dates / sqrt(dates / horizon), the overlap correction of `ml.metrics.ic_summary`) and `dates`.
    alphalens' tear sheet further shows (1 + mean) ** (1 / h) - 1, a one-session rate.
    """
    _check_horizon(horizon)
    dates = by_date.count()
    frame = pd.DataFrame(
        {
            "mean_return": by_date.mean(),
            "std_err": by_date.std() / np.sqrt(dates / horizon),
            "dates": dates,
        }
    )
    frame.index.name = "quantile"
    return frame


def top_minus_bottom(by_date: pd.DataFrame) -> pd.Series:
    """Per date, the top quantile's mean return minus the bottom one's (long 1, short 1).

    The same with demeaned or raw `quantile_returns_by_date`: the date's mean cancels.
    """
    return (by_date[by_date.columns[-1]] - by_date[by_date.columns[0]]).rename("top_minus_bottom")


def cumulative_spread(spread: pd.Series, horizon: int = 1) -> pd.Series:
    """Cumulative return of holding the top-minus-bottom book, rebalanced every `horizon` dates.

    At horizon 1 this compounds every date's spread (alphalens' `cumulative_returns`, less 1).
    A longer spread overlaps the next date's, so compounding every date would count each session
    `horizon` times: only every `horizon`-th date (the first, the (h+1)-th, ...) is compounded, the
    one non-overlapping schedule `ml.metrics.long_only_sharpe` also samples; the series is indexed
    by those rebalancing dates.
    """
    _check_horizon(horizon)
    held = spread.dropna().sort_index().iloc[::horizon]
    return ((1 + held).cumprod() - 1).rename("cumulative_spread")


def annualized_spread(spread: pd.Series, horizon: int = 1, periods_per_year: int = 252) -> float:
    """Mean top-minus-bottom return per `horizon` sessions, times periods_per_year / horizon.

    Arithmetic, not compounded: a long-short spread has no capital base to compound on, and the
    mean over every date (overlapping or not) is unbiased. NaN without a spread.
    """
    _check_horizon(horizon)
    values = spread.dropna()
    return float(values.mean()) * periods_per_year / horizon if len(values) else NAN


def ic_table(ic: pd.Series, horizon: int = 1) -> dict[str, float]:
    """alphalens' IC table for a daily rank IC series of `horizon`-session returns.

    Mean, std, risk-adjusted IC, t-stat, p-value and hit rate from `ml.metrics.ic_summary` (the
    t-test with days / horizon effective observations); skew and excess kurtosis are scipy's
    biased estimators, as alphalens shows them. scipy.stats is imported here, when a table is due,
    not with the module (see `ml.metrics.t_test_pvalue`).
    """
    from scipy.stats import kurtosis, skew

    summary = ic_summary(ic, overlap=horizon)
    values = ic.dropna().to_numpy()
    return {
        "ic_mean": summary["mean"],
        "ic_std": summary["std"],
        "risk_adjusted_ic": summary["icir"],
        "ic_t_stat": summary["t_stat"],
        "ic_p_value": summary["p_value"],
        "ic_skew": float(skew(values)) if len(values) else NAN,
        "ic_kurtosis": float(kurtosis(values)) if len(values) else NAN,
        "ic_hit_rate": summary["hit_rate"],
        "ic_days": summary["days"],
    }


def ic_by_month(ic: pd.Series) -> pd.Series:
    """Mean daily IC in each calendar month (index: monthly periods; months without an IC absent)."""
    dates = pd.DatetimeIndex(ic.index)
    return ic.groupby(dates.to_period("M")).mean().rename_axis("month").rename("ic_by_month")


def ic_decay(
    scores: pd.Series,
    close: pd.DataFrame,
    open_: pd.DataFrame | None = None,
    execution: str = "same_close",
    horizons: tuple[int, ...] = DECAY_HORIZONS,
) -> pd.DataFrame:
    """`ic_table` of the rank IC against forward returns over each of `horizons` sessions.

    Index: horizon. Each horizon uses every date its returns exist on, so the shortest has the
    most dates (alphalens keeps only dates where every horizon's return exists).
    """
    tables = {
        h: ic_table(daily_ic(scores, _stacked(close, h, open_, execution)), horizon=h)
        for h in horizons
    }
    return pd.DataFrame.from_dict(tables, orient="index").rename_axis("horizon")


def rank_autocorrelation(scores: pd.Series, lag: int = 1) -> pd.Series:
    """Per date, the correlation across symbols of the score ranks with those `lag` dates before.

    alphalens' `factor_rank_autocorrelation`: ranks are taken among each date's scored names, then
    correlated over the names scored on both dates. Near 1, a slow signal that trades little; near
    0, one that reshuffles the book every date. The first `lag` dates are NaN.
    """
    ranks = scores.groupby(level="date").rank().unstack("symbol")
    return ranks.corrwith(ranks.shift(lag), axis=1).rename("rank_autocorrelation")


@dataclass(frozen=True)
class FactorTearSheet:
    """The numbers of one score series' factor tear sheet (keys and names: see `LABELS`)."""

    horizon: int
    execution: str
    quantiles: pd.DataFrame  # `mean_by_quantile` of demeaned returns
    spread: pd.Series  # `top_minus_bottom` per date
    cumulative_spread: pd.Series
    annualized_spread: float
    ic: pd.Series  # daily rank IC at `horizon`
    ic_table: dict[str, float]
    ic_by_month: pd.Series
    ic_decay: pd.DataFrame
    rank_autocorrelation: pd.Series


def factor_tear_sheet(
    scores: pd.Series,
    close: pd.DataFrame,
    horizon: int = 1,
    open_: pd.DataFrame | None = None,
    execution: str = "same_close",
    quantiles: int = QUINTILES,
    decay_horizons: tuple[int, ...] = DECAY_HORIZONS,
) -> FactorTearSheet:
    """Every tear-sheet figure of `scores` against returns over `horizon` sessions from the
    `execution` fill (next_open without opens is next_close, as the sheet's `execution` records)."""
    execution = effective_execution(execution, open_)
    returns = _stacked(close, horizon, open_, execution)
    by_date = quantile_returns_by_date(scores, returns, quantiles)
    spread = top_minus_bottom(by_date)
    ic = daily_ic(scores, returns)
    return FactorTearSheet(
        horizon=horizon,
        execution=execution,
        quantiles=mean_by_quantile(by_date, horizon),
        spread=spread,
        cumulative_spread=cumulative_spread(spread, horizon),
        annualized_spread=annualized_spread(spread, horizon),
        ic=ic,
        ic_table=ic_table(ic, horizon),
        ic_by_month=ic_by_month(ic),
        ic_decay=ic_decay(scores, close, open_, execution, decay_horizons),
        rank_autocorrelation=rank_autocorrelation(scores),
    )


def factor_summary_row(
    scores: pd.Series, returns: pd.Series, horizon: int, quantiles: int = QUINTILES
) -> dict[str, float]:
    """A candidate's compact row: `ic_mean`, `ic_t_stat` (days / horizon effective observations),
    `annualized_spread` and the mean `rank_autocorrelation`, from its scores and the forward
    returns over `horizon` sessions aligned to them (as `ml.dataset.Dataset.forward_returns`)."""
    summary = ic_summary(daily_ic(scores, returns), overlap=horizon)
    by_date = quantile_returns_by_date(scores, returns, quantiles)
    return {
        "ic_mean": summary["mean"],
        "ic_t_stat": summary["t_stat"],
        "annualized_spread": annualized_spread(top_minus_bottom(by_date), horizon),
        "rank_autocorrelation": float(rank_autocorrelation(scores).mean()),
    }


def _stacked(
    close: pd.DataFrame, horizon: int, open_: pd.DataFrame | None, execution: str
) -> pd.Series:
    """Forward returns over `horizon` sessions as a (date, symbol) Series, unlabeled rows dropped."""
    forward = forward_returns(close, horizon, open_=open_, execution=execution)
    return stack_labels(forward).rename("forward_return")
