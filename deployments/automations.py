"""Alerts for a missed or stuck daily run: Prefect Automations, defined here, created on a
Prefect server by `alphapilot automations create`.

A daily-live run that does not complete must be an alert, not silence. The server evaluates
automations itself, so they alert even when nothing of alphapilot is running. Two are needed,
because a missing run leaves one of two traces on the server:

1. "alphapilot: daily-live not completed": a Proactive EventTrigger with one bucket per flow
   run (`for_each` prefect.resource.id). The bucket opens on the run's first `after` event:
   Pending or Running (a runner or worker started it), or Late (its scheduled time passed and
   nothing started it: serve or the worker was killed, or is stuck). It fires when no Completed
   event for that run follows within `orchestration.daily_deadline_minutes`. That covers a run
   never picked up, a run stuck in Running (a hung step; a serve process killed mid-run leaves
   the run Running for ever), and a run that ended Failed, Crashed or Cancelled (no Completed
   comes; the flow's own failure hook has already alerted at once, this one says the day is
   still not done). The server never moves an open bucket, so the deadline counts from the
   first of those events, within seconds of the scheduled start (Late comes 15 s after it), even
   when a late run is picked up later; a Completed run, even after retries, fires nothing.
2. "alphapilot: daily-live not served": a Reactive EventTrigger on `prefect.deployment.not-ready`,
   which the server emits when nothing has polled for the deployment's runs for 60 s. The first
   automation cannot see this case: `alphapilot serve` stopped with Ctrl-C or SIGTERM pauses its
   deployments, and Prefect deletes a paused deployment's scheduled runs, so there is no run to
   become Late. It alerts once per outage (when a worker stops polling the pool, too).

Not chosen: a Proactive trigger without `after` ("one Completed per day"): its window runs from
when the automation was loaded, not from 17:30, and it would fire every weekend. Not covered:
the Prefect server itself down, since it is what evaluates automations.

Runs are matched by their related flow and deployment, both named daily-live: by name, so the
automations can be created before the deployment exists and survive its re-registration by
`alphapilot serve` or `prefect deploy`.

Delivery: a "Custom Webhook" notification block saved from the alphapilot settings POSTs
`{"text": ...}` to the Slack webhook, as alphapilot's own alerts do; the URL is one of the block's
secret values, never in the automation's definition nor printed. (Prefect's SlackWebhook block
drops URLs outside hooks.slack.com; Prefect has no SMTP notification block, so email is not a
channel here.)
"""

from __future__ import annotations

import tasks  # noqa: F401  (offline, no-telemetry Prefect environment before Prefect loads)

# isort: split
from datetime import timedelta
from uuid import UUID

from prefect.automations import Automation, EventTrigger, Posture, SendNotification
from prefect.blocks.notifications import CustomWebhookNotificationBlock

from settings import Settings
from tasks.notify import channels, webhook_url
from trading_core.errors import ConfigError

DAILY = "daily-live"
BLOCK_NAME = "alphapilot-slack"
NOT_COMPLETED = f"alphapilot: {DAILY} not completed"
NOT_SERVED = f"alphapilot: {DAILY} not served"
STARTED = {"prefect.flow-run.Pending", "prefect.flow-run.Running", "prefect.flow-run.Late"}
COMPLETED = "prefect.flow-run.Completed"
NOT_READY = "prefect.deployment.not-ready"
FLOW = {"prefect.resource.role": "flow", "prefect.resource.name": DAILY}
DEPLOYMENT = {"prefect.resource.role": "deployment", "prefect.resource.name": DAILY}


class NoAlertChannel(ConfigError):
    """No Slack webhook is configured, so an automation could alert nobody."""


def deadline(settings: Settings) -> timedelta:
    """How long after its start a daily-live run may take to complete."""
    return timedelta(minutes=settings.orchestration.daily_deadline_minutes)


def duration(span: timedelta) -> str:
    """`90 minutes`, or `10 seconds` for a span under a minute (tests use those)."""
    seconds = span.total_seconds()
    value, unit = (seconds / 60, "minute") if seconds >= 60 else (seconds, "second")
    return f"{value:g} {unit}{'' if value == 1 else 's'}"


