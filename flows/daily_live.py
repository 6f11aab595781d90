"""Flow: trade recommendations for one session, from stored data to report (dry-run by default)."""

from dataclasses import replace
from datetime import date

from prefect import flow, get_run_logger

from settings import Settings, load_settings
from tasks.champion import has_champion, load_champion
from tasks.components import home_lock
from tasks.data import load_market_data, preflight
from tasks.live import (
    account_equity,
    apply_kill_switch,
    build_portfolio,
    close_delisted,
    detect_regime,
    generate_trades,
    guard_splits,
    load_positions,
    monitor_model,
    open_ledger,
    record_in_ledger,
    run_safety_checks,
    score_universe,
    since_release,
)
from tasks.notify import alert_on_failure, current_run_link, mark_alerted, notify
from tasks.reporting import publish_daily
from tasks.research import build_features
from trading_core.alerts import Alert, daily_summary_alert, kill_switch_alert, safety_block_alert
from trading_core.data.calendar import market_today
from trading_core.data.market import MarketData
from trading_core.data.providers import survivorship_note
from trading_core.data.quality import recent_gaps
from trading_core.errors import ConfigError, SafetyViolation
from trading_core.live.ledger import Ledger
from trading_core.ml.dataset import Dataset
from trading_core.ml.model_info import ModelInfo
from trading_core.ml.scorer import Scorer
from trading_core.reporting.daily import DailyRun
from trading_core.reporting.painter import Painter, here, painter

MONITOR_MARGIN = 10  # sessions of feature rows kept beyond the monitoring window


@flow(name="daily-live", on_failure=[alert_on_failure], on_crashed=[alert_on_failure])
def daily_live(
    run_date: date | None = None,
    dry_run: bool = True,
    home: str | None = None,
    config: str | None = None,
) -> dict:
    """Score the universe, build the target portfolio and the trades for one session.

    Args:
        run_date: the session to run for (default: today in New York). Weekends and holidays
            end cleanly with "market closed" and write nothing.
        dry_run: recommendations only; nothing is sent to a broker (the only mode available).
        home: alphapilot home directory (default $ALPHAPILOT_HOME or ./alphapilot_home).
        config: a YAML settings file layered over the defaults.
    """
    settings = load_settings(config, home)
    if not (dry_run and settings.live.dry_run):
        raise ConfigError("live order placement is not available: no broker adapter is configured")
    logger = get_run_logger()
    today = market_today()
    with home_lock(settings, f"daily-live {run_date or today}", logger.info):
        session = preflight(settings, run_date or today, today)
        if session.market_closed:
            logger.info("%s: nothing to do", session.reason)
            return {
                "date": f"{session.date:%Y-%m-%d}",
                "market_closed": True,
                "reason": session.reason,
            }
        with painter() as paint:  # a chart process warms up while the session's steps run
            data = load_market_data(settings, session.date)
            # scoring and monitoring need only recent rows; a model trained on the spot, them all
            recent = (
                settings.ops.ic_lookback_days + settings.modeling.label_horizon + MONITOR_MARGIN
            )
            dataset = build_features(data, settings, recent if has_champion(settings) else None)
            model, model_info = load_champion(dataset, data, settings)
            ledger = open_ledger(settings)
            return run_session(
                session.date, data, dataset, model, model_info, ledger, settings, paint=paint
            )


def run_session(
    session: date,
    data: MarketData,
    dataset: Dataset,
    model: Scorer,
    model_info: ModelInfo,
    ledger: Ledger,
    settings: Settings,
    alerts: bool = True,
    paint: Painter = here,
) -> dict:
    """One session's steps on data known by its close; raises SafetyViolation when blocked.

    Shared by the daily run and the replay, so a replayed day is exactly a daily run. `ledger` is
    the account's, opened once by the flow (`open_ledger`) and passed to each step using it. With
    `alerts`, the day's event (kill switch engaged, trades blocked) or summary is sent; the replay
    turns them off and reports its blocked days once at the end. The report's charts are asked
    of `paint` (`trading_core.reporting.painter`).
    """
    scores = score_universe(model, dataset, session)
    regime = detect_regime(data, settings)
    positions = load_positions(ledger, session)
    data, delisted = close_delisted(data, positions, settings)
    target = build_portfolio(scores, data, regime, positions, settings, model_info.optimizer)
    guard_splits(data, target, positions, settings)  # before anything is recorded
    trades = generate_trades(target, positions, data, settings, delisted)
    curve = account_equity(ledger, session, positions, data)
    judged = since_release(ledger, curve)
    kill = apply_kill_switch(ledger, session, judged, settings)
    verdict = run_safety_checks(target, trades, data, positions, judged, kill, session, settings)
    monitoring, ic_series = monitor_model(
        model, dataset, model_info.trained_through, session, settings
    )
    warnings = list(model_info.warnings)
    if kill.halted:
        warnings = [*warnings, kill.message]
    if not data.has_volume:
        warnings = [*warnings, "liquidity check skipped: no volume in the data"]
    if target.fallback_reason:
        warnings = [*warnings, f"optimizer fallback: {target.fallback_reason}"]
    warnings = [*warnings, *(f"forced exit of {name}: {why}" for name, why in delisted.items())]
    involved = positions.shares[positions.shares != 0].index.union(
        target.weights[target.weights > 0].index
    )
    warnings = [*warnings, *recent_gaps(data.close, involved)]
    caveat = survivorship_note(data)
    run = DailyRun(
        session=session,
        dry_run=True,
        data=data,
        scores=scores,
        regime=regime,
        portfolio=target,
        positions=positions,
        trades=trades,
        verdict=verdict,
        model_info=model_info,
        monitoring=monitoring,
        ic_series=ic_series,
        warnings=warnings,
        notes=[caveat] if caveat else [],
        settings_fingerprint=settings.fingerprint(),
        kill_switch=kill,
        equity_curve=curve,
    )
    record = record_in_ledger(ledger, run, settings)  # the ledger first: files are derived from it
    run = replace(run, ledger_status=record.status)  # the report says what the account did
    published = {**publish_daily(run, settings, paint), "ledger_status": record.status}
    report = published["files"]["report.html"]
    alert = day_alert(run, report, settings.notifications.daily_summary) if alerts else None
    delivered = notify(alert, settings) if alert else False
    if not verdict.passed:
        error = SafetyViolation(
            f"trades for {session} BLOCKED, nothing applied to the paper account: "
            f"{'; '.join(verdict.violations)} (report: {report})"
        )
        raise mark_alerted(error) if delivered else error  # alerted: the failure hook stays quiet
    return published


def day_alert(run: DailyRun, report: str, summary: bool) -> Alert | None:
    """The session's one message, if any: kill switch engaged, trades blocked, or the summary.

    The kill switch engaging blocks the day too; its alert lists the violations, so one event
    makes one message. An alert carries the day's figures, so no summary follows it, the report's
    path and, when the run has a page in the Prefect UI, its link.
    """
    kill, verdict, figures = run.kill_switch, run.verdict, run.summary()
    link = current_run_link()
    if kill is not None and kill.halted and kill.engaged_since == run.session:
        today = kill.today
        return kill_switch_alert(
            run.session,
            kill.engaged_reason,
            today.daily_return,
            today.rolling_sharpe,
            today.detail,
            verdict.violations,
            report,
            link,
        )
    if not verdict.passed:
        key = {k: figures[k] for k in ("turnover", "estimated_cost", "exposure", "portfolio_value")}
        return safety_block_alert(run.session, verdict.violations, key, report, link)
    return daily_summary_alert(figures, report, link) if summary else None
