"""Out-of-sample quality of scores: information coefficients, quantile returns and Sharpe.

Scores, labels and returns are Series indexed by a (date, symbol) MultiIndex whose levels are
named "date" and "symbol". A label or forward return at date t is the outcome over the `horizon`
sessions after t, so it is known only `horizon` sessions later.

- `daily_ic`: per-date IC, the Pearson correlation of scores and labels across symbols, or rank
  IC (the figure qlib reports), the Spearman correlation.
- `ic_summary`: mean, dispersion, t-statistic, p-value and hit rate of a daily IC series, with an
  effective-sample-size correction for overlapping labels.
- `t_test_pvalue`: the two-sided Student t p-value those tests report.
- `quintile_returns`: mean forward return per date of each score quantile (1 = lowest score).
- `long_only_sharpe`: annualized Sharpe of a daily series of overlapping `horizon`-session
  returns, from non-overlapping samples.
- `evaluate_predictions`: the per-candidate out-of-sample metrics row (plain floats).

Functions are vectorized over dates and symbols and return NaN where a figure is undefined.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NAN = float("nan")

QUINTILES = 5
MIN_NAMES = 5  # a daily IC needs this many scored and labeled names on the date


def daily_ic(
    scores: pd.Series, labels: pd.Series, rank: bool = True, min_names: int = MIN_NAMES
) -> pd.Series:
    """Per-date (rank) correlation of `scores` and `labels`, both indexed by (date, symbol).

    Dates with fewer than `min_names` scored and labeled symbols are left out, as are dates where
    either side is constant (the correlation is undefined).
    """
    joined = pd.DataFrame({"score": scores, "label": labels}).dropna()
    if rank:
        joined = joined.groupby(level="date").rank()
    grouped = joined.groupby(level="date")
    counts = grouped.size()
    demeaned = joined - grouped.transform("mean")
    cov = (demeaned["score"] * demeaned["label"]).groupby(level="date").sum()
    var_s = (demeaned["score"] ** 2).groupby(level="date").sum()
    var_l = (demeaned["label"] ** 2).groupby(level="date").sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        ic = cov / np.sqrt(var_s * var_l)
    ic = ic[counts >= min_names].replace([np.inf, -np.inf], np.nan).dropna()
    return ic.rename("rank_ic" if rank else "ic")


def ic_summary(ic: pd.Series, overlap: int = 1) -> dict[str, float]:
    """Summary statistics of a daily IC series.

    Keys: `mean`, `std` (sample, ddof=1), `icir` (mean / std, per day, not annualized),
    `t_stat`, `p_value` (two-sided, Student t), `hit_rate` (share of days with IC > 0) and
    `days` (number of non-NaN days, an int).

    Labels over `h` > 1 sessions overlap from one day to the next, so consecutive daily ICs are
    autocorrelated and the plain t-statistic, icir * sqrt(days), overstates the evidence. With
    `overlap` = h the test uses the effective sample size n_eff = days / h, as if only every h-th
    day were an independent observation: t_stat = icir * sqrt(days / h) with n_eff - 1 degrees
    of freedom (days - 1 when `overlap` is 1). This is a rough correction, not a HAC estimate;
    mean, std, icir and hit_rate do not depend on `overlap`. `p_value` is NaN when n_eff <= 1.
    """
    if int(overlap) != overlap or overlap < 1:
        raise ValueError(f"overlap must be a positive integer, got {overlap!r}")
    values = ic.dropna()
    n = len(values)
    mean = float(values.mean()) if n else NAN
    std = float(values.std()) if n > 1 else NAN
    icir = mean / std if n > 1 and std > 0 else NAN
    n_eff = n / overlap
    t_stat = icir * float(np.sqrt(n_eff))
    dof = n_eff - 1
    p_value = t_test_pvalue(t_stat, dof) if dof > 0 and np.isfinite(t_stat) else NAN
    hit_rate = float((values > 0).mean()) if n else NAN
    return {
        "mean": mean,
        "std": std,
        "icir": icir,
        "t_stat": t_stat,
        "p_value": p_value,
        "hit_rate": hit_rate,
        "days": n,
    }


def t_test_pvalue(t_stat: float, dof: float) -> float:
    """Two-sided p-value of a Student t statistic with `dof` (> 0, not necessarily whole) degrees
    of freedom: 2 * scipy.stats.t.sf(|t|, dof), the same figure from the one function it calls.

    scipy.special is imported here, when a p-value is due, not with the module: scipy.stats would
    cost every command that imports the metrics (the daily run among them) 1.5-2 s of start-up.
    """
    from scipy.special import stdtr

    return float(2 * stdtr(dof, -abs(t_stat)))


def quintile_returns(
    scores: pd.Series, returns: pd.Series, quantiles: int = QUINTILES
) -> pd.DataFrame:
    """Mean of `returns` per date within each score quantile (index: date, columns 1..quantiles).

    On each date, the symbols with both a score and a return are ranked by score (ties share
    their average rank) and symbol i goes to quantile ceil(rank_i * quantiles / n), where n is
    that date's count: 1 holds the lowest scores, `quantiles` the highest. This works for any
    universe size; with fewer than `quantiles` names some middle buckets stay empty (NaN), while
    the top bucket always holds the best-scored name. Units are those of `returns`.
    """
    if int(quantiles) != quantiles or quantiles < 1:
        raise ValueError(f"quantiles must be a positive integer, got {quantiles!r}")
    joined = pd.DataFrame({"score": scores, "ret": returns}).dropna()
    by_date = joined["score"].groupby(level="date")
    rank = by_date.rank(method="average")
    count = by_date.transform("count")
    # rank * quantiles is exact (ranks are whole or half numbers), so the division lands exactly
    # on bucket edges and ceil does not spill into the next bucket
    bucket = np.ceil(rank * quantiles / count).astype(int).rename("quantile")
    dates = joined.index.get_level_values("date")
    means = joined["ret"].groupby([dates, bucket.to_numpy()]).mean()
    frame = means.unstack().reindex(columns=range(1, quantiles + 1))
    frame.index.name = "date"
    frame.columns.name = "quantile"
    return frame


def long_only_sharpe(period_returns: pd.Series, horizon: int, periods_per_year: int = 252) -> float:
    """Annualized Sharpe ratio of a daily series of `horizon`-session forward returns.

    `period_returns` holds, for each date t, the return of a portfolio formed at t and held for
    `horizon` sessions, so neighbouring values overlap. After dropping NaNs and sorting by date,
    only every `horizon`-th value is used (the first, the (h+1)-th, ...), which are the returns
    of one non-overlapping rebalancing schedule. Their mean over their sample standard deviation
    is annualized with sqrt(periods_per_year / horizon). No risk-free rate is subtracted.
    NaN when fewer than 2 samples remain or their standard deviation is zero.
    """
    if int(horizon) != horizon or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    samples = period_returns.dropna().sort_index().iloc[::horizon]
    if len(samples) < 2:
        return NAN
    std = float(samples.std())
    if not std > 0:
        return NAN
    return float(samples.mean()) / std * float(np.sqrt(periods_per_year / horizon))


def evaluate_predictions(
    scores: pd.Series, labels: pd.Series, forward_returns: pd.Series, horizon: int
) -> dict[str, float]:
    """Out-of-sample metrics of one candidate's scores, as plain floats (NaN where undefined).

    `labels` is the training target (possibly an excess return) and `forward_returns` the raw
    return over the `horizon` sessions after each date; all three are indexed by (date, symbol).

    - `ic`, `icir`: mean and mean/std of the daily Pearson IC against `labels`.
    - `rank_ic`, `rank_icir`: the same for the daily Spearman (rank) IC.
    - `rank_ic_t_stat`, `rank_ic_p_value`: t-test of the mean rank IC, with the effective sample
      size days / `horizon` (see `ic_summary`).
    - `hit_rate`: share of days with rank IC > 0.
    - `q1_return` .. `q5_return`: mean over dates of the quintile's mean forward return
      (`forward_returns`, per `horizon` sessions, not annualized); q5 holds the highest scores.
    - `top_minus_bottom`: q5_return - q1_return.
    - `top_quintile_sharpe`: `long_only_sharpe` of the daily q5 series.
    - `days`: number of dates with a rank IC.
    """
    rank = ic_summary(daily_ic(scores, labels, rank=True), overlap=horizon)
    pearson = ic_summary(daily_ic(scores, labels, rank=False), overlap=horizon)
    buckets = quintile_returns(scores, forward_returns, quantiles=QUINTILES)
    bucket_means = {q: float(buckets[q].mean()) for q in range(1, QUINTILES + 1)}
    return {
        "ic": pearson["mean"],
        "rank_ic": rank["mean"],
        "icir": pearson["icir"],
        "rank_icir": rank["icir"],
        "rank_ic_t_stat": rank["t_stat"],
        "rank_ic_p_value": rank["p_value"],
        "hit_rate": rank["hit_rate"],
        **{f"q{q}_return": mean for q, mean in bucket_means.items()},
        "top_minus_bottom": bucket_means[QUINTILES] - bucket_means[1],
        "top_quintile_sharpe": long_only_sharpe(buckets[QUINTILES], horizon),
        "days": float(rank["days"]),
    }
