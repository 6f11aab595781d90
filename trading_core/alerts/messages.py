"""An alert and its two renderings: a Slack incoming-webhook payload and a plain-text email.

Every piece of text in an alert may come from outside (symbols, error messages, file names), so
the Slack rendering escapes Slack's control characters (`&`, `<`, `>`): `<!channel>` or
`<https://evil|click>` in an error message shows as text, never as a mention or a link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage

LINK_LABEL = "Open the run in Prefect"
ICONS = {"error": ":rotating_light:", "warning": ":warning:", "info": ":information_source:"}
MAX_LINE = 1000  # characters kept of one line: a traceback must not drown the message


@dataclass(frozen=True)
class Alert:
    """One message for a person: a title, a level (error | warning | info), lines, and a link
    (the flow run's page in the Prefect UI, None when there is none)."""

    title: str
    level: str = "error"
    lines: list[str] = field(default_factory=list)
    link: str | None = None


def slack_escape(text: str) -> str:
    """`text` safe to embed in a Slack message: `&`, `<` and `>` as entities, nothing else."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: str, label: str) -> str:
    """`<url|label>` for an http(s) URL, escaped so neither part can end the link early."""
    target = slack_escape(url).replace("|", "%7C")
    return f"<{target}|{slack_escape(label)}>"


def clip(text: str, limit: int = MAX_LINE) -> str:
    """`text` cut to `limit` characters, marked when cut."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_payload(alert: Alert) -> dict:
    """The JSON body for a Slack incoming webhook: `{"text": ...}` with every part escaped."""
    icon = ICONS.get(alert.level, ICONS["info"])
    parts = [f"{icon} *{slack_escape(clip(alert.title))}*"]
    parts += [slack_escape(clip(line)) for line in alert.lines]
    if alert.link:
        if alert.link.startswith(("http://", "https://")):
            parts.append(slack_link(alert.link, LINK_LABEL))
        else:
            parts.append(f"Run: {slack_escape(clip(alert.link))}")
    return {"text": "\n".join(parts)}


def email_message(alert: Alert, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """A plain-text email of `alert`; the subject is one line whatever the title holds."""
    message = EmailMessage()
    subject = " ".join(f"[alphapilot] {alert.level.upper()}: {alert.title}".split())
    message["Subject"] = clip(subject, 200)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    body = [alert.title, "", *(clip(line) for line in alert.lines)]
    if alert.link:
        body += ["", f"{LINK_LABEL}: {alert.link}"]
    message.set_content("\n".join(body) + "\n")
    return message
