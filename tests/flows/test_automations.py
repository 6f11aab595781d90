"""Alerts for a missed or stuck daily run: the Prefect Automations of deployments/automations.py.

Fast tests check the definitions as the Prefect server reads them (which events of which runs
they cover). The slow tests use a real `prefect server start` whose late-runs and foreman
services are sped up by a prefect.toml in its folder: `alphapilot automations create` twice
leaves one of each automation, and with a 10 s deadline the alerts really reach a local webhook
for a late, a stuck, a failed and an unserved run, and not for a completed one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from alert_endpoints import TOKEN, Webhook
from pydantic import ValidationError
from server_process import PrefectServer, running_prefect_server, stop, wait_for
from typer.testing import CliRunner

from app.cli import app
from deployments.automations import (
    BLOCK_NAME,
    NOT_COMPLETED,
    NOT_SERVED,
    NoAlertChannel,
    apply,
    daily_automations,
    not_completed,
    not_served,
    notification_block,
    save_notification_block,
)
from settings import Settings

runner = CliRunner()
URL = f"https://hooks.slack.com/services/T000/B000/{TOKEN}"
SLACK = {"notifications": {"slack_webhook_url": URL}}
# the server's services, fast: Late 1 s after the scheduled time, not-ready 5 s after the last poll
FAST_SERVICES = """
[server.services.late_runs]
after_seconds = 1
loop_seconds = 1

[server.services.foreman]
loop_seconds = 1
deployment_last_polled_timeout_seconds = 5
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No ALPHAPILOT variables from the machine running the tests leak into them."""
    for name in list(os.environ):
        if name.startswith("ALPHAPILOT"):
            monkeypatch.delenv(name)


def by_name(automations) -> dict:
    return {automation.name: automation for automation in automations}


def server_trigger(automation):
    """The automation's trigger as the Prefect server evaluates it."""
    from prefect.server.events.schemas.automations import EventTrigger

    return EventTrigger.model_validate(automation.trigger.model_dump(mode="json"))


def event(name: str, resource: dict, flow: str = "daily-live", deployment: str = "daily-live"):
    """A received event with the related flow and deployment a daily-live run's events carry."""
    from prefect.server.events.schemas.events import ReceivedEvent

    related = [
        {"prefect.resource.id": f"prefect.flow.{uuid4()}", "prefect.resource.role": "flow"}
        | {"prefect.resource.name": flow},
        {"prefect.resource.id": f"prefect.deployment.{uuid4()}"}
        | {"prefect.resource.role": "deployment", "prefect.resource.name": deployment},
    ]
    return ReceivedEvent(
        occurred=datetime.now(UTC), event=name, resource=resource, related=related, id=uuid4()
    )


def run_event(name: str, flow: str = "daily-live", deployment: str = "daily-live"):
    run = {"prefect.resource.id": f"prefect.flow-run.{uuid4()}", "prefect.resource.name": "x"}
    return event(name, run, flow, deployment)


# --- fast: the definitions ---


def test_the_deadline_comes_from_the_settings():
    for minutes in (90, 45):
        settings = Settings(orchestration={"daily_deadline_minutes": minutes}, **SLACK)
        automation = by_name(daily_automations(settings, uuid4()))[NOT_COMPLETED]
        assert automation.trigger.within == timedelta(minutes=minutes)
        assert f"{minutes} minutes" in automation.actions[0].body
        assert f"{minutes} minutes" in automation.description


@pytest.mark.parametrize("minutes", [0, 1441])
def test_a_deadline_outside_a_day_is_refused_naming_the_setting(minutes):
    with pytest.raises(ValidationError, match="daily_deadline_minutes"):
        Settings(orchestration={"daily_deadline_minutes": minutes})


def test_a_daily_run_must_complete_within_the_deadline_of_starting_or_being_late():
    trigger = server_trigger(not_completed(timedelta(minutes=90), uuid4()))
    assert trigger.posture == "Proactive"
    assert trigger.for_each == {"prefect.resource.id"}  # one deadline per flow run
    for state in ("Pending", "Running", "Late"):
        assert trigger.starts_after(f"prefect.flow-run.{state}"), state
    assert not trigger.starts_after("prefect.flow-run.Scheduled")  # days ahead: not a start
    assert trigger.expects("prefect.flow-run.Completed")
    for state in ("Failed", "Crashed", "Cancelled", "Running"):
        assert not trigger.expects(f"prefect.flow-run.{state}"), state  # none of them is done


def test_only_runs_of_the_daily_live_deployment_are_watched():
    trigger = server_trigger(not_completed(timedelta(minutes=90), uuid4()))
    assert trigger.covers(run_event("prefect.flow-run.Late"))
    assert trigger.covers(run_event("prefect.flow-run.Completed"))
    assert not trigger.covers(run_event("prefect.flow-run.Late", deployment="other"))
    assert not trigger.covers(run_event("prefect.flow-run.Late", flow="data-update"))
    assert not trigger.covers(run_event("prefect.flow-run.Late", "data-update", "data-update"))


