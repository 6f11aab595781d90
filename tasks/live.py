"""Daily-run tasks: score, regime, portfolio, trades, safety and monitoring for one session."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
from prefect import get_run_logger

from settings.portfolio import RegimeSettings
from settings.trading import LiveSettings, OpsSettings
from tasks.components import detector_for, policy_for, trade_generator_for, validator_for
from tasks.options import step
from tasks.sections import TradingRules
from trading_core.data.market import MarketData
from trading_core.data.universe import left_universe
from trading_core.home import Home
from trading_core.live.corporate_actions import check_splits, forced_exits, with_last_close
from trading_core.live.kill_switch import KillSwitchStatus
from trading_core.live.ledger import Ledger, RunRecord
from trading_core.live.monitoring import OpsMonitor
from trading_core.live.monitoring_report import MonitoringReport
from trading_core.live.operations import LivePortfolioManager
from trading_core.live.positions import Positions
from trading_core.live.safety_checks import Check, SafetyVerdict
from trading_core.live.trade_generator import turnover
from trading_core.ml.dataset import Dataset
from trading_core.ml.model_info import ModelInfo
from trading_core.ml.score_memo import SUFFIX, model_id, remembered_scores
from trading_core.ml.scorer import Scorer
from trading_core.portfolio.construct import PortfolioResult
from trading_core.regime import RegimeState
from trading_core.reporting.daily import DailyRun


@step("score-universe")
def score_universe(model: Scorer, dataset: Dataset, session: date) -> pd.Series:
    """Model scores for every symbol priced on `session` (index: symbol)."""
    rows = dataset.rows.xs(pd.Timestamp(session), level="date", drop_level=False)
    scores = model.predict(rows).droplevel("date").rename_axis("symbol")
    get_run_logger().info("scored %d symbols for %s", len(scores), session)
    return scores


@step("detect-regime")
def detect_regime(data: MarketData, regime: RegimeSettings) -> RegimeState:
    """The market regime at the close of the last date, from the benchmark trend and volatility."""
    state = detector_for(regime).detect(data)
    get_run_logger().info("regime %s (from %s)", state.label, state.source)
    return state


@step("build-portfolio")
def build_portfolio(
    scores: pd.Series,
    data: MarketData,
    regime: RegimeState,
    positions: Positions,
    rules: TradingRules,
    optimizer: str | None = None,
) -> PortfolioResult:
    """Capped long-only target weights for the regime's top-K names at the regime's exposure.

    Built from the `positions` held, at their weights at the session's closes, so the turnover
    controls act as in the backtest. `optimizer` is the champion's (selected with its model);
    without one, `portfolio.optimizer`.
    """
    current = positions.weights(data.close.iloc[-1])
    policy = policy_for(rules, data.sectors, optimizer)
    result = policy.build(scores, data.close, regime.key, current)
    logger = get_run_logger()
    logger.info(
        "target: %d names, exposure %.0f%%, cash %.0f%% (%s)",
        (result.weights > 0).sum(),
        100 * result.weights.sum(),
        100 * result.cash,
        result.optimizer,
    )
    for note in result.notes:
        logger.info("optimizer note: %s", note)
    if result.fallback_reason:
        logger.warning("optimizer fallback: %s", result.fallback_reason)
    return result


def open_ledger(home: Home, live: LiveSettings, create: bool = True) -> Ledger:
    """The account's ledger under `<home>/live/`; with `create`, a new home's opens all cash at the
    initial capital (`live.initial_capital`, or a hand-written current_positions.csv). Opened once
    per run (or command) and passed to the steps that need it: it holds a path, not a connection."""
    return Ledger.at_home(home, live.initial_capital, create=create)


@step("load-positions")
def load_positions(ledger: Ledger, session: date) -> Positions:
    """Holdings and cash before `session`: the opening balance plus every run applied earlier.

    Refused (LedgerInconsistent) when the ledger or its positions export was edited by hand.
    """
    ledger.verify()
    positions = ledger.positions(before=session)
    get_run_logger().info(
        "positions before %s: %d names, cash %.2f",
        session,
        (positions.shares > 0).sum(),
        positions.cash,
    )
    return positions


@step("split-guard")
def guard_splits(
    data: MarketData, target: PortfolioResult, positions: Positions, live: LiveSettings
) -> None:
    """Refuse the run when a held or targeted close moves on the session like an unadjusted split.

    Nothing has been recorded yet, so a refused run leaves the account as it was; the tolerance is
    `live.split_guard_tolerance` (0: off). No split events are stored yet: none is recorded.
    """
    held = positions.shares[positions.shares != 0].index
    targeted = target.weights[target.weights > 0].index
    check_splits(data.close, held.union(targeted), live.split_guard_tolerance)


@step("close-delisted")
def close_delisted(
    data: MarketData, positions: Positions, live: LiveSettings
) -> tuple[MarketData, dict[str, str]]:
    """The run's data with each held name of `live.delisted_symbols` that has no close on the
    session priced at its last close, and the forced sales (symbol -> trade reason) of those names
    and of the held names that left the universe (`data.universe`) by the session.

    The one place a missing close is filled: trades, account value, safety checks, the report and
    the ledger all read the returned data. Any other held name without a close is a DataError
    saying how to close it. A listed name that still trades is left alone; a name that left the
    universe is sold whether it still trades or not.
    """
    held = positions.shares[positions.shares != 0].index
    listed = live.delisted_symbols
    logger = get_run_logger()
    last = data.close.iloc[-1]
    for symbol in held.intersection(listed):
        if last.get(symbol, float("nan")) > 0:
            logger.info("%s is in live.delisted_symbols but still trades: left alone", symbol)
    left = {} if data.universe is None else left_universe(data.universe, held, data.last_date)
    closes, exits = forced_exits(data.close, held, listed, left)
    for symbol, end in left.items():
        logger.warning("%s left the universe on %s: sold in full", symbol, end.date())
    for symbol, last_close in closes.items():
        logger.warning(
            "%s has no close on %s: sold at its last close of %s",
            symbol,
            data.last_date.date(),
            last_close.date(),
        )
    if not closes:
        return data, exits
    return replace(data, close=with_last_close(data.close, closes)), exits


@step("account-equity")
def account_equity(
    ledger: Ledger, session: date, positions: Positions, data: MarketData
) -> pd.Series:
    """Account value after each earlier run, then at this session's close before trading."""
    curve = ledger.equity_curve()
    curve.index = pd.DatetimeIndex(curve.index)
    today = pd.Timestamp(session)
    now = pd.Series([positions.value(data.close.iloc[-1])], index=pd.DatetimeIndex([today]))
    return pd.concat([curve[curve.index < today], now]).rename("equity")


