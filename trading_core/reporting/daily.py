"""The five files of a daily run: trades.csv, portfolio_weights.csv, signals.json, report.html and
monitoring_log.json, built from the run's results as bytes (writing them is the caller's job).

Nothing here reads the clock: the same run gives the same bytes, so re-running a date is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from trading_core.data.market import MarketData
from trading_core.io import to_csv, to_json
from trading_core.live.kill_switch import KillSwitchStatus
from trading_core.live.monitoring_report import MonitoringReport
from trading_core.live.positions import Positions
from trading_core.live.safety_checks import SafetyVerdict
from trading_core.live.trade_generator import PROPOSED, turnover
from trading_core.ml.model_info import ModelInfo
from trading_core.portfolio.construct import PortfolioResult
from trading_core.regime import RegimeState
from trading_core.reporting.html import DailyReportData, render_daily_report

BLOCKED = "BLOCKED"
MONEY_COLUMNS = ("notional", "commission_est", "slippage_est")
WEIGHT_COLUMNS = ("current_weight", "target_weight", "weight_change")
REPORT_HISTORY = 504


@dataclass(frozen=True)
class DailyRun:
    """Everything one daily run decided, in the order it decided it."""

    session: date
    dry_run: bool
    data: MarketData
    scores: pd.Series
    regime: RegimeState
    portfolio: PortfolioResult
    positions: Positions
    trades: pd.DataFrame
    verdict: SafetyVerdict
    model_info: ModelInfo
    monitoring: MonitoringReport
    ic_series: pd.Series
    warnings: list[str]
    notes: list[str]
    settings_fingerprint: str
    kill_switch: KillSwitchStatus | None = None
    equity_curve: pd.Series | None = None  # account value per run date, this session's last
    ledger_status: str | None = None  # applied, proposed or blocked, once the ledger recorded it

    @property
    def final_trades(self) -> pd.DataFrame:
        """The trade list as published: every proposed trade marked BLOCKED when safety failed."""
        if self.verdict.passed:
            return self.trades
        blocked = self.trades.copy()
        blocked.loc[blocked["status"] == PROPOSED, "status"] = BLOCKED
        return blocked

    @property
    def portfolio_value(self) -> float:
        return self.positions.value(self.data.close.iloc[-1])

    def weights_table(self) -> pd.DataFrame:
        """Per symbol: sector, score, current and target weight (every scored or held name)."""
        current = self.positions.weights(self.data.close.iloc[-1])
        symbols = sorted(set(self.scores.index) | set(current.index))
        table = pd.DataFrame(index=pd.Index(symbols, name="symbol"))
        table["sector"] = self.data.sectors.reindex(symbols).fillna("unknown").astype("str")
        table["score"] = self.scores.reindex(symbols)
        table["current_weight"] = current.reindex(symbols, fill_value=0.0)
        table["target_weight"] = self.portfolio.weights.reindex(symbols, fill_value=0.0)
        return table

    def summary(self) -> dict:
        """The headline figures of the run."""
        trades = self.final_trades
        proposed = trades[trades["status"] == PROPOSED]
        return {
            "date": f"{self.session:%Y-%m-%d}",
            "dry_run": self.dry_run,
            "regime": self.regime.label,
            "regime_source": self.regime.source,
            "exposure": float(self.portfolio.weights.sum()),
            "target_exposure": self.portfolio.exposure,
            "optimizer": self.portfolio.optimizer,
            "optimizer_fallback": self.portfolio.fallback_reason,
            "trades_proposed": len(proposed),
            "trades_blocked": int((trades["status"] == BLOCKED).sum()),
            "turnover": turnover(self.trades),
            "estimated_cost": float((proposed["commission_est"] + proposed["slippage_est"]).sum()),
            "portfolio_value": self.portfolio_value,
            "safety_passed": self.verdict.passed,
            "kill_switch_engaged": bool(self.kill_switch and self.kill_switch.halted),
        }


def paper_account_outcome(status: str | None, session: str, trades: int) -> str:
    """What a run did to the paper account, in the words the CLI and the run's artifact share.

    `status` is the ledger's record of the run: applied, proposed (awaiting approval) or blocked.
    """
    if status == "proposed":
        return f"awaiting approval (alphapilot approve --date {session}); nothing applied yet"
    if status == "applied":
        return f"{trades} trades applied (paper trading: no broker is involved)"
    if status == "blocked":
        return "blocked: nothing applied"
    return "not recorded in the ledger"


def rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """Money to the cent and weights to 1e-8 for the files people read (computation keeps full precision)."""
    out = frame.copy()
    for column in out.columns.intersection(list(MONEY_COLUMNS)):
        out[column] = out[column].round(2)
    for column in out.columns.intersection(list(WEIGHT_COLUMNS)):
        out[column] = out[column].round(8)
    return out


def daily_outputs(run: DailyRun, generated_by: str) -> dict[str, bytes]:
    """The five output files of `run`, by file name."""
    weights = run.weights_table()
    signals = {
        "date": f"{run.session:%Y-%m-%d}",
        "model": run.model_info.name,
        "trained_through": f"{run.model_info.trained_through:%Y-%m-%d}",
        "regime": {"code": run.regime.code, "label": run.regime.label, "source": run.regime.source},
        "exposure": run.portfolio.exposure,
        "optimizer": run.portfolio.optimizer,
        "scores": {s: float(v) for s, v in run.scores.sort_index().items()},
        "ranks": {s: int(r) for s, r in run.scores.rank(ascending=False, method="first").items()},
        "selected": sorted(run.portfolio.weights[run.portfolio.weights > 0].index),
    }
    monitoring_log = {
        "summary": run.summary(),
        "safety": run.verdict.to_dict(),
        "kill_switch": run.kill_switch.to_dict() if run.kill_switch else None,
        "monitoring": run.monitoring.as_dict(),
        "model": {
            k: v for k, v in run.model_info.to_dict().items() if k not in ("features", "candidates")
        },
        "feature_count": len(run.model_info.features),
        "data": {
            "source": run.data.source,
            "fingerprint": run.data.fingerprint(),
            "last_date": f"{run.data.last_date:%Y-%m-%d}",
            "symbols": len(run.data.symbols),
            "has_volume": run.data.has_volume,
        },
        "settings_fingerprint": run.settings_fingerprint,
        "warnings": run.warnings,
    }
    history = run.regime.history.iloc[-REPORT_HISTORY:]
    halted = run.kill_switch.message if run.kill_switch and run.kill_switch.halted else None
    report = DailyReportData(
        run_date=run.session,
        generated_by=generated_by,
        dry_run=run.dry_run,
        regime=run.regime.label,
        regime_source=run.regime.source,
        exposure=run.portfolio.exposure,
        model_info=run.model_info,
        scores=run.scores,
        weights=weights[["current_weight", "target_weight"]],
        trades=run.final_trades,
        verdict=run.verdict,
        monitoring=run.monitoring,
        ic_series=run.ic_series,
        warnings=[w for w in run.warnings if w != halted],  # the kill-switch banner says it
        benchmark=run.regime.index_close.reindex(history.index),
        regime_history=history,
        portfolio_value=run.portfolio_value,
        notes=run.notes,
        kill_switch=run.kill_switch,
        equity_curve=run.equity_curve,
        ledger_status=run.ledger_status,
        benchmark_history=run.regime.index_close,  # the tear sheet reads it on the run dates
    )
    return {
        "trades.csv": to_csv(rounded(run.final_trades)).encode(),
        "portfolio_weights.csv": to_csv(rounded(weights), index=True).encode(),
        "signals.json": to_json(signals).encode(),
        "report.html": render_daily_report(report).encode(),
        "monitoring_log.json": to_json(monitoring_log).encode(),
    }