def not_completed(within: timedelta, block_id: UUID) -> Automation:
    """Alert when a daily-live run has no Completed event `within` its start (or being Late)."""
    limit = duration(within)
    return Automation(
        name=NOT_COMPLETED,
        description=(
            f"A {DAILY} run that started or became Late and has not Completed within {limit}: "
            "missed (serve or worker down), stuck, failed or crashed."
        ),
        trigger=EventTrigger(
            posture=Posture.Proactive,
            after=STARTED,
            expect={COMPLETED},
            for_each={"prefect.resource.id"},
            match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related=[FLOW, DEPLOYMENT],
            threshold=1,
            within=within,
        ),
        actions=[
            SendNotification(
                block_document_id=block_id,
                subject="alphapilot: the daily-live run {{ flow_run.name }} has not completed",
                body=(
                    "The daily-live run {{ flow_run.name }} (scheduled "
                    "{{ flow_run.expected_start_time }}) has not completed within "
                    + limit
                    + " of its start; it is {{ flow_run.state_name }}. "
                    "Late: nothing started it (is `alphapilot serve` or the worker running?). "
                    "Running: it is stuck. Failed, Crashed or Cancelled: see its logs.\n"
                    "{{ flow_run|ui_url }}"
                ),
            )
        ],
    )


def not_served(block_id: UUID) -> Automation:
    """Alert when nothing has polled for daily-live runs for a minute (serve or worker down)."""
    return Automation(
        name=NOT_SERVED,
        description=(
            f"Nothing has polled for {DAILY} runs for a minute: `alphapilot serve` or the worker "
            "stopped, so the next scheduled run will not start."
        ),
        trigger=EventTrigger(
            posture=Posture.Reactive,
            expect={NOT_READY},
            match={"prefect.resource.id": "prefect.deployment.*", "prefect.resource.name": DAILY},
            match_related=FLOW,
            threshold=1,
        ),
        actions=[
            SendNotification(
                block_document_id=block_id,
                subject=f"alphapilot: nothing serves the {DAILY} deployment",
                body=(
                    f"No runner or worker has polled for {DAILY} runs for a minute, so its next "
                    "scheduled run will not start. Start `alphapilot serve` again (or the worker "
                    "on the alphapilot pool).\n{{ flow|ui_url }}"
                ),
            )
        ],
    )


def daily_automations(settings: Settings, block_id: UUID) -> list[Automation]:
    """The daily-live alerts, with the deadline from the settings, notifying through `block_id`."""
    return [not_completed(deadline(settings), block_id), not_served(block_id)]


def require_alert_channel(settings: Settings) -> None:
    """NoAlertChannel unless a Slack webhook (URL or Prefect Secret block name) is configured."""
    if "slack" not in channels(settings.notifications):
        email = (
            " (Prefect automations cannot send email)"
            if "email" in channels(settings.notifications)
            else ""
        )
        raise NoAlertChannel(
            "the daily-run automations alert through Slack: set notifications.slack_webhook_url "
            "(or ALPHAPILOT__NOTIFICATIONS__SLACK_WEBHOOK_URL) or "
            f"notifications.slack_webhook_secret (a Prefect Secret block name){email}"
        )


def slack_webhook(settings: Settings) -> str:
    """The Slack webhook URL the automations post to (a Secret block is read from the server)."""
    require_alert_channel(settings)
    url = webhook_url(settings.notifications)
    if not url:
        raise NoAlertChannel("notifications.slack_webhook_url is empty")
    return url


def notification_block(settings: Settings) -> CustomWebhookNotificationBlock:
    """A block posting the subject and body as Slack's `{"text": ...}` to the webhook, whose URL
    it holds as a secret value."""
    return CustomWebhookNotificationBlock(
        name="alphapilot",
        url="{{webhook_url}}",
        json_data={"text": "*{{subject}}*\n{{body}}"},
        secrets={"webhook_url": slack_webhook(settings)},
        timeout=settings.notifications.timeout_seconds,
    )


def save_notification_block(settings: Settings) -> UUID:
    """Save (or replace) the notification block `BLOCK_NAME` on the server; its id."""
    return notification_block(settings).save(BLOCK_NAME, overwrite=True)


def apply(automation: Automation) -> Automation:
    """Create `automation` on the server, or replace the one of the same name (and any copies)."""
    from prefect.client.orchestration import get_client
    from prefect.events.schemas.automations import AutomationCore

    # without owner_resource, which the server accepts on create and refuses on update
    definition = AutomationCore(**automation.model_dump(exclude={"id", "owner_resource"}))
    with get_client(sync_client=True) as client:
        existing = client.read_automations_by_name(automation.name)
        if existing:
            kept, *copies = existing
            client.update_automation(kept.id, definition)
            for copy in copies:
                client.delete_automation(copy.id)
            automation.id = kept.id
        else:
            automation.id = client.create_automation(definition)
    return automation


def create_automations(settings: Settings) -> list[Automation]:
    """Save the notification block, then create or replace the daily-live automations."""
    block_id = save_notification_block(settings)
    return [apply(automation) for automation in daily_automations(settings, block_id)]
