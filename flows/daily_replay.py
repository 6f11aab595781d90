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
from tasks.sections import ModelSetup
from trading_core.data.calendar import sessions_between
from trading_core.data.store import MarketStore
from trading_core.errors import ConfigError, DataError, SafetyViolation
from trading_core.home import Home


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
    command = f"daily-replay {start}..{end or 'last'}"
    with home_lock(settings.home, settings.orchestration, command, get_run_logger().info):
        return replay(start, end, settings)


def check_range(start: date, end: date | None, home: Home) -> None:
    """DataError naming the range when it ends before it starts, or starts before the stored data
    (its first sessions would have no history to run on)."""
    first, last = MarketStore(home.data).span()
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
    home, setup = Home(settings.home), ModelSetup.of(settings)
    check_range(start, end, home)
    data = load_market_data(home, end)
    sessions = sessions_between(start, data.last_date)
    sessions = sessions[sessions.isin(data.dates)]
    if sessions.empty:
        raise ConfigError(f"no stored session from {start} to {data.last_date:%Y-%m-%d}")
    dataset = build_features(data, setup, settings.orchestration, home)
    first = sessions[0]
    model, model_info = load_champion(
        dataset.as_of(first), data.as_of(first), setup, home, session=first.date()
    )
    ledger = open_ledger(home, settings.live)
    blocked = []
    described = f"daily replay {sessions[0]:%Y-%m-%d}..{sessions[-1]:%Y-%m-%d}"
    with ProgressTracker(described, len(sessions), unit="sessions") as progress:
        for session in sessions:
            try:
                run_session(
                    session.date(),
                    data.as_of(session),
                    dataset.as_of(session),
                    model,
                    model_info,
                    ledger,
                    settings,
                    alerts=False,  # one failure alert at the end names the blocked days
                )
            except SafetyViolation as exc:
                blocked.append({"date": f"{session:%Y-%m-%d}", "reason": str(exc)})
            progress.advance()
    logger.info("replayed %d sessions; %d blocked", len(sessions), len(blocked))
    summary = {
        "sessions": len(sessions),
        "first": f"{sessions[0]:%Y-%m-%d}",
        "last": f"{sessions[-1]:%Y-%m-%d}",
        "blocked": blocked,
    }
    if blocked:
        raise SafetyViolation(
            f"replay {summary['first']}..{summary['last']}: {len(blocked)} of {len(sessions)} "
            f"sessions blocked, first {blocked[0]['date']}: {blocked[0]['reason']}"
        )
    return summary
