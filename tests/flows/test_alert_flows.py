"""End to end through Prefect: flows retry the outside world and alert once per event.

A local HTTP server stands in for the Slack webhook; the flows find it through
ALPHAPILOT__NOTIFICATIONS__SLACK_WEBHOOK_URL as they would in production.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from alert_endpoints import TOKEN, Webhook

from trading_core.data.folder import write_folder
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.errors import DataError

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

FAST_MODEL = """
modeling:
  lightgbm: {n_estimators: 60}
"""


@pytest.fixture()
def slack(monkeypatch):
    """A webhook server the flows alert, retries without delay, no cached fetches."""
    server = Webhook((200,))
    for name in [n for n in os.environ if n.startswith("ALPHAPILOT")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ALPHAPILOT__NOTIFICATIONS__SLACK_WEBHOOK_URL", server.url)
    monkeypatch.setenv("ALPHAPILOT__ORCHESTRATION__RETRIES", "2")
    monkeypatch.setenv("ALPHAPILOT__ORCHESTRATION__RETRY_DELAY_SECONDS", "0")
    monkeypatch.setenv("ALPHAPILOT__ORCHESTRATION__CACHE", "false")
    yield server
    server.close()


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("config") / "fast.yaml"
    path.write_text(FAST_MODEL)
    return str(path)


class Vendor:
    """A data vendor that raises each of `failures` in turn, then returns `data`."""

    name = "vendor"

    def __init__(self, failures: list[Exception], data=None) -> None:
        self.failures = list(failures)
        self.data = data
        self.calls = 0

    def fetch(self):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return self.data

    def revision(self) -> str:
        return ""


def use_vendor(monkeypatch, vendor: Vendor) -> None:
    monkeypatch.setattr("tasks.data.make_provider", lambda *args, **kwargs: vendor)


def task_runs(state) -> dict[str, int]:
    """Run count of each task run of the flow run that ended in `state`, by task run name."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    runs = FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
    with get_client(sync_client=True) as client:
        return {run.name: run.run_count for run in client.read_task_runs(flow_run_filter=runs)}


# --- data update: retries and one failure alert ------------------------------------------------


def test_a_vendor_that_stays_down_fails_the_update_after_retries_with_one_alert(
    slack, monkeypatch, tmp_path
):
    from flows.data_update import data_update

    vendor = Vendor([ConnectionError("vendor down")] * 10)
    use_vendor(monkeypatch, vendor)
    home = tmp_path / "home"

    state = data_update(provider="synthetic", home=str(home), return_state=True)

    assert state.is_failed()
    assert vendor.calls == 3  # the first attempt and orchestration.retries = 2
    [text] = slack.texts
    assert "Flow data-update Failed" in text
    assert "Error: ConnectionError: vendor down" in text
    assert "- fetch-market-data" in text and "ConnectionError: vendor down" in text.split("- ")[1]
    assert "|Open the run in Prefect>" in text and "/runs/flow-run/" in text
    assert TOKEN not in text
    assert not (home / "data").exists()


def test_a_vendor_failing_twice_is_retried_to_success_without_alert(slack, monkeypatch, tmp_path):
    from flows.data_update import data_update

    market = generate_synthetic_market(symbols=5, years=1, seed=3)
    vendor = Vendor([ConnectionError("reset"), TimeoutError("slow")], market.data)
    use_vendor(monkeypatch, vendor)
    home = tmp_path / "home"

    state = data_update(provider="synthetic", home=str(home), return_state=True)

    assert state.is_completed()
    assert vendor.calls == 3
    fetches = [count for name, count in task_runs(state).items() if "fetch-market-data" in name]
    assert fetches == [3]
    assert slack.requests == []
    assert (home / "data").exists()


