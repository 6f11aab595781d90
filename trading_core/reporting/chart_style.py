"""The look every report chart shares, and the drawing steps they all take.

Implements the sizes (`DPI`, `WIDTH_IN`, `NARROW_IN`) and colours of the charts, and:

- `figure`: an empty `Figure` (matplotlib imported on first use, Agg backend, no pyplot state);
- `date_numbers`, `date_axis`: dates as x values, and concise date ticks;
- `percent_axis`, `percent_tick`: y ticks of values already in percent;
- `label`: text drawn as typed (`$` would start matplotlib's math mode);
- `legend_above`, `style`, `finish`, `two_panels_png`: legend on the title line, title and quiet
  spines, fixed margins in inches;
- `png`: the figure as PNG bytes without software or time metadata, so the same input gives the
  same bytes.

Used by the daily report's charts (`plots`), the tear sheet's (`tear_sheet_plots`), the factor
tear sheet's and the champion selection's.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 100
WIDTH_IN = 8.0  # full-width charts
NARROW_IN = 5.5  # charts shown beside a table

INK = "#1f2933"
MUTED = "#7b8794"
CURRENT = "#9aa5b1"
TARGET = "#2f6fde"
POSITIVE = "#2e7d32"
NEGATIVE = "#c62828"


def figure(size: tuple[float, float]) -> Figure:
    """An empty `Figure` of `size` inches at `DPI`, matplotlib imported on first use (Agg)."""
    import matplotlib

    matplotlib.use("Agg")  # headless: never open a window, even if pyplot is imported later
    from matplotlib.figure import Figure

    return Figure(figsize=size, dpi=DPI)


def date_numbers(dates: pd.DatetimeIndex) -> np.ndarray:
    """Dates as matplotlib date numbers, the x values of every dated chart."""
    import matplotlib.dates as mdates

    return mdates.date2num(dates.to_pydatetime())


def date_axis(ax, minticks: int) -> None:
    """Concise date ticks, between `minticks` and 8 of them."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=minticks, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def percent_axis(ax) -> None:
    """Y tick labels of values already in percent: "-2.5%", "0%", "12%"."""
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: percent_tick(v)))


def percent_tick(value: float, sign: str = "") -> str:
    """A tick in percent with the decimals it has ("-2.5%", not "-2%"); `sign` "+" shows gains."""
    rounded = round(value, 6)  # 0.975 - 1 is -2.4999999...%
    return "0%" if rounded == 0 else f"{rounded:{sign},g}%"


def label(text: object, width: int = 16) -> str:
    """A label drawn as typed and at most `width` characters: `$` would start math mode."""
    shown = str(text)
    if len(shown) > width:
        shown = shown[: width - 1] + "\u2026"
    return shown.replace("$", r"\$")


def legend_above(ax, ncols: int) -> None:
    """Legend on the title line, right-aligned, so it never covers the data."""
    ax.legend(
        fontsize=8,
        frameon=False,
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncols=ncols,
        borderaxespad=0.1,
    )


def finish(ax, title: str, left_in: float = 0.7) -> None:
    """Title, quiet spines and fixed margins (in inches; cheaper than tight_layout's extra draw)."""
    style(ax, title)
    fig = ax.figure
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        left=min(0.5, left_in / width),
        right=1 - 0.2 / width,
        bottom=0.5 / height,
        top=1 - 0.4 / height,
    )


def style(ax, title: str | None, fontsize: float = 10) -> None:
    """Title (if any) and quiet spines.

    The title sits at the top of the axes (`y=1.0`): matplotlib otherwise measures every shared
    axis's tick labels at each draw to move it clear of ticks on top, which these charts never have.
    """
    if title:
        ax.set_title(title, fontsize=fontsize, color=INK, loc="left", y=1.0)
    ax.tick_params(labelsize=8, colors=INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(MUTED)


def two_panels_png(fig: Figure, top, bottom, title: str, hspace: float) -> bytes:
    """A curve over its drawdown: styled, with fixed margins in inches, as PNG bytes."""
    style(top, title)
    style(bottom, None)
    margins(fig, Margins(left=0.8, right=0.2, bottom=0.45, top=0.4), hspace=hspace)
    return png(fig)


@dataclass(frozen=True)
class Margins:
    """A figure's margins in inches: the same space for labels whatever the figure's size."""

    left: float
    right: float
    bottom: float
    top: float


def margins(fig: Figure, inches: Margins, hspace: float, wspace: float | None = None) -> None:
    """Fixed margins in inches and the gaps between panels (cheaper and steadier than
    tight_layout's extra draw); `wspace` None keeps matplotlib's default."""
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        left=inches.left / width,
        right=1 - inches.right / width,
        bottom=inches.bottom / height,
        top=1 - inches.top / height,
        hspace=hspace,
        wspace=wspace,
    )


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes, without software or time metadata."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
