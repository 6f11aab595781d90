"""Information coefficients: how well scores rank the cross-section of forward returns.

IC is the Pearson correlation of scores and realized labels across symbols on one date; rank IC
(the figure qlib reports) is the Spearman correlation. Summaries average the daily values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def daily_ic(
    scores: pd.Series, labels: pd.Series, rank: bool = True, min_names: int = 5
) -> pd.Series:
    """Per-date (rank) correlation of `scores` and `labels`, both indexed by (date, symbol).

    Dates with fewer than `min_names` scored and labeled symbols are left out.
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


def ic_summary(ic: pd.Series) -> dict[str, float]:
    """Mean, standard deviation, information ratio (mean/std) and t-statistic of a daily IC series."""
    n = int(ic.count())
    mean = float(ic.mean()) if n else float("nan")
    std = float(ic.std()) if n > 1 else float("nan")
    icir = mean / std if n > 1 and std > 0 else float("nan")
    return {"mean": mean, "std": std, "icir": icir, "t_stat": icir * np.sqrt(n), "days": n}
