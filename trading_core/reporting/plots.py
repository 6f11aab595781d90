"""Small charts for the reports, returned as PNG bytes.

Implements:

- `weights_chart`: current vs target weight per symbol (horizontal bars).
- `regime_chart`: benchmark closes with the background shaded by market regime.
- `ic_chart`: daily rank IC of the live model (bars) with a rolling mean line, the drift alert
  threshold and the stretch since the rolling mean fell below it.
- `equity_chart`: account value per run date above its drawdown from the running peak.
- `clean_weights`: the two weight columns as floats, missing read as 0 (shared with the tables).
- `clean_series`: the finite values of a date-indexed series, sorted, one per date (shared with
  the report's equity figures).
- `png_data_uri`: a PNG as a `data:image/png;base64,...` URI for embedding in HTML.

Each chart function returns None when there is nothing to draw (input None or empty), so the
caller can say why there is no chart. The look and the drawing steps every chart shares (sizes,
colours, margins, metadata-free PNG bytes) are `chart_style`'s.

matplotlib is imported inside the functions that draw, not with this module: the report
imports it, and with it every command that may write a report, and matplotlib costs 1-2 s of
start-up that a run drawing no chart (a market-closed day, a run refused before its report)
should not pay.
"""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd

from trading_core.reporting.chart_style import (
    CURRENT,
    INK,
    MUTED,
    NARROW_IN,
    NEGATIVE,
    POSITIVE,
    TARGET,
    WIDTH_IN,
    date_axis,
    date_numbers,
    figure,
    finish,
    label,
    legend_above,
    percent_axis,
    png,
    two_panels_png,
)

MAX_WEIGHT_BARS = 30
IC_ROLLING_WINDOW = 20

REGIME_NAMES = {0: "Risk-Off", 1: "Normal", 2: "Risk-On"}
REGIME_COLORS = {0: "#f4c7c3", 1: "#e3e5e8", 2: "#c8e6c9"}
_REGIME_CODES = {name.lower(): code for code, name in REGIME_NAMES.items()}


def weights_chart(weights: pd.DataFrame | None) -> bytes | None:
    """Current vs target weight per symbol, as horizontal bars in percent of portfolio value.

    `weights` has index symbol and columns `current_weight`, `target_weight` (fractions; NaN is
    read as 0). Only symbols held now or in the target are drawn, largest first, at most
    `MAX_WEIGHT_BARS` of them. Returns None when no symbol has a weight.
    """
    if weights is None or weights.empty:
        return None
    frame = clean_weights(weights)
    frame = frame[(frame["current_weight"] != 0) | (frame["target_weight"] != 0)]
    if frame.empty:
        return None
    size = frame[["current_weight", "target_weight"]].abs().max(axis=1)
    order = pd.DataFrame({"size": size, "symbol": frame.index.astype(str)}, index=frame.index)
    order = order.sort_values(["size", "symbol"], ascending=[False, True], kind="mergesort")
    shown = frame.loc[order.index[:MAX_WEIGHT_BARS]]
    n = len(shown)

    fig = figure((NARROW_IN, min(7.0, max(2.2, 0.2 * n + 1.0))))
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    height = 0.38
    ax.barh(y + height / 2, shown["current_weight"] * 100, height, color=CURRENT, label="current")
    ax.barh(y - height / 2, shown["target_weight"] * 100, height, color=TARGET, label="target")
    labels = [label(s) for s in shown.index]
    ax.set_yticks(y, labels=labels, fontsize=8)
    ax.axvline(0, color=INK, linewidth=0.6)
    xlabel = "weight (% of portfolio value)"
    if len(frame) > n:
        xlabel += f"; largest {n} of {len(frame)} positions"
    ax.set_xlabel(xlabel, fontsize=8, color=MUTED)
    ax.set_ylim(-0.7, n - 0.3)
    title = "Weights: current vs target"
    finish(ax, title, left_in=0.25 + 0.075 * max(len(text) for text in labels))
    legend_above(ax, ncols=2)
    return png(fig)


