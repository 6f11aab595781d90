"""Alert delivery through Prefect: a retried task per channel, and the failure hook of the flows.

A notification must never fail the trading run nor hide its original error: `notify` catches a
final delivery failure, logs one warning per failed channel (never the webhook URL or the SMTP
password) and returns False. Every error text that reaches a log or an alert passes through
`redact_secrets` first (`trading_core.redaction`): no configured secret, no secret part of a URL.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from prefect import Flow, get_client, get_run_logger, task
from prefect.blocks.system import Secret
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    TaskRunFilter,
    TaskRunFilterState,
    TaskRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, State, StateType
from prefect.exceptions import MissingContextError
from prefect.runtime import flow_run as runtime_flow_run
from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL

from settings import Settings, load_settings
from settings.runtime import NotificationSettings
from tasks.options import outside_world
from tasks.sections import Alerting
from trading_core.alerts import (
    Alert,
    email_message,
    failure_alert,
    post_slack,
    send_email,
    slack_payload,
)
from trading_core.errors import AlphapilotError
from trading_core.redaction import redact

ALERTED = "alphapilot_alerted"  # set on an exception whose event was already alerted


def webhook_url(notifications: NotificationSettings) -> str | None:
    """The Slack webhook URL: from the settings, or from the Prefect Secret block they name."""
    n = notifications
    if n.slack_webhook_url is not None:
        return n.slack_webhook_url.get_secret_value() or None
    if n.slack_webhook_secret:
        # Prefect's async_dispatch types `load` as `Secret | Coroutine`: from sync code, a Secret
        return str(Secret.load(n.slack_webhook_secret).get())  # type: ignore[union-attr]
    return None


def channels(notifications: NotificationSettings) -> list[str]:
    """The configured channels: "slack" with a webhook (URL or Secret block), "email" with a host."""
    n = notifications
    found = ["slack"] if n.slack_webhook_url is not None or n.slack_webhook_secret else []
    return found + (["email"] if n.email.host else [])


@task(name="send-notification", task_run_name="send-notification-{channel}", cache_policy=NO_CACHE)
def send_notification(alert: Alert, notifications: NotificationSettings, channel: str) -> None:
    """Deliver `alert` on `channel` (slack | email); raises NotificationError when it fails.

    One task run per channel, so a retry never repeats a message a working channel delivered.
    """
    n = notifications
    if channel == "slack":
        url = webhook_url(n)
        if not url:
            raise ValueError("no Slack webhook URL is configured")
        post_slack(url, slack_payload(alert), n.timeout_seconds)
    elif channel == "email":
        e = n.email
        if not e.host:
            raise ValueError("no SMTP host is configured")
        password = e.password.get_secret_value() if e.password else None
        message = email_message(alert, e.sender, e.recipients)
        send_email(message, e.host, e.port, e.security, e.username, password, n.timeout_seconds)
    else:
        raise ValueError(f"unknown notification channel {channel!r}")
    logger().info("alert %r delivered by %s", alert.title, channel)


def notify(alert: Alert, alerting: Alerting) -> bool:
    """Send `alert` on every configured channel (retried); True only if every channel delivered.

    Never raises: a channel that still fails after its retries is logged as one warning.
    """
    configured = channels(alerting.notifications)
    if not configured:
        logger().debug("no alert channel configured: %r not sent", alert.title)
        return False
    send = outside_world(send_notification, alerting.orchestration)
    delivered = True
    for channel in configured:
        try:
            state = send(alert, alerting.notifications, channel, return_state=True)
            failed = not state.is_completed()
            error = state.result(raise_on_failure=False) if failed else None
        except Exception as exc:  # the orchestration itself failed: still never fail the run
            failed, error = True, exc
        if failed:
            reason = redact_secrets(f"{type(error).__name__}: {error}", alerting)
            logger().warning("alert %r NOT delivered by %s: %s", alert.title, channel, reason)
            delivered = False
    return delivered


def redact_secrets(text: str, alerting: Alerting) -> str:
    """`text` without the configured webhook URL, SMTP password or Optuna storage URL (nor their
    parts: `alerting.secrets`), and without the secret parts of any URL in it."""
    return redact(text, [s.get_secret_value() for s in alerting.secrets])


def mark_alerted(error: BaseException) -> BaseException:
    """`error` marked as already alerted, so the failure hook does not send it a second time."""
    setattr(error, ALERTED, True)
    return error


def alerted(state: State) -> bool:
    """Whether the exception that ended `state` was already alerted by the run itself."""
    try:
        error = state.result(raise_on_failure=False)
    except Exception:  # a result that cannot be read was not marked
        return False
    return bool(getattr(error, ALERTED, False))


def alert_on_failure(flow: Flow, flow_run: FlowRun, state: State) -> None:
    """Flow hook (`on_failure` and `on_crashed`): alert with the error and the failed tasks."""
    if alerted(state):
        logger().info("failure already alerted by the run: no second message")
        return
    settings = settings_for(flow_run.parameters)
    if settings is None or not channels(settings.notifications):
        return
    alerting = Alerting.of(settings)
    error = redact_secrets(state_error(state), alerting)
    tasks = [(name, redact_secrets(message, alerting)) for name, message in failed_tasks(flow_run)]
    alert = failure_alert(
        flow.name,
        flow_run.name,
        state.name or str(state.type.value),
        error,
        tasks,
        run_link(flow_run.id),
    )
    notify(alert, alerting)


def settings_for(parameters: dict[str, Any]) -> Settings | None:
    """The flow run's settings (its `home` and `config`); if they are invalid, the environment's.

    A run that failed on its own config file must still be able to say so: the alert channels
    then come from the packaged defaults and ALPHAPILOT__ variables alone.
    """
    try:
        return load_settings(parameters.get("config"), parameters.get("home"))
    except AlphapilotError as exc:
        logger().warning("alert settings from the environment only (%s)", redact(str(exc)))
    try:
        return Settings()
    except Exception as exc:
        reason = redact(str(exc))
        logger().error("cannot alert: settings are invalid even without a config file (%s)", reason)
        return None


def state_error(state: State) -> str:
    """The exception that ended `state` as `Type: message`, or the state's own message."""
    try:
        error = state.result(raise_on_failure=False)
    except Exception:
        error = None
    if isinstance(error, BaseException):
        return f"{type(error).__name__}: {error}"
    return state.message or state.name or "unknown error"


