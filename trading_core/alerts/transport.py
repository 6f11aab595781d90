"""Delivery of one message: an HTTP POST to a Slack incoming webhook, or an email over SMTP.

A webhook URL is a credential (anyone holding it can post to the channel), so no error raised
here ever contains it or any part of it (`trading_core.redaction`); the SMTP password is never
part of a message either. A webhook URL with userinfo (`https://user:token@host/...`) is posted
to the URL without it, with the user and token as HTTP Basic credentials, as curl would.
"""

from __future__ import annotations

import base64
import http.client
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit, urlunsplit

from trading_core.redaction import redact


class NotificationError(Exception):
    """An alert could not be delivered on one channel (says why, never the webhook URL)."""


def post_slack(url: str, payload: dict, timeout: float) -> None:
    """POST `payload` as JSON to the Slack webhook `url`; raise NotificationError unless 2xx."""
    if not url.startswith(("https://", "http://")):
        raise NotificationError("Slack webhook URL is not an http(s) URL")
    target, credentials = without_userinfo(url)
    request = urllib.request.Request(
        target,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    if credentials:  # never sent on to a host the webhook redirects to
        request.add_unredirected_header("Authorization", credentials)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http(s))
            status = response.status
    except urllib.error.HTTPError as exc:
        raise NotificationError(f"Slack webhook returned HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        reason = redact(str(exc.reason), [url])
        raise NotificationError(f"Slack webhook unreachable: {reason}") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        reason = redact(f"{type(exc).__name__}: {exc}", [url])
        raise NotificationError(f"Slack webhook unreachable: {reason}") from None
    if not 200 <= status < 300:
        raise NotificationError(f"Slack webhook returned HTTP {status}")


def send_email(
    message: EmailMessage,
    host: str,
    port: int,
    security: str,
    username: str | None,
    password: str | None,
    timeout: float,
) -> None:
    """Send `message` over SMTP: `security` is starttls, ssl (implicit TLS) or none."""
    try:
        if security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            server = smtplib.SMTP(host, port, timeout=timeout)
        with server:
            if security == "starttls":
                server.starttls(context=ssl.create_default_context())
            if username:
                server.login(username, password or "")
            server.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        reason = redact(f"{type(exc).__name__}: {exc}", [password])
        raise NotificationError(f"email via {host}:{port} failed: {reason}") from None


def without_userinfo(url: str) -> tuple[str, str | None]:
    """`url` without its `user:token@`, and that userinfo as an HTTP Basic `Authorization` value."""
    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
    except ValueError:  # not parsable here: urllib refuses it below, and the error is redacted
        return url, None
    if user is None and password is None:
        return url, None
    credentials = f"{unquote(user or '')}:{unquote(password or '')}".encode()
    host = parts.netloc.rpartition("@")[2]
    target = urlunsplit(parts._replace(netloc=host))
    return target, "Basic " + base64.b64encode(credentials).decode()