def regime_chart(
    benchmark: pd.Series | None, regime_history: pd.Series | None = None
) -> bytes | None:
    """Benchmark closes as a line, background shaded by regime on each date.

    `regime_history` maps dates to regime codes (0 Risk-Off, 1 Normal, 2 Risk-On; the names are
    accepted too) and is aligned to the benchmark dates, each date taking the last known regime.
    Without it the line is drawn unshaded. Returns None when the benchmark is None or has no value.
    """
    closes, x = _dated(benchmark)
    if closes is None:
        return None

    fig = figure((WIDTH_IN, 3.0))
    ax = fig.add_subplot()
    codes = _regime_codes(regime_history, closes.index)
    if codes is not None:
        step = float(np.median(np.diff(x))) if len(x) > 1 else 1.0
        edges = np.append(x, x[-1] + step)
        for code, color in REGIME_COLORS.items():
            spans = _runs(codes == code, edges)
            if spans:
                ax.broken_barh(
                    spans,
                    (0, 1),
                    transform=ax.get_xaxis_transform(),
                    facecolor=color,
                    edgecolor="none",
                    label=REGIME_NAMES[code],
                    zorder=0,
                )
        legend_above(ax, ncols=3)
    ax.plot(x, closes.to_numpy(), color=INK, linewidth=1.2, zorder=2)
    ax.set_xlim(x[0], x[-1])
    date_axis(ax, minticks=4)
    title = "Benchmark and market regime" if codes is not None else "Benchmark"
    finish(ax, title)
    return png(fig)


def ic_chart(
    ic_series: pd.Series | None,
    window: int = IC_ROLLING_WINDOW,
    threshold: float | None = None,
    below_since: object = None,
) -> bytes | None:
    """Daily rank IC as bars (green above zero, red below) with a `window`-session rolling mean.

    The rolling mean needs at least min(5, window) sessions; from `window` sessions on it is the
    figure the drift check reads. `threshold` (the drift alert level) is drawn as a dashed line
    and `below_since` (a date: the rolling mean has been below the threshold since then) shades
    the stretch up to the last date. Returns None when the series is None or has no finite value.
    """
    ic, x = _dated(ic_series)
    if ic is None:
        return None
    step = float(np.median(np.diff(x))) if len(x) > 1 else 1.0
    values = ic.to_numpy()

    fig = figure((WIDTH_IN, 2.6))
    ax = fig.add_subplot()
    since = _date_number(below_since)
    if since is not None and since <= x[-1]:
        ax.axvspan(
            max(since, x[0]) - step / 2,
            x[-1] + step / 2,
            color=REGIME_COLORS[0],
            linewidth=0,
            label="below threshold",
            zorder=0,
        )
    colors = np.where(values >= 0, POSITIVE, NEGATIVE)
    ax.bar(x, values, width=step * 0.8, color=colors, alpha=0.55, linewidth=0)
    rolling = ic.rolling(window, min_periods=min(5, window)).mean()
    if rolling.notna().any():
        ax.plot(x, rolling.to_numpy(), color=INK, linewidth=1.4, label=f"{window}-session mean")
    if threshold is not None and np.isfinite(threshold):
        ax.axhline(
            threshold,
            color=NEGATIVE,
            linewidth=1.0,
            linestyle="--",
            label=f"alert threshold {threshold:+.3f}",
        )
    if ax.get_legend_handles_labels()[1]:
        legend_above(ax, ncols=3)
    ax.axhline(0, color=INK, linewidth=0.6)
    ax.set_xlim(x[0] - step, x[-1] + step)
    date_axis(ax, minticks=3)
    finish(ax, "Daily rank IC of the live model")
    return png(fig)


