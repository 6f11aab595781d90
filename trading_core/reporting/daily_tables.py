"""The daily report's tables as view models: trades, target portfolio, scores, account history.

Each function takes one of the run's frames or series and returns what its section shows, numbers
already formatted (`trading_core.reporting.formatting`), with the totals the key figures read.
A missing column or value shows as a dash; nothing here reads the clock, so the same input gives
the same view.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from trading_core.reporting import plots
from trading_core.reporting.formatting import DASH, finite_number, money, percent
from trading_core.reporting.trades_table import trade_row
from trading_core.turnover import one_way_turnover

TOP_SCORES = 10
GOING_AHEAD = ("proposed", "applied", "", DASH)  # trade statuses that are not blocked or skipped


@dataclass(frozen=True)
class Item:
    """One term and its value in a definition list."""

    key: str
    value: str


@dataclass(frozen=True)
class TradesView:
    """Formatted trade rows (the caller's order) with their counts and totals."""

    rows: list[dict[str, str]]
    n_buy: int  # the counts and totals are of the rows not skipped (traded or blocked)
    n_sell: int
    n_skipped: int
    turnover: float | None
    notional_total: float | None
    cost_total: float | None
    totals: dict[str, str]

    @property
    def going_ahead(self) -> int:
        """Trades that go ahead: status `proposed` or `applied`, or no status given at all."""
        return sum(1 for row in self.rows if row["status"] in GOING_AHEAD)


@dataclass(frozen=True)
class PortfolioView:
    """Current vs target rows for the symbols held now or in the target, and cash."""

    rows: list[dict[str, str]]
    n_current: int
    n_target: int
    cash: dict[str, str]


@dataclass(frozen=True)
class ScoresView:
    """The top and bottom scores, how many symbols were scored and how many had no score."""

    top: list[dict[str, str]]
    bottom: list[dict[str, str]]
    count: int
    missing: int


@dataclass(frozen=True)
class AccountHistory:
    """The account's history figures, or the sentence saying why there are none yet."""

    points: int
    sentence: str
    rows: list[Item]
    figure_sub: str


def trades_view(trades: pd.DataFrame | None) -> TradesView:
    """Formatted trade rows (caller's order) and totals; missing columns show as a dash."""
    frame = trades if trades is not None else pd.DataFrame()
    rows = []
    for record in frame.to_dict("records"):
        row = trade_row(record)
        change = finite_number(record.get("weight_change")) or 0.0
        side_css = {"BUY": "buy", "SELL": "sell"}.get(row["side"], "other")
        rows.append({**row, "side_css": side_css, "weight_change_css": sign_css(change)})
    counted = _not_skipped(frame)
    sides = counted["side"].astype(str).str.upper() if "side" in counted.columns else pd.Series()
    return TradesView(
        rows=rows,
        n_buy=int((sides == "BUY").sum()),
        n_sell=int((sides == "SELL").sum()),
        n_skipped=len(frame) - len(counted),
        turnover=_turnover(counted),
        notional_total=_column_sum(counted, "notional", absolute=True),
        cost_total=_cost_total(counted),
        totals={
            "notional": money(_column_sum(counted, "notional", absolute=True), 2),
            "weight_change": percent(_column_sum(counted, "weight_change", absolute=True), 2),
            "cost": money(_cost_total(counted), 2),
        },
    )


def portfolio_view(weights: pd.DataFrame | None) -> PortfolioView:
    """Current vs target rows for symbols held now or in the target, largest target first."""
    frame = plots.clean_weights(weights if weights is not None else pd.DataFrame())
    held = frame[(frame["current_weight"] != 0) | (frame["target_weight"] != 0)].copy()
    held["symbol"] = [str(s) for s in held.index]
    held = held.sort_values(
        ["target_weight", "current_weight", "symbol"],
        ascending=[False, False, True],
        kind="mergesort",
    )
    rows = [
        {
            "symbol": symbol,
            "current": percent(current, 2),
            "target": percent(target, 2),
            "change": percent(target - current, 2, signed=True),
            "change_css": sign_css(target - current),
            "bar": f"{min(100.0, abs(target) * 100):.1f}",
        }
        for symbol, current, target in zip(
            held["symbol"], held["current_weight"], held["target_weight"], strict=True
        )
    ]
    current_cash = 1.0 - float(frame["current_weight"].sum())
    target_cash = 1.0 - float(frame["target_weight"].sum())
    return PortfolioView(
        rows=rows,
        n_current=int((frame["current_weight"] != 0).sum()),
        n_target=int((frame["target_weight"] != 0).sum()),
        cash={
            "current": percent(current_cash, 2),
            "target": percent(target_cash, 2),
            "change": percent(target_cash - current_cash, 2, signed=True),
        },
    )


def scores_view(scores: pd.Series | None, weights: pd.DataFrame | None) -> ScoresView:
    """Top and bottom scores (no symbol in both lists) with their target weight."""
    if scores is None:
        scores = pd.Series(dtype="float64")
    values = pd.to_numeric(pd.Series(scores), errors="coerce").astype("float64")
    missing = int(values.isna().sum())
    values = values.dropna()
    frame = pd.DataFrame({"score": values.to_numpy(), "symbol": [str(s) for s in values.index]})
    frame = frame.sort_values(["score", "symbol"], ascending=[False, True], kind="mergesort")
    frame = frame.reset_index(drop=True)
    target = {}
    if weights is not None and "target_weight" in weights.columns:
        target = {str(k): v for k, v in plots.clean_weights(weights)["target_weight"].items()}
    n = min(TOP_SCORES, (len(frame) + 1) // 2)

    def rows(part: pd.DataFrame) -> list[dict[str, str]]:
        return [
            {
                "rank": f"{rank + 1:,}",
                "symbol": symbol,
                "score": f"{score:.4f}",
                "target": percent(target.get(symbol, 0.0), 2) if target else DASH,
            }
            for rank, symbol, score in zip(part.index, part["symbol"], part["score"], strict=True)
        ]

    top = frame.iloc[:n]
    bottom = frame.iloc[max(n, len(frame) - n) :].iloc[::-1]
    return ScoresView(top=rows(top), bottom=rows(bottom), count=len(frame), missing=missing)


def account_history(curve: pd.Series | None) -> AccountHistory:
    """Account history figures: start, latest, total return, drawdowns; a sentence when too short."""
    values = plots.clean_series(curve)
    if len(values) < 2:
        when = f" ({values.index[-1]:%Y-%m-%d})" if len(values) else ""
        return AccountHistory(
            points=len(values),
            sentence=(
                f"The account history starts today{when}: equity curve and drawdown appear "
                "from the next run on."
            ),
            rows=[],
            figure_sub="",
        )
    peak = values.cummax()
    drawdown = values / peak - 1.0
    worst = drawdown.idxmin()
    current = float(drawdown.iloc[-1])
    rows = [
        ("Start", f"{values.index[0]:%Y-%m-%d}: {money(float(values.iloc[0]), 0)}"),
        ("Latest", f"{values.index[-1]:%Y-%m-%d}: {money(float(values.iloc[-1]), 0)}"),
        ("Total return", percent(float(values.iloc[-1] / values.iloc[0] - 1.0), 2, signed=True)),
        ("Peak", f"{peak.idxmax():%Y-%m-%d}: {money(float(peak.max()), 0)}"),
        ("Current drawdown", percent(current, 2)),
        ("Max drawdown", f"{percent(float(drawdown.min()), 2)} on {worst:%Y-%m-%d}"),
        ("Run dates", f"{len(values):,}"),
    ]
    return AccountHistory(
        points=len(values),
        sentence="",
        rows=[Item(k, v) for k, v in rows],
        figure_sub="at its peak" if current >= 0 else f"{percent(-current, 1)} below its peak",
    )


def sign_css(value: float) -> str:
    """The CSS class of a signed figure: `pos`, `neg`, or none within rounding of zero."""
    if value > 5e-7:
        return "pos"
    if value < -5e-7:
        return "neg"
    return ""


def _column_sum(frame: pd.DataFrame, column: str, absolute: bool = False) -> float | None:
    if column not in frame.columns or frame.empty:
        return 0.0 if frame.empty else None
    values = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    if values.isna().all():
        return None
    return float((values.abs() if absolute else values).sum())


def _not_skipped(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows that trade or were blocked: a skipped trade moves no money and costs nothing."""
    if "status" not in frame.columns:
        return frame
    return frame[~frame["status"].astype(str).str.startswith("skipped")]


def _turnover(frame: pd.DataFrame) -> float | None:
    """One-way turnover (½ Σ|weight change|) of `frame`'s rows (the caller leaves out skipped)."""
    if frame.empty:
        return 0.0
    if "weight_change" not in frame.columns:
        return None
    changes = pd.to_numeric(frame["weight_change"], errors="coerce")
    if len(changes) and changes.isna().all():
        return None
    return one_way_turnover(changes.dropna())


def _cost_total(frame: pd.DataFrame) -> float | None:
    parts = [_column_sum(frame, c) for c in ("commission_est", "slippage_est")]
    if all(p is None for p in parts):
        return None
    return sum(p for p in parts if p is not None)
