"""Labels: forward returns over a horizon, from the price a trade decided at t can really get.

The daily run decides at the close of t and its orders can execute no earlier than the next
session, so the label follows the execution convention (`EXECUTIONS`, setting
`backtest.execution`) the backtest fills at:

- `next_open`: open of t+1 to open of t+1+h (the default, what a live run can get);
- `next_close`: close of t+1 to close of t+1+h;
- `same_close`: close of t to close of t+h (the signal's own close: for comparison only).

A label is known `horizon + delay` sessions after t (delay 1 for the next-session conventions), so
the last that many dates of any frame are unlabeled (NaN): a label never exists before its future.
A missing or non-positive open is replaced by that session's close (`execution_prices`), the
price the backtest fills such a name at. The training target may be transformed per date (excess
over the mean, z-score or rank across symbols), which removes the market's move and puts every date
on the same scale.
"""

from __future__ import annotations

import pandas as pd

TRANSFORMS = ("raw", "excess", "zscore", "rank")
EXECUTIONS = ("next_open", "next_close", "same_close")
EXECUTION_MEANING = {
    "next_open": "at the open of the session after the signal",
    "next_close": "at the close of the session after the signal",
    "same_close": "at the close that produced the signal (no live run can trade there)",
}


def execution_delay(execution: str) -> int:
    """Sessions between the signal's close and the fill: 0 for same_close, else 1."""
    if execution not in EXECUTIONS:
        raise ValueError(f"unknown execution {execution!r}: choose from {', '.join(EXECUTIONS)}")
    return 0 if execution == "same_close" else 1


def effective_execution(execution: str, open_: pd.DataFrame | None) -> str:
    """The convention data can support: next_open without any open price is next_close."""
    execution_delay(execution)
    if execution == "next_open" and (open_ is None or not open_.notna().to_numpy().any()):
        return "next_close"
    return execution


def execution_prices(
    close: pd.DataFrame, open_: pd.DataFrame | None, execution: str
) -> pd.DataFrame:
    """The price a fill gets on each session: the open for next_open (a session without a
    positive open fills at its close), else the close."""
    if effective_execution(execution, open_) != "next_open" or open_ is None:
        return close
    opens = open_.reindex(index=close.index, columns=close.columns)
    return opens.where(opens > 0).fillna(close)


def forward_returns(
    close: pd.DataFrame,
    horizon: int,
    excess: bool = False,
    open_: pd.DataFrame | None = None,
    execution: str = "same_close",
) -> pd.DataFrame:
    """Return from the fill of a decision at t to the fill `horizon` sessions later.

    same_close: close[t+h] / close[t] - 1; next_close and next_open start one session later, at
    the close or open. Minus the cross-sectional mean on t when `excess`.

    A name without a price at the exit (a gap, or it stopped trading) exits at its last close
    before it, as the backtest sells it; that uses no price after the exit session, so a name
    that was delisted keeps its loss in the labels instead of dropping out of them. A name
    without a price at the entry has no label: nothing could be bought.
    """
    prices = execution_prices(close, open_, execution)
    delay = execution_delay(execution)
    exit_prices = prices.where(prices.notna(), close.ffill())
    forward = exit_prices.shift(-(delay + horizon)) / prices.shift(-delay) - 1
    if excess:
        forward = forward.sub(forward.mean(axis=1), axis=0)
    return forward


def transform_labels(forward: pd.DataFrame, transform: str = "zscore") -> pd.DataFrame:
    """The training target from raw forward returns, transformed across symbols on each date."""
    if transform == "raw":
        return forward
    if transform == "excess":
        return forward.sub(forward.mean(axis=1), axis=0)
    if transform == "zscore":
        std = forward.std(axis=1).where(lambda s: s > 0)
        return forward.sub(forward.mean(axis=1), axis=0).div(std, axis=0)
    if transform == "rank":
        return forward.rank(axis=1, pct=True) - 0.5
    raise ValueError(f"unknown label transform {transform!r}: choose from {', '.join(TRANSFORMS)}")


def stack_labels(labels: pd.DataFrame) -> pd.Series:
    """Wide labels to a (date, symbol) Series named `label`, dropping the unlabeled rows."""
    stacked = labels.stack(future_stack=True).dropna()
    stacked.index = stacked.index.set_names(["date", "symbol"])
    return stacked.rename("label")
