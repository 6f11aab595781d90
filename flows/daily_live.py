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
from tasks.sections import Alerting, ModelSetup, TradingRules
from trading_core.data.calendar import market_today
from trading_core.data.market import MarketData
from trading_core.data.providers import survivorship_note
from trading_core.errors import ConfigError, SafetyViolation
from trading_core.home import Home
from trading_core.live.day_outcome import day_alert, day_warnings
from trading_core.live.ledger import Ledger
from trading_core.ml.dataset import Dataset
from trading_core.ml.model_info import ModelInfo
from trading_core.ml.scorer import Scorer
from trading_core.reporting.daily import DailyRun

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
    folder, setup = Home(settings.home), ModelSetup.of(settings)  # `home` is the user's path
    today = market_today()
    session = run_date or today  # the user's `run_date` is the session from here on
    with home_lock(settings.home, settings.orchestration, f"daily-live {session}", logger.info):
        checked = preflight(folder, session, today)
        if checked.market_closed:
            logger.info("%s: nothing to do", checked.reason)
            return {
                "date": f"{checked.date:%Y-%m-%d}",
                "market_closed": True,
                "reason": checked.reason,
            }
        data = load_market_data(folder, checked.date)
        # scoring and monitoring need only recent rows; a model trained on the spot needs them all
        recent = settings.ops.ic_lookback_days + settings.modeling.label_horizon + MONITOR_MARGIN
        span = recent if has_champion(folder) else None
        dataset = build_features(data, setup, settings.orchestration, folder, span)
        model, model_info = load_champion(dataset, data, setup, folder)
        ledger = open_ledger(folder, settings.live)
        return run_session(checked.date, data, dataset, model, model_info, ledger, settings)


def run_session(
    session: date,
    data: MarketData,
    dataset: Dataset,
    model: Scorer,
    model_info: ModelInfo,
    ledger: Ledger,
    settings: Settings,
    alerts: bool = True,
) -> dict:
    """One session's steps on data known by its close; raises SafetyViolation when blocked.

    Shared by the daily run and the replay, so a replayed day is exactly a daily run. `ledger` is
    the account's, opened once by the flow (`open_ledger`) and passed to each step using it. With
    `alerts`, the day's event (kill switch engaged, trades blocked) or summary is sent; the replay
    turns them off and reports its blocked days once at the end.
    """
    home, rules = Home(settings.home), TradingRules.of(settings)
    scores = score_universe(model, dataset, session)
    regime = detect_regime(data, settings.regime)
    positions = load_positions(ledger, session)
    data, delisted = close_delisted(data, positions, settings.live)
    target = build_portfolio(scores, data, regime, positions, rules, model_info.optimizer)
    guard_splits(data, target, positions, settings.live)  # before anything is recorded
    trades = generate_trades(target, positions, data, rules, delisted)
    curve = account_equity(ledger, session, positions, data)
    judged = since_release(ledger, curve)
    kill = apply_kill_switch(ledger, session, judged, rules)
    verdict = run_safety_checks(target, trades, data, positions, judged, kill, session, rules)
    monitoring, ic_series = monitor_model(model, model_info, dataset, session, settings.ops, home)
    warnings = day_warnings(model_info.warnings, kill, data, target, positions, delisted)
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
    record = record_in_ledger(ledger, run, settings.live)  # the ledger first: files derive from it
    run = replace(run, ledger_status=record.status)  # the report says what the account did
    published = {**publish_daily(run, home), "ledger_status": record.status}
    report = published["files"]["report.html"]
    alert = (
        day_alert(
            session,
            kill,
            verdict,
            run.summary(),
            report,
            settings.notifications.daily_summary,
            current_run_link(),
        )
        if alerts
        else None
    )
    delivered = notify(alert, Alerting.of(settings)) if alert else False
    if not verdict.passed:
        error = SafetyViolation(
            f"trades for {session} BLOCKED, nothing applied to the paper account: "
            f"{'; '.join(verdict.violations)} (report: {report})"
        )
        raise mark_alerted(error) if delivered else error  # alerted: the failure hook stays quiet
    return published
