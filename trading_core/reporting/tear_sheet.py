"""The paper account's tear sheet as the daily report shows it: words, formatted figures, charts.

Implements `tear_sheet`, the view model of the report's "Paper account tear sheet" section, from
the account value per run date and the benchmark's closes:

- `headline`: the statistics of `performance.statistics.headline_table`, one row per statistic
  in words and one column per window and side (account, benchmark); a trailing window appears
  once the account is old enough to fill it;
- `drawdowns`: the five worst drawdown periods (`performance.drawdowns.worst_drawdowns`);
- `growth`, `rolling`, `calendar`: the figures of `tear_sheet_plots` as data URIs;
- for each part not shown yet, in its place, one line naming it and saying how many more
  sessions it needs (`performance.statistics.enough_history`, `needs_line`).

Every statistic is computed in `trading_core.performance`; this module picks, labels and formats.
`daily_returns` derives both sides' returns: the account's on a run date is the change in its
value since the previous run date, the benchmark's the change in its close over the same two
dates, so both cover the same sessions (a missed run date makes one return span two sessions, on
both sides). Sharpe, Sortino and alpha are against a zero cash rate.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from trading_core.performance import drawdowns
from trading_core.performance.statistics import (
    LABELS,
    WINDOW_LABELS,
    WINDOWS,
    enough_history,
    headline_table,
)
from trading_core.reporting import plots, tear_sheet_plots
from trading_core.reporting.formatting import DASH, finite_number, fixed, percent

SIDES = {"strategy": "Account", "benchmark": "Benchmark"}
WORST = 5  # drawdown periods listed and numbered on the underwater curve
# headline metrics shown as percentages (the rest are ratios, and the count of sessions)
_PERCENT = {"total_return", "cagr", "volatility", "max_drawdown", "win_rate", "best_day"}
_PERCENT |= {"worst_day", "var_95", "cvar_95", "alpha"}
_SIGNED = {"total_return", "cagr", "best_day", "worst_day", "alpha"}  # shown with a + on gains
_ROLLING = f"Rolling {tear_sheet_plots.ROLLING_MONTHS}-month Sharpe ratio"


def daily_returns(
    equity: pd.Series | None, closes: pd.Series | None
) -> tuple[pd.Series, pd.Series | None]:
    """The account's and the benchmark's returns on each run date after the first.

    `equity` is the account value per run date; `closes` the benchmark's closes (any dates: they
    are read on the run dates). The benchmark is None without a return on any run date.
    """
    values = plots.clean_series(equity)
    account = values.pct_change().iloc[1:].rename("account")
    if closes is None:
        return account, None
    market = plots.clean_series(closes).reindex(values.index).pct_change().iloc[1:]
    return account, market.rename("benchmark") if market.notna().any() else None


def tear_sheet(
    equity: pd.Series | None, closes: pd.Series | None, benchmark_name: str
) -> dict[str, object]:
    """The section's content: intro, headline table, worst drawdowns, figures, pending parts.

    `benchmark_name` says what the benchmark is (the regime's source), for the intro.
    """
    account, market = daily_returns(equity, closes)
    needs = enough_history(account)
    worst = drawdowns.worst_drawdowns(account, WORST) if not needs["drawdowns"] else None
    # a beta panel once there are benchmark returns; before the first return, if closes came
    beta = market is not None or (account.empty and closes is not None)
    return {
        "intro": _intro(account, market, benchmark_name),
        "headline": _headline(account, market, needs),
        "drawdowns": None if worst is None else _drawdown_rows(worst),
        "growth": _chart(
            "Cumulative return and drawdowns",
            needs["drawdowns"],
            lambda: tear_sheet_plots.growth_chart(account, market, worst),
        ),
        "rolling": _chart(
            f"{_ROLLING}, volatility and beta" if beta else f"{_ROLLING} and volatility",
            needs["rolling"],
            lambda: tear_sheet_plots.rolling_chart(account, market),
        ),
        "calendar": _chart(
            "Monthly returns, yearly returns and daily-return histogram",
            needs["periods"],
            lambda: tear_sheet_plots.calendar_chart(account, market),
        ),
    }


def needs_line(what: str, sessions: int) -> str:
    """The line shown in place of a part: "Rolling 6-month ...: needs 40 more sessions"."""
    return f"{what}: needs {sessions:,} more session{'' if sessions == 1 else 's'}"


def _intro(account: pd.Series, market: pd.Series | None, benchmark_name: str) -> str:
    """What the returns are, where the benchmark comes from, and the cash rate."""
    if account.empty:
        return "The account has no daily return yet: every run after the first adds one."
    span = (
        f"{len(account):,} daily {'return' if len(account) == 1 else 'returns'} of the paper "
        f"account, {account.index[0]:%Y-%m-%d} to {account.index[-1]:%Y-%m-%d}, each the change "
        "in account value since the previous run date."
    )
    benchmark = (
        "No benchmark closes were supplied: no benchmark columns, beta or alpha."
        if market is None
        else "Benchmark: the index the market regime is measured on, here the "
        f"{benchmark_name}, over the same run dates."
    )
    return f"{span} {benchmark} Sharpe, Sortino and alpha are against a zero cash rate."


def _headline(
    account: pd.Series, market: pd.Series | None, needs: dict[str, int]
) -> dict[str, object]:
    """Rows of statistics by window and side, or the line saying how long until there are any."""
    if needs["statistics"]:
        return {"needs": needs_line("Headline statistics", needs["statistics"])}
    table = headline_table(account, market)
    windows = [window for window in WINDOWS if not needs.get(window)]
    shown = table[table["window"].isin(windows)]
    columns = list(dict.fromkeys(zip(shown["window"], shown["side"], strict=True)))
    values = shown.set_index(["window", "side", "metric"])["value"]
    metrics = [metric for metric in LABELS if metric in set(shown["metric"])]
    return {
        "needs": "",
        "windows": [
            {"label": WINDOW_LABELS[w], "span": sum(1 for c in columns if c[0] == w)}
            for w in windows
        ],
        "sides": [SIDES[side] for _, side in columns],
        "rows": [
            {
                "label": LABELS[metric],
                "values": [_statistic(metric, values.get((*column, metric))) for column in columns],
            }
            for metric in metrics
        ],
        "pending": [
            needs_line(f"{WINDOW_LABELS[w]} columns", needs[w]) for w in WINDOWS if needs.get(w)
        ]
        + (
            [
                needs_line(
                    "Annualized figures (CAGR, volatility, ratios, alpha)", needs["annualized"]
                )
            ]
            if needs["annualized"]
            else []
        ),
    }


def _statistic(metric: str, value: object) -> str:
    """One figure of the headline table: percent, a count of sessions or a ratio to 2 places."""
    number = finite_number(value)
    if metric == "sessions":
        return DASH if number is None else f"{int(number):,}"
    if metric in _PERCENT:
        return percent(number, 1 if metric == "win_rate" else 2, signed=metric in _SIGNED)
    return fixed(number, 2)


def _drawdown_rows(worst: pd.DataFrame) -> list[dict[str, str]]:
    """The worst drawdown periods as the report's table shows them, deepest first."""
    return [
        {
            "rank": f"{rank}",
            "start": f"{period.peak:%Y-%m-%d}",
            "trough": f"{period.trough:%Y-%m-%d}",
            "recovery": "not yet" if pd.isna(period.recovery) else f"{period.recovery:%Y-%m-%d}",
            "depth": percent(float(period.depth), 2),
            "length": f"{int(period.length):,}",
        }
        for rank, period in zip(worst.index, worst.itertuples(index=False), strict=True)
    ]


def _chart(name: str, needs: int, draw: Callable[[], bytes]) -> dict[str, str | None]:
    """A figure named `name` as a data URI, or the line saying it `needs` more sessions."""
    if needs:
        return {"uri": None, "alt": name, "needs": needs_line(name, needs)}
    return {"uri": plots.png_data_uri(draw()), "alt": name, "needs": ""}