def test_alphapilots_own_data_refusal_is_not_retried(slack, monkeypatch, tmp_path):
    from flows.data_update import data_update

    vendor = Vendor([DataError("close is NaN for MSFT on 2020-03-16")] * 3)
    use_vendor(monkeypatch, vendor)

    state = data_update(provider="synthetic", home=str(tmp_path / "home"), return_state=True)

    assert state.is_failed()
    assert vendor.calls == 1
    [text] = slack.texts
    assert "DataError: close is NaN for MSFT on 2020-03-16" in text


def test_a_flow_failing_on_its_own_config_still_alerts_from_the_environment(slack, tmp_path):
    from flows.daily_live import daily_live

    bad = tmp_path / "bad.yaml"
    bad.write_text("portfolio:\n  top_k: 0\n")

    state = daily_live(home=str(tmp_path / "home"), config=str(bad), return_state=True)

    assert state.is_failed()
    [text] = slack.texts
    assert "Flow daily-live Failed" in text and "ConfigError: invalid settings" in text
    assert "portfolio.top_k" in text


# --- the daily run: one message per event ------------------------------------------------------


@pytest.fixture(scope="module")
def crash(tmp_path_factory) -> tuple[Path, date, date]:
    """A small synthetic data folder whose last session falls 20%: (folder, day before, crash)."""
    market = generate_synthetic_market(symbols=15, years=2, seed=3, ic=0.1)
    close = market.data.close.copy()
    close.iloc[-1] *= 0.8
    benchmark = market.data.benchmark.copy()
    benchmark.iloc[-1] *= 0.8
    folder = tmp_path_factory.mktemp("crash")
    write_folder(
        type(market.data)(
            close=close,
            volume=market.data.volume,
            sectors=market.data.sectors,
            benchmark=benchmark,
            source="synthetic",
        ),
        folder,
    )
    return folder, close.index[-2].date(), close.index[-1].date()


def home_with(folder: Path, home: Path, config: str) -> str:
    from flows.data_update import data_update

    data_update(provider="folder", path=str(folder), home=str(home), config=config)
    return str(home)


def test_the_kill_switch_day_sends_one_alert_and_a_quiet_day_its_summary(
    slack, monkeypatch, crash, config, tmp_path
):
    from flows.daily_live import daily_live

    monkeypatch.setenv("ALPHAPILOT__NOTIFICATIONS__DAILY_SUMMARY", "true")
    folder, before, crash_day = crash
    home = home_with(folder, tmp_path / "home", config)
    assert slack.requests == []  # a data update that works says nothing

    quiet = daily_live(run_date=before, home=home, config=config, return_state=True)
    crashed = daily_live(run_date=crash_day, home=home, config=config, return_state=True)

    assert quiet.result()["safety_passed"] and crashed.is_failed()
    summary, kill = slack.texts
    assert summary.startswith(f":information_source: *Daily run {before:%Y-%m-%d}: ")
    assert "report.html" in summary
    for text, state in ((summary, quiet), (kill, crashed)):  # each links to its own run
        page = f"/runs/flow-run/{state.state_details.flow_run_id}|Open the run in Prefect>"
        assert page in text
    assert kill.startswith(f":rotating_light: *Kill switch engaged on {crash_day:%Y-%m-%d}")
    assert (
        "(daily_loss)" in kill and "alphapilot resume" in kill and "TRIPPED on daily_loss" in kill
    )
    assert "Flow daily-live Failed" not in "".join(slack.texts)  # the hook did not repeat it


def test_a_replay_sends_no_alert_per_session_and_one_at_the_end(
    slack, monkeypatch, crash, config, tmp_path
):
    from flows.daily_replay import daily_replay

    monkeypatch.setenv("ALPHAPILOT__NOTIFICATIONS__DAILY_SUMMARY", "true")
    folder, before, crash_day = crash
    home = home_with(folder, tmp_path / "home", config)

    state = daily_replay(start=before, end=crash_day, home=home, config=config, return_state=True)

    assert state.is_failed()
    [text] = slack.texts
    assert "Flow daily-replay Failed" in text
    assert "1 of 2 sessions blocked" in text and f"{crash_day:%Y-%m-%d}" in text
