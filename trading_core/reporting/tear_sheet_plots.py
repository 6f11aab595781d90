"""The paper account's tear-sheet figures, returned as PNG bytes.

Three figures of several panels each (every PNG costs a render and an encode, so a few figures
with many panels are cheaper than many figures):

- `growth_chart`: cumulative return of the account and the benchmark, on a log axis once the
  highest growth is more than `LOG_RANGE` times the lowest (where equal moves in percent would
  otherwise look unequal), above the account's drawdown from its peak with the worst drawdown
  periods shaded and numbered as in the report's table.
- `rolling_chart`: six-month rolling Sharpe ratio and volatility of both sides, and the account's
  beta on the benchmark.
- `calendar_chart`: monthly returns as a heatmap (years x months, the value printed in each
  cell), yearly returns as bars beside the benchmark's, and the histogram of daily returns.

Inputs are daily simple returns indexed by session date (`benchmark`: the benchmark's on the same
sessions, or None, which leaves out its lines and the beta panel); every number drawn comes from
`trading_core.performance`. The caller draws a figure only once
`performance.statistics.enough_history` says it has the sessions it needs. As every chart drawn
with `chart_style`, figures are explicit Agg `Figure` objects with fixed margins (no tight_layout)
and PNGs without metadata: the same input gives the same bytes, and matplotlib is imported on the
first draw. Each panel is named by a small title above it rather than a y-axis label, which costs
a measure of every shared axis's tick labels at each draw.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trading_core.performance import drawdowns, periods, rolling
from trading_core.reporting.chart_style import (
    WIDTH_IN,
    Margins,
    date_axis,
    date_numbers,
    figure,
    legend_above,
    margins,
    percent_axis,
    percent_tick,
    png,
    style,
)

LOG_RANGE = 2.0  # highest over lowest growth of 1 beyond which the growth axis is logarithmic
HISTOGRAM_BINS = (10, 50)  # fewest and most bins: 2 sqrt(sessions) in between
MIN_YEAR_SLOTS = 4  # the yearly bars are drawn at most as wide as with four years
MAX_FLAT_YEARS = 8  # beyond this many years the year labels are turned upright
ACCOUNT = "#2f6fde"
BENCHMARK = "#7b8794"
NEGATIVE = "#c62828"
INK = "#1f2933"
PANEL_FONT = 9
ROLLING_MONTHS = rolling.WINDOW // 21  # the rolling window in months, as the titles name it
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MARGINS = Margins(left=0.7, right=0.2, bottom=0.45, top=0.45)  # inches


def growth_chart(
    returns: pd.Series, benchmark: pd.Series | None, worst: pd.DataFrame | None = None
) -> bytes:
    """Cumulative return vs the benchmark (top) and the account's drawdown from its peak (bottom).

    `worst` is `drawdowns.worst_drawdowns(returns)`: each period is shaded on the drawdown panel
    from its peak to its recovery (or the last session) and numbered by rank under its trough.
    """
    fig = figure((WIDTH_IN, 4.8))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2.0, 1.0])
    sides = _sides(returns, benchmark)
    growth = {name: (1 + r.dropna()).cumprod() for name, (r, _) in sides.items()}
    for name, (_, color) in sides.items():
        _line(top, growth[name], color, name, width=1.5 if name == "account" else 1.1)
    top.axhline(1.0, color=INK, linewidth=0.6)
    log = max(g.max() for g in growth.values()) / min(g.min() for g in growth.values()) > LOG_RANGE
    _growth_axis(top, log)
    versus = " vs the benchmark" if benchmark is not None else ""
    style(top, f"Cumulative return{versus}" + (" (log scale)" if log else ""))
    if benchmark is not None:
        legend_above(top, ncols=2)

    under = drawdowns.underwater(returns) * 100
    x = date_numbers(under.index)
    bottom.fill_between(x, under.to_numpy(), 0.0, color=NEGATIVE, alpha=0.25, linewidth=0)
    bottom.plot(x, under.to_numpy(), color=NEGATIVE, linewidth=1.0)
    bottom.set_ylim(min(-0.5, float(under.min()) * 1.3), 0.0)
    if worst is not None:
        _number_drawdowns(bottom, worst, under.index[-1])
    percent_axis(bottom)
    style(bottom, "Drawdown from the peak (worst periods shaded, numbered by depth)", PANEL_FONT)
    pad = max((x[-1] - x[0]) * 0.01, 1.0)  # a day at least: a few sessions get daily ticks
    bottom.set_xlim(x[0] - pad, x[-1] + pad)
    date_axis(bottom, minticks=3)
    margins(fig, MARGINS, hspace=0.22, wspace=0.2)
    return png(fig)


def rolling_chart(returns: pd.Series, benchmark: pd.Series | None) -> bytes:
    """Rolling six-month Sharpe ratio and volatility of both sides, and the account's beta."""
    panels = 2 if benchmark is None else 3
    fig = figure((WIDTH_IN, 1.55 * panels + 0.9))
    axes = fig.subplots(panels, 1, sharex=True)
    sides = _sides(returns, benchmark)
    for name, (r, color) in sides.items():
        _line(axes[0], rolling.rolling_sharpe(r), color, name)
        _line(axes[1], rolling.rolling_volatility(r) * 100, color, name)
    axes[0].axhline(0.0, color=INK, linewidth=0.6)
    percent_axis(axes[1])
    months = ROLLING_MONTHS
    style(axes[0], f"Rolling {months}-month Sharpe ratio ({rolling.WINDOW} sessions)")
    style(axes[1], f"Rolling {months}-month volatility (annualized)", PANEL_FONT)
    if benchmark is not None:
        _line(axes[2], rolling.rolling_beta(returns, benchmark), ACCOUNT, "account")
        axes[2].axhline(1.0, color=BENCHMARK, linewidth=0.8, linestyle=":")
        style(axes[2], f"Rolling {months}-month beta of the account on the benchmark", PANEL_FONT)
        legend_above(axes[0], ncols=2)
    date_axis(axes[-1], minticks=3)
    margins(fig, MARGINS, hspace=0.35, wspace=0.2)
    return png(fig)