def failed_tasks(flow_run: FlowRun) -> list[tuple[str, str]]:
    """(task run name, state message) of every failed or crashed task run of `flow_run`."""
    bad = TaskRunFilterStateType(any_=[StateType.FAILED, StateType.CRASHED])
    try:
        with get_client(sync_client=True) as client:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id])),
                task_run_filter=TaskRunFilter(state=TaskRunFilterState(type=bad)),
            )
    except Exception as exc:  # the alert still goes out without the task list
        logger().warning("cannot list the failed tasks of %s: %s", flow_run.name, redact(str(exc)))
        return []
    return [(run.name, (run.state.message if run.state else "") or "") for run in runs]


def run_link(flow_run_id: UUID | str) -> str | None:
    """The flow run's page in the Prefect UI, when a UI or API URL is known."""
    base = PREFECT_UI_URL.value()
    if not base:
        api = PREFECT_API_URL.value()
        base = api.rstrip("/").removesuffix("/api") if api else None
    return f"{base.rstrip('/')}/runs/flow-run/{flow_run_id}" if base else None


def current_run_link() -> str | None:
    """The page of the flow run this code runs in; None outside a run or with no API URL
    (an ephemeral server has no page to open)."""
    run_id = runtime_flow_run.id
    return run_link(run_id) if run_id else None


def logger() -> logging.Logger | logging.LoggerAdapter:
    """The run logger inside a flow or task run, else the module logger."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("alphapilot.notify")
