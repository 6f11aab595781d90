"""Charts of the champion selection, returned as PNG bytes.

Implements:

- `equity_curves_chart`: the equity of several backtests (the top combinations by score) and the
  equal-weight baseline, each normalized to 1 at their common first date, above a panel of their
  drawdowns from the running peak (shared x axis).
- `champion_chart`: one combination's equity against the equal-weight baseline, same layout.

Inputs are daily equity Series indexed by date (non-finite values are dropped); the caller picks
which curves to show, so this module knows nothing of grids or scores. The figure size is fixed
(`EQUITY_SIZE`, `CHAMPION_SIZE` at `chart_style.DPI`: 800 x 500 and 800 x 420 pixels) and the PNG has
no software or time metadata, so the same input gives the same bytes. With no curve to draw the
chart still renders, saying so, so a report's figure link never dangles.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from trading_core.reporting.chart_style import (
    WIDTH_IN,
    date_axis,
    date_numbers,
    figure,
    label,
    png,
    style,
    two_panels_png,
)
from trading_core.reporting.plots import clean_series

EQUITY_SIZE = (WIDTH_IN, 5.0)
CHAMPION_SIZE = (WIDTH_IN, 4.2)
LABEL_WIDTH = 40
COLORS = ("#2f6fde", "#e8710a", "#2e7d32", "#9334e6", "#c62828", "#00838f", "#795548")
BASELINE_COLOR = "#52606d"
BASELINE_LABEL = "equal-weight baseline"


def equity_curves_chart(
    curves: Mapping[str, pd.Series],
    baseline: pd.Series | None,
    title: str = "Top combinations by score vs the equal-weight baseline",
) -> bytes:
    """Each curve (in the given order) and the dashed baseline, growth of 1 and drawdown (%)."""
    return _equity_figure(curves, baseline, title, EQUITY_SIZE)


def champion_chart(
    name: str,
    equity: pd.Series | None,
    baseline: pd.Series | None,
    title: str,
) -> bytes:
    """One combination's equity (labelled `name`) against the dashed baseline, with drawdowns."""
    curves = {} if equity is None else {name: equity}
    return _equity_figure(curves, baseline, title, CHAMPION_SIZE)


def normalize_to_common_start(series: Mapping[str, pd.Series]) -> dict[str, pd.Series]:
    """Each series from the latest first date among them, divided by its value on that date.

    Series with no finite value, or none on or after the common start, are left out.
    """
    cleaned = {name: clean_series(s) for name, s in series.items()}
    cleaned = {name: s for name, s in cleaned.items() if not s.empty}
    if not cleaned:
        return {}
    start = max(s.index[0] for s in cleaned.values())
    out = {}
    for name, s in cleaned.items():
        part = s.loc[start:]
        if not part.empty and part.iloc[0] != 0:
            out[name] = part / part.iloc[0]
    return out


def _equity_figure(
    curves: Mapping[str, pd.Series],
    baseline: pd.Series | None,
    title: str,
    size: tuple[float, float],
) -> bytes:
    """Equity (top) and drawdown (bottom) panels; the baseline is the last, dashed line."""
    title = title.replace("$", r"\$")  # a model name must not start math mode
    named = dict(curves)
    if baseline is not None:
        named[BASELINE_LABEL] = baseline  # a curve of the same name is replaced: keep it last
    lines = normalize_to_common_start(named)
    fig = figure(size)
    from matplotlib.ticker import FuncFormatter

    if not lines:
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.text(0.5, 0.5, "No equity curve to draw", ha="center", va="center", color=BASELINE_COLOR)
        style(ax, title)
        return png(fig)

    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2.4, 1.0])
    deepest = 0.0
    colors = iter(COLORS * (len(lines) // len(COLORS) + 1))
    for name, values in lines.items():
        is_baseline = baseline is not None and name == BASELINE_LABEL
        line_style = {
            "color": BASELINE_COLOR if is_baseline else next(colors),
            "linewidth": 1.3 if is_baseline else 1.2,
            "linestyle": "--" if is_baseline else "-",
            "zorder": 3 if is_baseline else 2,
        }
        x = date_numbers(values.index)
        drawdown = (values / values.cummax() - 1.0).to_numpy() * 100
        deepest = min(deepest, float(drawdown.min()))
        top.plot(x, values.to_numpy(), label=label(name, LABEL_WIDTH), **line_style)
        bottom.plot(x, drawdown, **line_style)
        if len(lines) == 2 and not is_baseline:  # one combination: shade its drawdown
            bottom.fill_between(
                x, drawdown, 0.0, color=line_style["color"], alpha=0.15, linewidth=0
            )
    start = next(iter(lines.values())).index[0]
    top.axhline(1.0, color=BASELINE_COLOR, linewidth=0.5, zorder=1)
    top.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.2f}"))
    top.set_ylabel(f"growth of 1 from {start:%Y-%m-%d}", fontsize=8, color=BASELINE_COLOR)
    top.legend(fontsize=7, frameon=False, loc="upper left", ncols=2)
    bottom.set_ylim(min(-0.5, deepest * 1.15), 0.0)
    bottom.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%" if v else "0%"))
    bottom.set_ylabel("drawdown", fontsize=8, color=BASELINE_COLOR)
    x_all = np.concatenate([date_numbers(v.index) for v in lines.values()])
    bottom.set_xlim(float(x_all.min()), float(x_all.max()))
    date_axis(bottom, minticks=3)
    return two_panels_png(fig, top, bottom, title, 0.1)