def calendar_chart(returns: pd.Series, benchmark: pd.Series | None) -> bytes:
    """Monthly-returns heatmap across the top; yearly returns and the daily histogram below."""
    monthly = periods.monthly_returns(returns)
    heat_in, below_in, gap_in = 0.3 * len(monthly) + 0.3, 2.2, 0.7  # a row of cells per year
    margins_in = MARGINS.top + MARGINS.bottom
    fig = figure((WIDTH_IN, heat_in + gap_in + below_in + margins_in))
    grid = fig.add_gridspec(2, 2, height_ratios=[heat_in, below_in])
    sides = _sides(returns, benchmark)
    _heatmap(fig.add_subplot(grid[0, :]), monthly)
    _yearly(fig.add_subplot(grid[1, 0]), sides)
    _histogram(fig.add_subplot(grid[1, 1]), sides)
    margins(
        fig, MARGINS, hspace=gap_in / ((heat_in + below_in) / 2), wspace=0.22
    )  # of the mean height
    return png(fig)


def _sides(returns: pd.Series, benchmark: pd.Series | None) -> dict[str, tuple[pd.Series, str]]:
    """The account's returns and colour, then the benchmark's when there is one."""
    sides = {"account": (returns, ACCOUNT)}
    if benchmark is not None:
        sides["benchmark"] = (benchmark, BENCHMARK)
    return sides