def test_nothing_polling_for_daily_live_runs_is_an_alert_at_once():
    trigger = server_trigger(not_served(uuid4()))
    assert trigger.posture == "Reactive" and trigger.threshold == 1
    deployment = {"prefect.resource.id": f"prefect.deployment.{uuid4()}"}
    daily = event(
        "prefect.deployment.not-ready", deployment | {"prefect.resource.name": "daily-live"}
    )
    other = event("prefect.deployment.not-ready", deployment | {"prefect.resource.name": "other"})
    ready = event("prefect.deployment.ready", deployment | {"prefect.resource.name": "daily-live"})
    assert trigger.covers(daily)
    assert not trigger.covers(other) and not trigger.covers(ready)


def test_both_alerts_go_to_the_notification_block():
    block_id = uuid4()
    for automation in daily_automations(Settings(**SLACK), block_id):
        [action] = automation.actions
        assert action.type == "send-notification" and action.block_document_id == block_id


def test_the_block_posts_slack_text_to_the_webhook_and_shows_its_url_nowhere():
    block = notification_block(Settings(**SLACK))
    request = block._build_request_args(body="the body", subject="the subject")
    assert request["url"] == URL
    assert request["json"] == {"text": "*the subject*\nthe body"}
    assert TOKEN not in repr(block) and TOKEN not in block.model_dump_json()


def test_without_a_slack_webhook_the_block_is_refused_saying_what_to_set():
    with pytest.raises(NoAlertChannel, match="notifications.slack_webhook_url"):
        notification_block(Settings())


def test_dry_run_prints_both_definitions_without_the_webhook(tmp_path):
    env = {"ALPHAPILOT__NOTIFICATIONS__SLACK_WEBHOOK_URL": URL}
    result = runner.invoke(
        app, ["automations", "create", "--dry-run", "--home", str(tmp_path)], env=env
    )
    assert result.exit_code == 0, result.output
    assert NOT_COMPLETED in result.output and NOT_SERVED in result.output
    assert '"within": 5400.0' in result.output  # the default 90 minutes
    assert TOKEN not in result.output


def test_create_without_a_slack_webhook_says_what_to_configure(tmp_path):
    result = runner.invoke(app, ["automations", "create", "--home", str(tmp_path)])
    assert result.exit_code == 3, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: NoAlertChannel:")
    assert "notifications.slack_webhook_url" in line and "slack_webhook_secret" in line


# --- slow: a real server ---


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[PrefectServer]:
    """A `prefect server start` with fast late-run and foreman services, for this module."""
    folder = tmp_path_factory.mktemp("prefect-server")
    (folder / "prefect.toml").write_text(FAST_SERVICES)  # read from the server's working folder
    with running_prefect_server(folder) as running:
        yield running


@pytest.mark.slow
def test_create_twice_leaves_one_of_each_automation(server, tmp_path):
    from prefect.client.orchestration import get_client

    env = {"ALPHAPILOT__NOTIFICATIONS__SLACK_WEBHOOK_URL": URL}
    command = ["automations", "create", "--home", str(tmp_path)]
    with server.settings():
        outputs = [runner.invoke(app, command, env=env) for _ in range(2)]
        with get_client(sync_client=True) as client:
            automations = client.read_automations()
            block = client.read_block_document_by_name(
                BLOCK_NAME, "custom-webhook", include_secrets=False
            )
    for result in outputs:
        assert result.exit_code == 0, result.output
        assert TOKEN not in result.output
        assert NOT_COMPLETED in result.output and "/automations" in result.output
    assert sorted(a.name for a in automations) == sorted([NOT_COMPLETED, NOT_SERVED])
    automation = by_name(automations)
    assert automation[NOT_COMPLETED].trigger.within == timedelta(minutes=90)
    assert automation[NOT_COMPLETED].trigger.after == {
        "prefect.flow-run.Pending",
        "prefect.flow-run.Running",
        "prefect.flow-run.Late",
    }
    assert automation[NOT_SERVED].trigger.expect == {"prefect.deployment.not-ready"}
    for created in automations:
        assert [a.block_document_id for a in created.actions] == [block.id]
        assert TOKEN not in created.model_dump_json()
    assert TOKEN not in block.model_dump_json()
    assert str(automation[NOT_COMPLETED].id) in outputs[1].output  # replaced, same id


