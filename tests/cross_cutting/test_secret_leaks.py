"""Secrets never leak from a failed delivery, whatever form the secret takes.

A webhook URL can carry its credential as userinfo (`https://user:token@host/...`, sent as HTTP
Basic credentials), as a query value (`?token=...`) or as a path token (Slack's
`/services/T.../B.../token`); the SMTP password is the other secret. For each form the run really
uses the secret (the local server saw it), the delivery fails, and the distinctive token appears
in no CLI output, log record, Prefect record (runs, states, logs, the server's database) or file
under the home. Core tests pin `trading_core.redaction.redact` and the transport's own errors.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path

import pytest
from alert_endpoints import Webhook
from server_process import free_port
from test_security import (  # noqa: F401  (clean_environment: an autouse fixture)
    Relay,
    clean_environment,
    prefect_records,
    stored_bytes,
)
from typer.testing import CliRunner

from app.cli import app
from flows.daily_live import daily_live  # noqa: F401  (Prefect sets up its logging now)
from trading_core.alerts import NotificationError, post_slack
from trading_core.redaction import REDACTED, redact

USER_TOKEN = "qv8USERINFOtoken4k"  # the password part of a webhook URL's userinfo
QUERY_TOKEN = "qv8QUERYtoken5m"  # a webhook URL's ?token= value
PATH_TOKEN = "qv8PATHtoken6nXXXXXXXX"  # the last segment of a Slack-style webhook URL
SMTP_TOKEN = "qv8SMTPpassword7p"  # the SMTP password

runner = CliRunner()


# --- the redaction rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        (
            "POST https://bot:tok3nVALUE@hooks.example:8443/in failed",
            [],
            f"POST https://{REDACTED}@hooks.example:8443/in failed",
        ),
        (
            "GET http://h/hook?token=abc123&channel=ops#access_token=zz9",
            [],
            f"GET http://h/hook?token={REDACTED}&channel={REDACTED}#access_token={REDACTED}",
        ),
        (
            "<https://hooks.slack.com/services/T0001/B0002/XyZ123|link>",
            [],
            f"<https://hooks.slack.com/services/{REDACTED}|link>",
        ),
        (
            "https://chat.example/api/webhooks/1234/aB3dE5gH7jK9mN1pQ",
            [],
            f"https://chat.example/api/webhooks/1234/{REDACTED}",
        ),
        (
            "api_key=k3y and password=hunter2; monkey=ok",
            [],
            f"api_key={REDACTED} and password={REDACTED}; monkey=ok",
        ),
        (  # a library quoting a part of the configured URL, not the whole of it
            "InvalidURL: nonnumeric port: 'pa55word@127.0.0.1'",
            ["https://bot:pa55word@127.0.0.1/in"],
            f"InvalidURL: nonnumeric port: '{REDACTED}@127.0.0.1'",
        ),
        (
            "URL can't contain control characters. '/in?token=s3cret x' (found at least ' ')",
            ["http://127.0.0.1:1/in?token=s3cret x"],
            f"URL can't contain control characters. '/in?token={REDACTED}' (found at least ' ')",
        ),
        ("SMTPAuthenticationError: bad password Pw9!", ["Pw9!"], f"bad password {REDACTED}"),
    ],
    ids=[
        "userinfo",
        "query",
        "slack-path",
        "token-segment",
        "named",
        "url-part",
        "query-part",
        "pw",
    ],
)
def test_redact_removes_every_secret_form(text, secrets, expected):
    assert expected in redact(text, secrets)


@pytest.mark.parametrize(
    "text",
    [
        "View at http://127.0.0.1:4200/runs/flow-run/0b1c2d3e-1111-2222-3333-444455556666",
        "no market data in /tmp/alphapilot-prefect-abc123xyz9/home/data",
        "sqlite:////tmp/home/optuna.db and https://docs.example/guide#section-2",
        "DataError: close is NaN for MSFT on 2020-03-16",
    ],
)
def test_redact_leaves_text_without_secrets_unchanged(text):
    assert redact(text, ["", None, "unrelated-secret-42"]) == text


# --- the transport ------------------------------------------------------------------------------


def test_a_webhook_url_with_userinfo_is_posted_with_basic_credentials():
    server = Webhook((200,))
    try:
        port = server.server.server_port
        post_slack(f"http://bot:{USER_TOKEN}@127.0.0.1:{port}/in", {"text": "hi"}, timeout=5)
    finally:
        server.close()

    [request] = server.requests
    expected = base64.b64encode(f"bot:{USER_TOKEN}".encode()).decode()
    assert request["authorization"] == f"Basic {expected}" and request["path"] == "/in"


@pytest.mark.parametrize(
    "url",
    [
        f"http://bot:{USER_TOKEN}@127.0.0.1/in",  # no port: http.client once read the token as one
        f"http://127.0.0.1:{free_port()}/in?token={QUERY_TOKEN} x",  # refused by http.client
        f"http://127.0.0.1:{free_port()}/services/T1/B2/{PATH_TOKEN}",  # nothing listens
    ],
    ids=["userinfo-without-port", "query-token-in-an-invalid-url", "path-token-unreachable"],
)
def test_a_failed_post_names_no_part_of_the_webhook_url(url):
    with pytest.raises(NotificationError) as error:
        post_slack(url, {"text": "x"}, timeout=5)

    for token in (USER_TOKEN, QUERY_TOKEN, PATH_TOKEN):
        assert token not in str(error.value)


# --- through the CLI: a failed run whose failure alert cannot be delivered -----------------------


def prefect_database() -> Path:
    """The folder of the test server's SQLite database (with its WAL file)."""
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    url = PREFECT_SERVER_DATABASE_CONNECTION_URL.value()
    url = url.get_secret_value() if hasattr(url, "get_secret_value") else str(url)
    return Path(url.split("///", 1)[1]).parent


