"""Charts of a factor tear sheet, returned as PNG bytes: two figures of several panels each.

Implements:

- `returns_chart`: what the scores' quintiles earned. Left, the mean forward return of each score
  quintile over the dates, demeaned by the date's universe, with one standard error either side;
  right, the compounded top-minus-bottom quintile return over the period.
- `rank_ic_chart`: how well the scores ranked the returns that followed. The mean rank IC of each
  calendar month; the distribution of the daily rank IC with its mean and t-statistic; the mean
  rank IC at horizons of 1, 5, 10 and 20 sessions (the decay), each bar labelled with its
  t-statistic and the report's horizon darker; and the day-to-day rank autocorrelation of the
  scores (near 1: a slow signal that trades little).

Both read a `trading_core.performance.factor.FactorTearSheet` and compute nothing themselves;
every title and axis is worded with `factor.LABELS`. Sizes are fixed (`RETURNS_SIZE`,
`RANK_IC_SIZE` at `chart_style.DPI`: 800 x 300 and 800 x 580 pixels), margins are set in inches and the
PNG has no metadata, so the same sheet gives the same bytes. A panel with nothing to draw says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trading_core.performance.factor import LABELS, FactorTearSheet
from trading_core.reporting.chart_style import (
    INK,
    MUTED,
    NEGATIVE,
    POSITIVE,
    TARGET,
    WIDTH_IN,
    Margins,
    date_axis,
    date_numbers,
    figure,
    margins,
    png,
    style,
)
from trading_core.reporting.formatting import fixed
from trading_core.reporting.plots import clean_series

MARGINS = Margins(left=0.75, right=0.2, bottom=0.6, top=0.35)  # inches

RETURNS_SIZE = (WIDTH_IN, 3.0)
RANK_IC_SIZE = (WIDTH_IN, 5.8)
HISTOGRAM_BINS = 30
CAPTION_PAD = 13  # points below the tick labels
_LIGHT = "#9ab7ef"  # decay bars other than the report's horizon


def returns_chart(sheet: FactorTearSheet) -> bytes:
    """Mean forward return by score quintile (bars) beside the cumulative top-minus-bottom return."""
    fig = figure(RETURNS_SIZE)
    bars, spread = fig.subplots(1, 2, width_ratios=[1.0, 1.35])
    _quintile_bars(bars, sheet)
    _cumulative_spread(spread, sheet)
    margins(fig, MARGINS, hspace=0.0, wspace=0.32)
    return png(fig)


def rank_ic_chart(sheet: FactorTearSheet) -> bytes:
    """Rank IC by month, its distribution, its decay over horizons and the rank autocorrelation."""
    fig = figure(RANK_IC_SIZE)
    (monthly, histogram), (decay, autocorrelation) = fig.subplots(2, 2)
    _ic_by_month(monthly, sheet.ic_by_month)
    _ic_histogram(histogram, sheet)
    _ic_decay(decay, sheet)
    _rank_autocorrelation(autocorrelation, sheet.rank_autocorrelation)
    margins(fig, MARGINS, hspace=0.55, wspace=0.28)
    return png(fig)


def _quintile_bars(ax, sheet: FactorTearSheet) -> None:
    frame = sheet.quantiles.dropna(subset=["mean_return"])
    title = "Mean forward return by score quintile"
    if frame.empty:
        return _nothing(ax, title, "no quintile had a return")
    means = frame["mean_return"].to_numpy() * 100
    errors = np.nan_to_num(frame["std_err"].to_numpy() * 100)
    colors = np.where(means >= 0, POSITIVE, NEGATIVE)
    x = frame.index.to_numpy()
    ax.bar(x, means, width=0.65, color=colors, alpha=0.8, linewidth=0)
    ax.errorbar(x, means, yerr=errors, fmt="none", ecolor=INK, elinewidth=0.9, capsize=3)
    ax.axhline(0, color=INK, linewidth=0.6)
    ax.set_xticks(x, labels=[str(q) for q in x])
    ax.set_ylabel(f"% over {sheet.horizon} sessions, vs the day's mean", fontsize=8, color=MUTED)
    style(ax, title)
    _caption(ax, f"{LABELS['quantile']}; whiskers: 1 standard error")


def _cumulative_spread(ax, sheet: FactorTearSheet) -> None:
    values = clean_series(sheet.cumulative_spread)
    title = LABELS["cumulative_spread"]
    if values.empty:
        return _nothing(ax, title, "no top-minus-bottom return")
    x = date_numbers(values.index)
    y = values.to_numpy() * 100
    ax.plot(x, y, color=TARGET, linewidth=1.4)
    ax.fill_between(x, y, 0.0, color=TARGET, alpha=0.12, linewidth=0)
    ax.axhline(0, color=INK, linewidth=0.6)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylabel("% (long top, short bottom quintile)", fontsize=8, color=MUTED)
    date_axis(ax, minticks=3)
    style(ax, title)
    every = "every session" if sheet.horizon == 1 else f"every {sheet.horizon} sessions"
    _caption(ax, f"rebalanced {every}; {sheet.annualized_spread:+.1%} a year on average")


def _ic_by_month(ax, monthly: pd.Series) -> None:
    values = monthly.dropna()
    title = LABELS["ic_by_month"]
    if values.empty:
        return _nothing(ax, title, "no month had a rank IC")
    starts = pd.PeriodIndex(values.index, freq="M").to_timestamp()
    x = date_numbers(starts) + 14  # the middle of each month
    y = values.to_numpy()
    ax.bar(x, y, width=24, color=np.where(y >= 0, POSITIVE, NEGATIVE), alpha=0.8, linewidth=0)
    ax.axhline(0, color=INK, linewidth=0.6)
    ax.set_xlim(x[0] - 20, x[-1] + 20)
    date_axis(ax, minticks=3)
    style(ax, title)


def _ic_histogram(ax, sheet: FactorTearSheet) -> None:
    values = sheet.ic.dropna().to_numpy()
    title = f"{LABELS['rank_ic']}: distribution"
    if len(values) == 0:
        return _nothing(ax, title, "no day had a rank IC")
    mean, t_stat = sheet.ic_table["ic_mean"], sheet.ic_table["ic_t_stat"]
    ax.hist(values, bins=HISTOGRAM_BINS, color=TARGET, alpha=0.55, linewidth=0)
    ax.axvline(0, color=INK, linewidth=0.6)
    ax.axvline(mean, color=INK, linewidth=1.4, linestyle="--")
    ax.set_ylabel(LABELS["dates"], fontsize=8, color=MUTED)
    style(ax, title)
    _caption(ax, f"dashed: mean {mean:+.3f}, t-statistic {fixed(t_stat, 2)}, {len(values)} days")


def _ic_decay(ax, sheet: FactorTearSheet) -> None:
    decay = sheet.ic_decay.dropna(subset=["ic_mean"])
    title = f"{LABELS['ic_mean']} by horizon"
    if decay.empty:
        return _nothing(ax, title, "no horizon had a rank IC")
    horizons = decay.index.to_numpy()
    means = decay["ic_mean"].to_numpy()
    x = np.arange(len(horizons))
    colors = [TARGET if h == sheet.horizon else _LIGHT for h in horizons]
    ax.bar(x, means, width=0.6, color=colors, linewidth=0)
    ax.axhline(0, color=INK, linewidth=0.6)
    for xi, mean, t_stat in zip(x, means, decay["ic_t_stat"].to_numpy(), strict=True):
        ax.annotate(
            f"t {fixed(t_stat, 1)}",
            (xi, mean),
            xytext=(0, 2 if mean >= 0 else -2),
            textcoords="offset points",
            ha="center",
            va="bottom" if mean >= 0 else "top",
            fontsize=7,
            color=INK,
        )
    low, high = min(0.0, float(means.min())), max(0.0, float(means.max()))
    pad = (high - low) * 0.18 or 0.01
    ax.set_ylim(low - (pad if low < 0 else 0), high + pad)
    ax.set_xticks(x, labels=[str(h) for h in horizons])
    style(ax, title)
    _caption(ax, f"{LABELS['horizon']}; the report's horizon darker")


def _rank_autocorrelation(ax, autocorrelation: pd.Series) -> None:
    values = clean_series(autocorrelation)
    title = LABELS["rank_autocorrelation"]
    if values.empty:
        return _nothing(ax, title, "fewer than two scored dates")
    x = date_numbers(values.index)
    mean = float(values.mean())
    ax.plot(x, values.to_numpy(), color=TARGET, linewidth=1.1)
    ax.axhline(mean, color=INK, linewidth=0.9, linestyle="--")
    ax.set_ylim(min(0.0, float(values.min()) - 0.05), 1.05)
    ax.set_xlim(x[0], x[-1])
    date_axis(ax, minticks=3)
    style(ax, title)
    _caption(ax, f"dashed: mean {mean:.2f}")


def _caption(ax, text: str) -> None:
    """What the panel shows, in words, under its x axis (where it never covers the data) and
    low enough to clear the year a date axis may print at its right end."""
    ax.set_xlabel(text, fontsize=8, color=MUTED, labelpad=CAPTION_PAD)


def _nothing(ax, title: str, why: str) -> None:
    """An empty panel that says why it is empty."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, f"Nothing to draw: {why}", ha="center", va="center", color=MUTED)
    style(ax, title)
