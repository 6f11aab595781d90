"""Runtime settings: where alerts go and how Prefect runs the steps.

Neither changes a result, so `Settings.fingerprint` leaves both out.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from settings.section import Section


class EmailSettings(Section):
    """SMTP delivery, the second alert channel (off while `host` is unset)."""

    host: str | None = None
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "alphapilot@localhost"
    recipients: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _recipients_when_enabled(self) -> EmailSettings:
        if self.host and not self.recipients:
            raise ValueError("notifications.email.recipients is required when email.host is set")
        return self


class NotificationSettings(Section):
    """Where alerts go: a Slack incoming webhook and/or email; nothing is sent while both are unset."""

    slack_webhook_url: SecretStr | None = None
    slack_webhook_secret: str | None = None
    email: EmailSettings = EmailSettings()
    daily_summary: bool = False
    timeout_seconds: float = Field(10.0, gt=0.0)

    @model_validator(mode="after")
    def _one_webhook_source(self) -> NotificationSettings:
        if self.slack_webhook_url is not None and self.slack_webhook_secret:
            raise ValueError(
                "set notifications.slack_webhook_url or notifications.slack_webhook_secret, not both"
            )
        return self


class DaskSettings(Section):
    """With `orchestration.task_runner: dask`: an existing scheduler, or a local cluster."""

    address: str | None = None
    n_workers: int = Field(2, ge=1)
    threads_per_worker: int = Field(1, ge=1)


class OrchestrationSettings(Section):
    """How Prefect runs the steps: retries of outside-world steps, caching, and the task runner."""

    retries: int = Field(2, ge=0)
    retry_delay_seconds: float = Field(10.0, ge=0.0)
    retry_jitter_factor: float = Field(0.5, ge=0.0)
    cache: bool = True
    cache_expiration_hours: float = Field(12.0, gt=0.0)
    task_runner: Literal["threads", "dask"] = "threads"
    max_workers: int | None = Field(None, ge=1)
    dask: DaskSettings = DaskSettings()
    lock_timeout_seconds: float = Field(60.0, ge=0.0, le=3600.0)
    daily_deadline_minutes: int = Field(90, ge=1, le=1440)