@pytest.mark.slow
def test_alerts_reach_the_webhook_for_late_stuck_failed_and_unserved_runs_only(server):
    """With a 10 s deadline: the alerts arrive within seconds; a completed run sends none."""
    from prefect.blocks.system import Secret
    from prefect.client.orchestration import get_client
    from prefect.states import Completed, Failed, Pending, Running

    hook = Webhook()
    try:
        with server.settings(), get_client(sync_client=True) as client:
            Secret(value=hook.url).save("alphapilot-webhook", overwrite=True)
            settings = Settings(notifications={"slack_webhook_secret": "alphapilot-webhook"})
            block_id = save_notification_block(settings)
            apply(not_completed(timedelta(seconds=10), block_id))
            apply(not_served(block_id))

            flow_id = client.create_flow_from_name("daily-live")
            deployment_id = client.create_deployment(flow_id=flow_id, name="daily-live")
            other = client.create_deployment(flow_id=flow_id, name="other")
            runs = {
                name: client.create_flow_run_from_deployment(deployment_id, name=f"run-{name}")
                for name in ("completed", "late", "stuck", "failed")
            }
            other_late = client.create_flow_run_from_deployment(other, name="run-other")
            started = time.monotonic()
            for name in ("completed", "stuck", "failed"):
                client.set_flow_run_state(runs[name].id, Pending())
                client.set_flow_run_state(runs[name].id, Running())
            client.set_flow_run_state(runs["completed"].id, Completed())
            client.set_flow_run_state(runs["failed"].id, Failed(message="boom"))
            # a runner polls once, then stops: the foreman marks the deployment not ready
            client.get_scheduled_flow_runs_for_deployments(deployment_ids=[deployment_id])

            wait_for(lambda: len(hook.texts) >= 4, 60, "four alerts at the webhook")
            arrived = time.monotonic() - started
            time.sleep(5)  # the completed and the other deployment's deadlines passed too
            states = {name: client.read_flow_run(run.id).state_name for name, run in runs.items()}
            assert client.read_flow_run(other_late.id).state_name == "Late"
            for run in [*runs.values(), other_late]:  # none left for `alphapilot serve` below
                client.delete_flow_run(run.id)
    finally:
        hook.close()

    expected = {"completed": "Completed", "late": "Late", "stuck": "Running", "failed": "Failed"}
    assert states == expected
    texts = hook.texts
    assert len(texts) == 4, texts
    assert arrived < 40, f"alerts took {arrived:.0f} s"
    [unserved] = [t for t in texts if "nothing serves the daily-live deployment" in t]
    assert f"/flows/flow/{flow_id}" in unserved  # the flow's page lists its deployments
    overdue = {name: t for name in states for t in texts if f"daily-live run run-{name} " in t}
    assert set(overdue) == {"late", "stuck", "failed"}, texts
    for name, text in overdue.items():
        assert f"it is {states[name]}." in text and "within 10 seconds of its start" in text
        assert f"/runs/flow-run/{runs[name].id}" in text


@pytest.mark.slow
def test_stopping_alphapilot_serve_is_an_alert_though_no_run_becomes_late(server, tmp_path):
    """Serve pauses daily-live on SIGTERM and Prefect deletes its scheduled runs, so only the
    not-served automation can tell; created with the command, it posts to the webhook."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
    from prefect.client.schemas.objects import DeploymentStatus

    home = tmp_path / "home"
    log = tmp_path / "serve.log"
    alert = "nothing serves the daily-live deployment"
    hook = Webhook()
    try:
        env = {"ALPHAPILOT__NOTIFICATIONS__SLACK_WEBHOOK_URL": hook.url}
        with server.settings():
            created = runner.invoke(app, ["automations", "create", "--home", str(home)], env=env)
        assert created.exit_code == 0, created.output
        started = datetime.now(UTC)
        serve = server.serve("--home", str(home), cwd=tmp_path, log=log)

        def daily_live():
            with server.settings(), get_client(sync_client=True) as client:
                return client.read_deployment_by_name("daily-live/daily-live")

        def polled() -> bool:
            assert serve.poll() is None, log.read_text()[-3000:]
            deployment = daily_live()
            polled_since = deployment.last_polled and deployment.last_polled > started
            return bool(polled_since and deployment.status == DeploymentStatus.READY)

        try:
            wait_for(polled, 90, "alphapilot serve to poll for daily-live runs")
        finally:
            stop(serve)
        assert serve.returncode == 0, log.read_text()[-3000:]
        wait_for(lambda: any(alert in t for t in hook.texts), 60, "the not-served alert")
        with server.settings(), get_client(sync_client=True) as client:
            scheduled = client.read_flow_runs(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["daily-live"]))
            )
        assert daily_live().paused
        assert not [run for run in scheduled if run.state.is_scheduled()]  # nothing to be Late
    finally:
        hook.close()
    [text] = hook.texts  # one alert, and no other
    assert alert in text