def _growth_axis(ax, log: bool) -> None:
    """Growth of 1 labelled as cumulative return ("+20%"), on a log axis when `log`."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    if log:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
        ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: percent_tick((v - 1) * 100, "+")))


def _number_drawdowns(ax, worst: pd.DataFrame, last: pd.Timestamp) -> None:
    """Shade each worst period from peak to recovery (or `last`); its rank under its trough."""
    for rank, period in worst.iterrows():
        end = period["recovery"] if pd.notna(period["recovery"]) else last
        start, stop, trough = date_numbers(
            pd.DatetimeIndex([period["peak"], end, period["trough"]])
        )
        ax.axvspan(start, stop, color=NEGATIVE, alpha=0.07, linewidth=0)
        ax.annotate(
            str(rank),
            (trough, period["depth"] * 100),
            xytext=(0, -8),
            textcoords="offset points",
            ha="center",
            va="center",
            fontsize=7,
            color=NEGATIVE,
        )


def _heatmap(ax, monthly: pd.DataFrame) -> None:
    """Years x months coloured red to green around 0, each return printed in its cell (%)."""
    import matplotlib

    values = monthly.to_numpy("float64") * 100
    finite = np.abs(values[np.isfinite(values)])
    limit = max(1.0, float(finite.max())) if len(finite) else 1.0
    cmap = matplotlib.colormaps["RdYlGn"].with_extremes(bad="#f5f7fa")
    ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=-limit, vmax=limit, aspect="auto")
    for (row, column), value in np.ndenumerate(values):
        if np.isfinite(value):
            strong = abs(value) > 0.6 * limit  # dark cells take white text
            ax.text(
                column,
                row,
                f"{value:+.1f}" if round(value, 1) else "0.0",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if strong else INK,
            )
    ax.set_xticks(range(12), labels=MONTHS)
    ax.set_yticks(range(len(monthly)), labels=[str(year) for year in monthly.index])
    ax.tick_params(length=0)
    style(ax, "Monthly returns (%)")
    for spine in ax.spines.values():
        spine.set_visible(False)


def _yearly(ax, sides: dict[str, tuple[pd.Series, str]]) -> None:
    """Bars of each calendar year's compounded return, the benchmark's beside the account's."""
    yearly = {name: (periods.yearly_returns(r), color) for name, (r, color) in sides.items()}
    years = yearly["account"][0].index
    width = 0.8 / len(yearly)
    for i, (name, (values, color)) in enumerate(yearly.items()):
        offset = (i - (len(yearly) - 1) / 2) * width
        ax.bar(
            np.arange(len(years)) + offset,
            values.reindex(years).to_numpy() * 100,
            width,
            color=color,
            label=name,
        )
    ax.axhline(0.0, color=INK, linewidth=0.6)
    crowded = len(years) > MAX_FLAT_YEARS
    ax.set_xticks(range(len(years)), labels=[str(y) for y in years], rotation=90 * crowded)
    spare = max(0.0, (MIN_YEAR_SLOTS - len(years)) / 2)  # one year is a bar, not a wall
    ax.set_xlim(-0.5 - spare, len(years) - 0.5 + spare)
    percent_axis(ax)
    style(ax, "Yearly returns", PANEL_FONT + 1)
    if len(yearly) > 1:
        legend_above(ax, ncols=2)


def _histogram(ax, sides: dict[str, tuple[pd.Series, str]]) -> None:
    """Sessions by daily return: the account as bars, the benchmark as an outline, same bins."""
    from matplotlib.ticker import FuncFormatter

    values = {name: r.dropna().to_numpy("float64") * 100 for name, (r, _) in sides.items()}
    both = np.concatenate(list(values.values()))
    count = int(np.clip(2 * np.sqrt(len(values["account"])), *HISTOGRAM_BINS))
    bins = np.histogram_bin_edges(both, bins=count)
    # one step patch per side: ax.hist would add a patch per bin, each drawn on its own
    counts = {name: np.histogram(v, bins=bins)[0] for name, v in values.items()}
    ax.stairs(counts["account"], bins, fill=True, color=ACCOUNT, alpha=0.75, label="account")
    if "benchmark" in counts:
        ax.stairs(counts["benchmark"], bins, color=INK, linewidth=0.9, label="benchmark")
        ax.legend(fontsize=8, frameon=False, loc="best")  # where the bars leave room
    ax.axvline(0.0, color=INK, linewidth=0.6)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}%"))
    style(ax, "Sessions by daily return", PANEL_FONT + 1)


def _line(ax, series: pd.Series, color: str, label: str, width: float = 1.2) -> None:
    """The defined part of a dated series as a line."""
    values = series.dropna()
    ax.plot(
        date_numbers(values.index), values.to_numpy(), color=color, linewidth=width, label=label
    )