@step("generate-trades")
def generate_trades(
    target: PortfolioResult,
    positions: Positions,
    data: MarketData,
    rules: TradingRules,
    forced_exits: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Trades from current positions to the target, sized in shares, with cost estimates.

    `forced_exits`: held names sold in full whatever the limits (symbol -> reason).
    """
    prices = data.close.iloc[-1]
    value = positions.value(prices)
    generator = trade_generator_for(rules)
    trades = generator.generate_trades(
        positions.shares,
        target.weights,
        prices,
        value,
        positions.cash,
        volume=data.volume,
        forced_exits=forced_exits,
    )
    logger = get_run_logger()
    logger.info(
        "%d trades proposed, turnover %.1f%% of %.0f",
        (trades["status"] == "proposed").sum(),
        100 * turnover(trades),
        value,
    )
    gaps = generator.liquidity_gaps(trades, data.volume)
    if data.has_volume and gaps:
        logger.warning("no volume for %s: liquidity not checked", ", ".join(gaps))
    return trades


@step("run-safety-checks")
def run_safety_checks(
    target: PortfolioResult,
    trades: pd.DataFrame,
    data: MarketData,
    positions: Positions,
    equity_curve: pd.Series,
    kill: KillSwitchStatus,
    session: date,
    rules: TradingRules,
) -> SafetyVerdict:
    """Every safety rule and the kill switch; a failure blocks every trade of the run."""
    held = positions.shares[positions.shares != 0].index.tolist()
    verdict = validator_for(rules).validate(
        target.weights,
        trades,
        data.close,
        held,
        target_exposure=target.exposure,
        portfolio_value=positions.value(data.close.iloc[-1]),
        sectors=data.sectors if len(data.sectors) else None,
        equity_curve=equity_curve,
    )
    if kill.halted and kill.engaged_since != session:
        verdict = SafetyVerdict(
            [*verdict.checks, Check("kill_switch_engaged", False, kill.message)]
        )
    logger = get_run_logger()
    if verdict.passed:
        logger.info("safety checks passed (%d checks)", len(verdict.checks))
    else:
        logger.error("safety checks FAILED: %s", "; ".join(verdict.violations))
    return verdict


def since_release(ledger: Ledger, curve: pd.Series) -> pd.Series:
    """The equity curve the kill switch judges: from the session of its last release on."""
    released = [e for e in ledger.kill_switch_history() if e.event == "resumed" and e.run_date]
    return curve[curve.index >= pd.Timestamp(released[-1].run_date)] if released else curve


@step("kill-switch")
def apply_kill_switch(
    ledger: Ledger, session: date, curve: pd.Series, rules: TradingRules
) -> KillSwitchStatus:
    """Engage the persisted kill switch when today's reading trips it; report whether it is on."""
    today = validator_for(rules).check_kill_switch(curve)
    if today.reason is not None:  # tripped, on this rule
        details = {"daily_return": today.daily_return, "rolling_sharpe": today.rolling_sharpe}
        ledger.engage_kill_switch(session, today.reason, {**details, "detail": today.detail})
    engaged = ledger.kill_switch()
    status = KillSwitchStatus(
        today,
        engaged.run_date if engaged else None,
        engaged.reason if engaged else None,
    )
    if status.halted:
        get_run_logger().error(status.message)
    return status


@step("record-in-ledger")
def record_in_ledger(ledger: Ledger, run: DailyRun, live: LiveSettings) -> RunRecord:
    """Record the run (applied at once when paper trading without `live.require_manual_approval`);
    the ledger rewrites its CSV exports."""
    passed = run.verdict.passed
    record = ledger.record_run(
        run.session,
        run.trades,
        run.data.close.ffill().iloc[-1],
        status="proposed" if passed else "blocked",
        apply=passed and not live.require_manual_approval,
        summary=run.summary(),
        model_id=run.model_info.name,
        data_fingerprint=run.data.fingerprint(),
        reason="; ".join(run.verdict.violations),
        basis=run.positions,
    )
    logger = get_run_logger()
    logger.info("ledger: run of %s is %s", run.session, record.status)
    if record.note:
        logger.warning("ledger: %s", record.note)
    return record


@step("monitor-model")
def monitor_model(
    model: Scorer,
    model_info: ModelInfo,
    dataset: Dataset,
    session: date,
    ops: OpsSettings,
    home: Home,
) -> tuple[MonitoringReport, pd.Series]:
    """Live rank IC of the published signals (`home`'s earlier days) and of the model since its
    cutoff; feature coverage.

    The model scores only the rows since its cutoff whose outcome is known, and a saved model
    only those it did not score on an earlier day (`score_memo`, under `home`'s cache).
    """
    monitor = OpsMonitor(ops.ic_lookback_days, ops.ic_alert_threshold, horizon=dataset.horizon)
    manager = LivePortfolioManager(home)
    published = manager.published_scores(session, ops.ic_lookback_days + dataset.horizon)
    matured = dataset.rows[dataset.matured_after(model_info.trained_through)]
    saved = model_id(model_info.to_dict())
    memo = home.cache / "scores" / f"{saved}{SUFFIX}" if saved else None
    model_scores = remembered_scores(model, matured, memo)
    report, ic = monitor.report(
        monitor.ic(published, dataset.labels),
        monitor.ic(model_scores, dataset.labels),
        dataset.rows.xs(pd.Timestamp(session), level="date"),
        published=published,
        model_scores=model_scores,
        forward_returns=dataset.forward_returns,
    )
    get_run_logger().info(
        "live rank IC %s over %d sessions (%s); feature coverage %.0f%%",
        "n/a" if report.live_ic is None else f"{report.live_ic:.4f}",
        report.live_ic_sessions,
        report.live_ic_source or "not enough history",
        100 * report.feature_coverage,
    )
    return report, ic