WEBHOOKS = {  # form: (URL template, its token)
    "userinfo": ("http://alphapilot:{token}@127.0.0.1:{port}/hook", USER_TOKEN),
    "query-token": ("http://127.0.0.1:{port}/hook?token={token}", QUERY_TOKEN),
    "path-token": ("http://127.0.0.1:{port}/services/T01/B02/{token}", PATH_TOKEN),
}


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
@pytest.mark.parametrize("form", list(WEBHOOKS))
def test_no_secret_form_leaks_from_a_failed_delivery(form, tmp_path, caplog, capfd):
    template, token = WEBHOOKS[form]
    slack, relay = Webhook((500,)), Relay()
    relay.accept = False  # every login is refused
    try:
        config = tmp_path / "alphapilot.yaml"
        notifications = {
            "slack_webhook_url": template.format(token=token, port=slack.server.server_port),
            "timeout_seconds": 5,
            "email": relay.email_settings(password=SMTP_TOKEN),
        }
        orchestration = {"retries": 0, "retry_delay_seconds": 0}
        config.write_text(
            json.dumps({"notifications": notifications, "orchestration": orchestration})
        )
        home = tmp_path / "home"
        caplog.set_level(logging.DEBUG, logger="alphapilot")
        with caplog.at_level(logging.DEBUG, logger="prefect"):
            # an empty home: the run fails, its failure hook alerts, both channels refuse
            result = runner.invoke(app, ["daily", "--home", str(home), "--config", str(config)])
        captured = capfd.readouterr()
    finally:
        slack.close()
        relay.close()

    # the run failed and the secrets were really used
    assert result.exit_code == 3 and "no market data" in result.output, result.output
    if form == "userinfo":  # sent as HTTP Basic credentials
        token_seen = {base64.b64decode(r["authorization"][6:]).decode() for r in slack.requests}
        assert token_seen == {f"alphapilot:{token}"}
    else:
        assert slack.requests and all(r["path"].endswith(token) for r in slack.requests)
    assert SMTP_TOKEN in relay.passwords

    searched: dict[str, str | bytes] = {
        "cli output": result.output,
        "captured stdout": captured.out,
        "captured stderr": captured.err,
        "log text": caplog.text,
        **{
            f"log record {i}": f"{r.getMessage()} {r.exc_text}"
            for i, r in enumerate(caplog.records)
        },
        **prefect_records(home),
        **stored_bytes(home, prefect_database(), Path(os.environ["PREFECT_HOME"])),
    }
    assert any(name.endswith(".db") for name in searched)  # the server's database was searched
    for secret in (token, SMTP_TOKEN):
        leaks = [
            name
            for name, text in searched.items()
            if (secret.encode() if isinstance(text, bytes) else secret) in text
        ]
        assert leaks == [], f"{secret} found in {leaks}"