def equity_chart(equity: pd.Series | None, halted_since: object = None) -> bytes | None:
    """Account value per run date (top) above its drawdown from the running peak (bottom, %).

    `equity` is indexed by date; non-finite values are dropped and a repeated date keeps its last
    value. `halted_since` (a date) marks when the kill switch engaged, if it is in range. Returns
    None with fewer than two values: one point has no curve and no drawdown.
    """
    values = clean_series(equity)
    if len(values) < 2:
        return None
    x = date_numbers(values.index)
    drawdown = (values / values.cummax() - 1.0).to_numpy() * 100
    many = len(values) > 40

    fig = figure((WIDTH_IN, 3.8))
    from matplotlib.ticker import FuncFormatter

    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2.2, 1.0])
    top.plot(
        x,
        values.to_numpy(),
        color=TARGET,
        linewidth=1.4,
        marker=None if many else "o",
        markersize=3,
    )
    top.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    bottom.fill_between(x, drawdown, 0.0, color=NEGATIVE, alpha=0.25, linewidth=0)
    bottom.plot(x, drawdown, color=NEGATIVE, linewidth=1.0)
    bottom.set_ylim(min(-0.5, float(drawdown.min()) * 1.15), 0.0)
    percent_axis(bottom)
    bottom.set_ylabel("drawdown", fontsize=8, color=MUTED)
    since = _date_number(halted_since)
    if since is not None and x[0] <= since <= x[-1]:
        for ax in (top, bottom):
            ax.axvline(since, color=NEGATIVE, linewidth=1.0, linestyle="--")
        top.plot([], [], color=NEGATIVE, linewidth=1.0, linestyle="--", label="kill switch")
        legend_above(top, ncols=1)
    pad = (x[-1] - x[0]) * 0.02
    bottom.set_xlim(x[0] - pad, x[-1] + pad)
    date_axis(bottom, minticks=2)
    return two_panels_png(fig, top, bottom, "Account value and drawdown from peak", 0.12)


def png_data_uri(png: bytes | None) -> str | None:
    """`data:image/png;base64,...` for an `<img src>`; None stays None."""
    if png is None:
        return None
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _dated(series: pd.Series | None) -> tuple[pd.Series | None, np.ndarray]:
    """The finite values of a date-indexed series, sorted, with matplotlib date numbers."""
    values = clean_series(series)
    if values.empty:
        return None, np.empty(0)
    return values, date_numbers(values.index)


def clean_series(series: pd.Series | None) -> pd.Series:
    """Finite float values by date, sorted; a repeated date keeps its last value; None -> empty."""
    if series is None:
        return pd.Series(dtype="float64", index=pd.DatetimeIndex([]))
    values = pd.to_numeric(pd.Series(series), errors="coerce").astype("float64")
    values.index = pd.DatetimeIndex(values.index)
    values = values[np.isfinite(values.to_numpy())]
    values = values[~values.index.duplicated(keep="last")]
    return values.sort_index(kind="mergesort")


def _date_number(value: object) -> float | None:
    """A date as a matplotlib date number; None for None or anything that is not a date."""
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if pd.isna(stamp):
        return None
    return float(date_numbers(pd.DatetimeIndex([stamp]))[0])


def clean_weights(weights: pd.DataFrame) -> pd.DataFrame:
    """`current_weight` and `target_weight` as floats, a missing column or NaN read as 0."""
    frame = pd.DataFrame(index=weights.index.rename(None))
    for column in ("current_weight", "target_weight"):
        values = weights[column] if column in weights.columns else 0.0
        frame[column] = pd.to_numeric(values, errors="coerce")
    return frame.astype("float64").fillna(0.0)


def _regime_codes(regime_history: pd.Series | None, dates: pd.DatetimeIndex) -> np.ndarray | None:
    """Regime code per date (-1 where unknown), or None when there is no usable history."""
    if regime_history is None or regime_history.empty:
        return None
    history = regime_history.map(_regime_code)
    history.index = pd.DatetimeIndex(history.index)
    history = history[~history.index.duplicated(keep="last")].sort_index().dropna()
    if history.empty:
        return None
    aligned = history.astype("float64").reindex(dates, method="ffill")
    return aligned.fillna(-1).to_numpy(dtype=int)


def _regime_code(value: object) -> float:
    if isinstance(value, str):
        return float(_REGIME_CODES.get(value.strip().lower(), np.nan))
    try:
        code = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return np.nan
    return code if code in REGIME_NAMES else np.nan


def _runs(mask: np.ndarray, edges: np.ndarray) -> list[tuple[float, float]]:
    """(start, width) of each run of True in `mask`; run i..j spans edges[i]..edges[j + 1]."""
    padded = np.concatenate([[False], mask, [False]]).astype(int)
    change = np.diff(padded)
    starts = np.flatnonzero(change == 1)
    stops = np.flatnonzero(change == -1)
    return [
        (float(edges[a]), float(edges[b] - edges[a])) for a, b in zip(starts, stops, strict=False)
    ]
