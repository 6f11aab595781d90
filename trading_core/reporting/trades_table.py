"""The day's trades as text, exactly as the daily report's trade table shows them.

- `trade_row`: one trade's cells (shares as integers, money to the cent, weight change in %);
  the report's table (html.py) and the Prefect artifact both build their rows with it.
- `as_recorded`: the trades' status in the paper account's words (applied once applied).
- `trades_table`: every trade as a row keyed by the report's column titles, for a Prefect table
  artifact.

The trade frame has the columns of `trading_core.live.trade_generator.TRADE_COLUMNS`; a missing
column shows as a dash.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import pandas as pd

from trading_core.reporting.formatting import (
    DASH,
    finite_number,
    money,
    percent,
    plain_text,
    share_count,
)

COLUMN_TITLES = {  # cell key: column title, in the report's order
    "side": "Side",
    "symbol": "Symbol",
    "shares": "Shares",
    "price": "Price",
    "notional": "Notional",
    "weight_change": "Weight change",
    "cost": "Est. cost",
    "reason": "Reason",
    "status": "Status",
}


def as_recorded(trades: pd.DataFrame | None, ledger_status: str | None) -> pd.DataFrame | None:
    """The trades with the account's word for them: `applied`, not `proposed`, once applied."""
    if ledger_status != "applied" or trades is None or "status" not in trades.columns:
        return trades
    return trades.assign(status=trades["status"].replace("proposed", "applied"))


def trade_row(record: Mapping[Hashable, object]) -> dict[str, str]:
    """One trade's cells; the estimated cost is commission plus slippage."""
    parts = [finite_number(record.get(name)) for name in ("commission_est", "slippage_est")]
    cost = None if all(p is None for p in parts) else sum(p or 0.0 for p in parts)
    side = plain_text(record.get("side")).upper()
    return {
        "side": side or DASH,
        "symbol": plain_text(record.get("symbol")),
        "shares": share_count(record.get("shares")),
        "price": money(finite_number(record.get("price")), 2),
        "notional": money(finite_number(record.get("notional")), 2),
        "weight_change": percent(finite_number(record.get("weight_change")), 2, signed=True),
        "cost": money(cost, 2),
        "reason": plain_text(record.get("reason")),
        "status": plain_text(record.get("status")),
    }


def trades_table(trades: pd.DataFrame) -> list[dict[str, str]]:
    """Every trade as {column title: cell}, in the frame's order (a Prefect table artifact)."""
    return [
        {title: row[key] for key, title in COLUMN_TITLES.items()}
        for row in map(trade_row, trades.to_dict("records"))
    ]
