"""Flow: the daily run for every session of a past range, in order, as of each date (paper trading).

Data and features are loaded once and cut at each session's close (`MarketData.as_of`,
`Dataset.as_of`: the same rows and realized labels a daily run on that date would have seen); the
model is the champion only if its training labels end before the first session, else a LightGBM
trained on the labels known then. Each session then runs exactly the daily steps, and its trades
are applied to the ledger when they pass (auto-approval), so the ledger, the equity curve and the
kill switch build up as they would have live. A blocked session does not stop the replay, nor
sends an alert of its own: the replay fails at the end, and its failure alert names the blocked days.
"""

from datetime import date

from prefect import flow, get_run_logger

from flows.daily_live import run_session
from settings import Settings, load_settings
from tasks.champion import load_champion
from tasks.components import home_lock
from tasks.data import load_market_data
from tasks.live import open_ledger
from tasks.notify import alert_on_failure
from tasks.progress import ProgressTracker
from tasks.research import build_features
from trading_core.data.calendar import sessions_between
from trading_core.data.store import MarketStore
from trading_core.errors import ConfigError, DataError, SafetyViolation
from trading_core.home import Home
from trading_core.reporting.painter import painter


@flow(name="daily-replay", on_failure=[alert_on_failure], on_crashed=[alert_on_failure])
def daily_replay(
    start: date, end: date | None = None, home: str | None = None, config: str | None = None
) -> dict:
    """Replay the daily run over past sessions, building the ledger and performance history.

    Args:
        start: the first session to replay.
        end: the last session to replay (default: the last stored session).
        home: alphapilot home directory (default $ALPHAPILOT_HOME or ./alphapilot_home).
        config: a YAML settings file layered over the defaults.
    """
    settings = load_settings(config, home, live={"require_manual_approval": False})
    with home_lock(settings, f"daily-replay {start}..{end or 'last'}", get_run_logger().info):
        return replay(start, end, settings)


def check_range(start: date, end: date | None, settings: Settings) -> None:
    """DataError naming the range when it ends before it starts, or starts before the stored data
    (its first sessions would have no history to run on)."""
    first, last = MarketStore(Home(settings.home).data).span()
    if f"{start:%Y-%m-%d}" < first:
        raise DataError(
            f"replay {start}..{end or last} starts before the stored market data "
            f"({first}..{last}): start on {first} or later"
        )
    if end is not None and end < start:
        raise DataError(f"replay {start}..{end} ends before it starts")


def replay(start: date, end: date | None, settings: Settings) -> dict:
    """The replay's sessions in order, each a daily run as of its date (the home is locked)."""
    logger = get_run_logger()
    check_range(start, end, settings)
    data = load_market_data(settings, end)
    days = sessions_between(start, data.last_date)
    days = days[days.isin(data.dates)]
    if days.empty:
        raise ConfigError(f"no stored session from {start} to {data.last_date:%Y-%m-%d}")
    dataset = build_features(data, settings)
    first = days[0]
    model, model_info = load_champion(
        dataset.as_of(first), data.as_of(first), settings, before=first.date()
    )
    ledger = open_ledger(settings)
    blocked = []
    described = f"daily replay {days[0]:%Y-%m-%d}..{days[-1]:%Y-%m-%d}"
    with ProgressTracker(described, len(days), unit="sessions") as progress, painter() as paint:
        for day in days:
            try:
                run_session(
                    day.date(),
                    data.as_of(day),
                    dataset.as_of(day),
                    model,
                    model_info,
                    ledger,
                    settings,
                    alerts=False,  # one failure alert at the end names the blocked days
                    paint=paint,
                )
            except SafetyViolation as exc:
                blocked.append({"date": f"{day:%Y-%m-%d}", "reason": str(exc)})
            progress.advance()
    logger.info("replayed %d sessions; %d blocked", len(days), len(blocked))
    summary = {
        "sessions": len(days),
        "first": f"{days[0]:%Y-%m-%d}",
        "last": f"{days[-1]:%Y-%m-%d}",
        "blocked": blocked,
    }
    if blocked:
        raise SafetyViolation(
            f"replay {summary['first']}..{summary['last']}: {len(blocked)} of {len(days)} "
            f"sessions blocked, first {blocked[0]['date']}: {blocked[0]['reason']}"
        )
    return summary
