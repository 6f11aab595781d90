"""Alerts: what to tell a person (messages, builders) and how to reach them (Slack, email).

Pure Python: the Prefect task that delivers an alert with retries lives in `tasks.notify`.
"""

from trading_core.alerts.builders import (
    daily_summary_alert,
    failure_alert,
    kill_switch_alert,
    safety_block_alert,
)
from trading_core.alerts.messages import Alert, email_message, slack_payload
from trading_core.alerts.transport import NotificationError, post_slack, send_email

__all__ = [
    "Alert",
    "NotificationError",
    "daily_summary_alert",
    "email_message",
    "failure_alert",
    "kill_switch_alert",
    "post_slack",
    "safety_block_alert",
    "send_email",
    "slack_payload",
]
