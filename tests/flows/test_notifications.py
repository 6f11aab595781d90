"""Alerts: messages a person can trust, delivered to Slack and email, never failing the run.

Delivery is proven against real local servers: an HTTP server standing in for a Slack webhook and
an aiosmtpd SMTP server. The webhook URL is a credential: it never appears in a log or an error.
"""

from __future__ import annotations

import logging
import os
import smtplib
from datetime import date
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from alert_endpoints import TOKEN, Inbox, Webhook
from server_process import free_port

from settings import load_settings
from trading_core.alerts import (
    Alert,
    NotificationError,
    daily_summary_alert,
    email_message,
    failure_alert,
    kill_switch_alert,
    post_slack,
    safety_block_alert,
    send_email,
    slack_payload,
)
from trading_core.live.kill_switch import KillSwitchState, KillSwitchStatus
from trading_core.live.safety_checks import Check, SafetyVerdict

HOSTILE = "<script>alert(1)</script> <!channel> <https://evil.example|click> & co"
NO_DELAY = {"retry_delay_seconds": 0, "retries": 2}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No ALPHAPILOT variables from the machine running the tests leak into them."""
    for name in list(os.environ):
        if name.startswith("ALPHAPILOT"):
            monkeypatch.delenv(name)


@pytest.fixture()
def webhook():
    """Start a webhook server: `webhook(500, 500, 200)` answers 500 twice, then 200."""
    servers = []

    def start(*statuses: int) -> Webhook:
        servers.append(Webhook(statuses or (200,)))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture()
def smtp_server():
    """A local SMTP server on 127.0.0.1 (no TLS, no auth) and the messages it received."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def alert_with(text: str, link: str | None = None) -> Alert:
    return Alert(f"title {text}", "error", [f"line {text}"], link)


# --- messages: untrusted text cannot inject markup ---------------------------------------------


def test_slack_payload_escapes_every_piece_of_untrusted_text():
    payload = slack_payload(alert_with(HOSTILE, "https://ui.example/runs/flow-run/1?a=1&b=2"))
    text = payload["text"]

    assert set(payload) == {"text"}
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "<https://evil" not in text and "& co" not in text and "&amp; co" in text
    assert text.endswith("<https://ui.example/runs/flow-run/1?a=1&amp;b=2|Open the run in Prefect>")
    assert text.count("<") == 1  # the one real link, nothing else Slack would parse


def test_a_link_cannot_break_out_of_its_angle_brackets():
    text = slack_payload(Alert("t", link="https://ui.example/x|<!channel>"))["text"]

    assert text.endswith("<https://ui.example/x%7C&lt;!channel&gt;|Open the run in Prefect>")
    assert "<javascript" not in slack_payload(Alert("t", link="javascript:alert(1)"))["text"]


def test_email_is_plain_text_with_a_one_line_subject():
    message = email_message(
        Alert("flow failed\nBcc: victim@example.com", "error", ["a", "b"], "https://ui/x"),
        "alphapilot@example.com",
        ["ops@example.com", "risk@example.com"],
    )

    assert message["Subject"] == "[alphapilot] ERROR: flow failed Bcc: victim@example.com"
    assert message["To"] == "ops@example.com, risk@example.com"
    assert message["Bcc"] is None
    assert message.get_content_type() == "text/plain"
    assert "\n\na\nb\n" in message.get_content()
    assert "Open the run in Prefect: https://ui/x" in message.get_content()


# --- builders ----------------------------------------------------------------------------------


def test_kill_switch_alert_says_why_with_its_figures_and_how_to_resume():
    alert = kill_switch_alert(
        date(2020, 2, 24),
        "daily_loss",
        -0.0412,
        None,
        "TRIPPED on daily_loss",
        ["kill_switch: TRIPPED on daily_loss", "x: y"],
        "/r.html",
    )

    assert alert.level == "error"
    assert alert.title == "Kill switch engaged on 2020-02-24 (daily_loss)"
    text = "\n".join(alert.lines)
    assert "-4.12%" in text and "rolling Sharpe: n/a" in text and "alphapilot resume" in text
    assert "- x: y" in text and "Report: /r.html" in text
    assert text.count("TRIPPED on daily_loss") == 1  # the switch's own violation is not repeated


def test_safety_block_alert_lists_violations_and_key_figures():
    alert = safety_block_alert(
        date(2021, 3, 1),
        ["turnover: 62% above 50%", "estimated_cost: too high"],
        {"turnover": 0.62, "estimated_cost": 1234.5, "exposure": 0.95},
        "/home/live/2021-03-01/report.html",
    )

    assert alert.title == "Trades for 2021-03-01 BLOCKED by the safety checks"
    assert alert.lines[1:3] == ["- turnover: 62% above 50%", "- estimated_cost: too high"]
    assert alert.lines[3:6] == ["turnover: 62.00%", "estimated cost: 1,234.50", "exposure: 95.00%"]
    assert alert.lines[-1] == "Report: /home/live/2021-03-01/report.html"


def test_daily_summary_alert_shows_the_headline_figures():
    alert = daily_summary_alert(
        {
            "date": "2021-03-01",
            "regime": "Risk-On",
            "exposure": 1.0,
            "turnover": 0.1,
            "estimated_cost": 99.0,
            "trades_proposed": 4,
            "safety_passed": True,
        },
        "/r.html",
    )

    assert alert.level == "info" and alert.title == "Daily run 2021-03-01: 4 trades"
    assert "regime: Risk-On" in alert.lines and "turnover: 10.00%" in alert.lines
    assert "safety passed: True" in alert.lines


def test_failure_alert_names_the_flow_the_run_the_failed_tasks_and_the_link():
    alert = failure_alert(
        "data-update",
        "brave-fox",
        "Failed",
        "ConnectionError: vendor down",
        [("fetch-market-data-1a2", "Task run encountered an exception ConnectionError")],
        "http://ui/runs/flow-run/1",
    )

    assert alert.title == "Flow data-update Failed (run brave-fox)"
    assert alert.lines == [
        "Error: ConnectionError: vendor down",
        "Failed tasks:",
        "- fetch-market-data-1a2: Task run encountered an exception ConnectionError",
    ]
    assert alert.link == "http://ui/runs/flow-run/1"


# --- transport: real servers, no URL in any error -----------------------------------------------


def test_post_slack_posts_the_payload_as_json(webhook):
    server = webhook(200)

    post_slack(server.url, {"text": "hello"}, timeout=5)

    assert server.requests == [
        {
            "path": f"/services/T000/B000/{TOKEN}",
            "content_type": "application/json",
            "authorization": None,
            "body": {"text": "hello"},
        }
    ]


@pytest.mark.parametrize("problem", ["http_500", "unreachable", "not_http"])
def test_a_slack_failure_never_names_the_webhook_url(webhook, problem):
    if problem == "http_500":
        url, expected = webhook(500).url, "Slack webhook returned HTTP 500"
    elif problem == "unreachable":
        url = f"http://127.0.0.1:{free_port()}/services/T000/B000/{TOKEN}"
        expected = "Slack webhook unreachable"
    else:
        url, expected = f"file:///services/{TOKEN}", "not an http(s) URL"

    with pytest.raises(NotificationError) as error:
        post_slack(url, {"text": "x"}, timeout=5)

    assert expected in str(error.value)
    assert TOKEN not in str(error.value) and TOKEN not in repr(error.value)
    assert error.value.__cause__ is None  # no chained urllib error carrying the URL
    assert error.value.__context__ is None or error.value.__suppress_context__


def test_send_email_delivers_subject_body_and_recipients(smtp_server):
    controller, inbox = smtp_server
    message = email_message(
        Alert("Kill switch engaged", "error", ["daily loss -4.1%"]),
        "alphapilot@example.com",
        ["ops@example.com", "risk@example.com"],
    )

    send_email(message, controller.hostname, controller.port, "none", None, None, timeout=5)

    [envelope] = inbox.envelopes
    assert envelope.mail_from == "alphapilot@example.com"
    assert envelope.rcpt_tos == ["ops@example.com", "risk@example.com"]
    content = envelope.content.decode()
    assert "Subject: [alphapilot] ERROR: Kill switch engaged" in content
    assert "daily loss -4.1%" in content


class FakeSMTP:
    """Records the SMTP conversation instead of connecting anywhere."""

    calls: list[tuple] = []
    refuse_login = False

    def __init__(self, host, port, timeout, context=None):
        FakeSMTP.calls.append((type(self).__name__, host, port))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self, context=None):
        FakeSMTP.calls.append(("starttls",))

    def login(self, username, password):
        if FakeSMTP.refuse_login:
            raise smtplib.SMTPAuthenticationError(535, f"bad credentials {password}".encode())
        FakeSMTP.calls.append(("login", username))

    def send_message(self, message):
        FakeSMTP.calls.append(("send", message["Subject"]))


class FakeSMTPSSL(FakeSMTP):
    pass


@pytest.mark.parametrize(
    ("security", "expected"),
    [
        ("starttls", ["FakeSMTP", "starttls", "login", "send"]),
        ("ssl", ["FakeSMTPSSL", "login", "send"]),
        ("none", ["FakeSMTP", "login", "send"]),
    ],
)
def test_email_security_modes(monkeypatch, security, expected):
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setattr(smtplib, "SMTP_SSL", FakeSMTPSSL)
    FakeSMTP.calls, FakeSMTP.refuse_login = [], False
    message = email_message(Alert("t"), "a@example.com", ["b@example.com"])

    send_email(message, "smtp.example.com", 587, security, "me", "hunter2", timeout=5)

    assert [call[0] for call in FakeSMTP.calls] == expected


def test_a_refused_login_never_shows_the_password(monkeypatch):
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    FakeSMTP.calls, FakeSMTP.refuse_login = [], True
    message = email_message(Alert("t"), "a@example.com", ["b@example.com"])

    with pytest.raises(NotificationError, match="smtp.example.com:587") as error:
        send_email(message, "smtp.example.com", 587, "starttls", "me", "hunter2", timeout=5)

    assert "hunter2" not in str(error.value)


# --- the daily run's choice of message ----------------------------------------------------------

SUMMARY = {
    "date": "2021-03-01",
    "regime": "Normal",
    "exposure": 1.0,
    "turnover": 0.62,
    "estimated_cost": 1500.0,
    "portfolio_value": 1_000_000.0,
    "trades_proposed": 7,
}


def fake_run(engaged_since: date | None, passed: bool):
    """The parts of a DailyRun that choose the day's message."""
    reading = KillSwitchState(bool(engaged_since), "daily_loss", -0.05, None, "TRIPPED")
    verdict = SafetyVerdict([Check("turnover", passed, "turnover 62% above 50%")])
    kill = KillSwitchStatus(reading, engaged_since, "daily_loss" if engaged_since else None)
    return SimpleNamespace(
        session=date(2021, 3, 1), kill_switch=kill, verdict=verdict, summary=lambda: SUMMARY
    )


def alert_of(run, report: str, summary: bool, link: str | None = None) -> Alert | None:
    """The day's alert of a (fake) run, as the daily flow asks for it."""
    from trading_core.live.day_outcome import day_alert

    figures = run.summary()
    return day_alert(run.session, run.kill_switch, run.verdict, figures, report, summary, link)


def test_a_day_sends_at_most_one_message_for_its_one_event():
    engaged_today = alert_of(fake_run(date(2021, 3, 1), False), "/r.html", summary=True)
    still_halted = alert_of(fake_run(date(2021, 2, 1), False), "/r.html", summary=True)
    blocked = alert_of(fake_run(None, False), "/r.html", summary=True)
    quiet = alert_of(fake_run(None, True), "/r.html", summary=False)
    summary = alert_of(fake_run(None, True), "/r.html", summary=True)

    assert engaged_today.title.startswith("Kill switch engaged on 2021-03-01")
    assert "- turnover: turnover 62% above 50%" in engaged_today.lines  # one message for the day
    assert (
        still_halted.title == blocked.title == "Trades for 2021-03-01 BLOCKED by the safety checks"
    )
    assert "turnover: 62.00%" in blocked.lines and "estimated cost: 1,500.00" in blocked.lines
    assert quiet is None
    assert summary.level == "info" and "Report: /r.html" in summary.lines


# --- the markdown artifact ----------------------------------------------------------------------


def test_the_daily_markdown_shows_the_figures_and_escapes_hostile_text(tmp_path):
    from tasks.reporting import markdown_text, summary_markdown

    run = fake_run(None, False)
    run.ledger_status = "blocked"
    run.verdict = SafetyVerdict([Check("prices_fresh", False, f"stale: {HOSTILE} | x")])
    run.summary = lambda: {
        **SUMMARY,
        "regime_source": "benchmark",
        "target_exposure": 1.0,
        "trades_blocked": 7,
    }

    markdown = summary_markdown(run, tmp_path / "report.html")

    for expected in (
        "| regime | Normal \\(from benchmark\\) |",
        "| exposure | 100.00% \\(target 100.00%\\) |",
        "| turnover | 62.00% one-way \\(½ Σ\\|Δw\\|\\) |",
        "| estimated cost | 1,500.00 |",
        "| kill switch | not engaged: TRIPPED |",
        "| safety | FAILED: trades blocked |",
        "| paper account | blocked: nothing applied |",
        f"Report: {markdown_text(tmp_path / 'report.html')}",
    ):
        assert expected in markdown
    assert "<script>" not in markdown and "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in markdown
    assert "- prices\\_fresh: stale:" in markdown and "\\| x" in markdown
    assert markdown_text("a\nb|c") == "a b\\|c"


# --- settings of the failure hook ---------------------------------------------------------------


def test_the_failure_hook_falls_back_to_the_environment_when_the_config_is_invalid(
    tmp_path, monkeypatch
):
    from tasks.notify import settings_for

    bad = tmp_path / "bad.yaml"
    bad.write_text("portfolio:\n  top_k: -1\n")
    monkeypatch.setenv("ALPHAPILOT__NOTIFICATIONS__SLACK_WEBHOOK_URL", "https://hooks.example/x")

    settings = settings_for({"config": str(bad), "home": str(tmp_path)})

    assert settings.notifications.slack_webhook_url.get_secret_value() == "https://hooks.example/x"
    monkeypatch.setenv("ALPHAPILOT__PORTFOLIO__TOP_K", "zero")
    assert settings_for({"config": str(bad)}) is None  # nothing valid left: log, do not raise


def test_the_failure_hook_skips_an_error_the_run_already_alerted():
    from prefect.states import Failed

    from tasks.notify import alerted, mark_alerted

    assert alerted(Failed(data=mark_alerted(RuntimeError("blocked"))))
    assert not alerted(Failed(data=RuntimeError("blocked")))
    assert not alerted(Failed(message="no exception"))


def test_the_run_link_comes_from_the_ui_url_or_the_api_url():
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

    from tasks.notify import run_link

    with temporary_settings({PREFECT_UI_URL: "https://ui.example/", PREFECT_API_URL: None}):
        assert run_link("0f0f") == "https://ui.example/runs/flow-run/0f0f"
    with temporary_settings(
        {PREFECT_API_URL: "http://127.0.0.1:4200/api"}, restore_defaults={PREFECT_UI_URL}
    ):
        assert run_link("0f0f") == "http://127.0.0.1:4200/runs/flow-run/0f0f"


# --- the run's page in the day's and the selection's alerts -------------------------------------

RUN_PAGE = "http://127.0.0.1:4200/runs/flow-run/0f0f"


def todays_alerts() -> list[Alert]:
    """The kill switch, safety block and summary alerts of a day, and the no-champion alert."""
    from tasks.notify import current_run_link
    from trading_core.selection.promotion import no_champion_alert

    nothing_passed = SimpleNamespace(
        trials=4, baseline_sharpe=0.5, selection=SimpleNamespace(ranking=[])
    )
    link = current_run_link()  # what the flows pass: the run's page, when there is one
    return [
        alert_of(fake_run(date(2021, 3, 1), False), "/home/r.html", True, link),
        alert_of(fake_run(None, False), "/home/r.html", True, link),
        alert_of(fake_run(None, True), "/home/r.html", True, link),
        no_champion_alert(nothing_passed, "/home/r.html", link),
    ]


def test_the_days_alerts_link_to_their_run_in_slack_and_email(monkeypatch):
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

    monkeypatch.setenv("PREFECT__FLOW_RUN_ID", "0f0f")  # as in a run's process
    with temporary_settings(
        {PREFECT_API_URL: "http://127.0.0.1:4200/api"}, restore_defaults={PREFECT_UI_URL}
    ):
        alerts = todays_alerts()

    for alert in alerts:
        slack = slack_payload(alert)["text"]
        email = email_message(alert, "a@example.com", ["ops@example.com"]).get_content()
        assert f"<{RUN_PAGE}|Open the run in Prefect>" in slack
        assert f"Open the run in Prefect: {RUN_PAGE}" in email
        assert "Report: /home/r.html" in slack and "Report: /home/r.html" in email


def test_without_an_api_url_or_a_run_the_alerts_carry_no_link(monkeypatch):
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

    outside_a_run = todays_alerts()
    monkeypatch.setenv("PREFECT__FLOW_RUN_ID", "0f0f")
    with temporary_settings(restore_defaults={PREFECT_API_URL, PREFECT_UI_URL}):  # ephemeral
        ephemeral = todays_alerts()

    for alert in [*outside_a_run, *ephemeral]:
        assert alert.link is None
        assert "Open the run" not in slack_payload(alert)["text"]
        assert "Report: /home/r.html" in alert.lines


def test_nothing_configured_sends_nothing_quietly(caplog):
    from tasks.notify import notify
    from tasks.sections import Alerting

    with caplog.at_level(logging.DEBUG):
        assert notify(alert_with("x"), Alerting.of(load_settings())) is False

    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


# --- delivery through Prefect: retries, failures, the Secret block ------------------------------


def notify_in_a_flow(alert: Alert, settings) -> bool:
    """`notify` as the flows call it: inside a flow run (its task runs log to that run)."""
    from prefect import flow

    from tasks.notify import notify
    from tasks.sections import Alerting

    @flow(name="alerting")
    def alerting() -> bool:
        return notify(alert, Alerting.of(settings))

    return alerting()


@pytest.mark.usefixtures("prefect_server")
def test_a_webhook_failing_twice_is_delivered_on_the_third_attempt(webhook):

    server = webhook(500, 500, 200)
    settings = load_settings(
        notifications={"slack_webhook_url": server.url}, orchestration=NO_DELAY
    )

    assert notify_in_a_flow(alert_with(HOSTILE), settings) is True

    assert len(server.requests) == 3
    assert server.texts[-1].startswith(":rotating_light: *title &lt;script&gt;")


@pytest.mark.usefixtures("prefect_server")
def test_a_webhook_that_always_fails_warns_once_and_never_fails_or_leaks(webhook, caplog, capsys):

    server = webhook(500)
    settings = load_settings(
        notifications={"slack_webhook_url": server.url}, orchestration=NO_DELAY
    )

    with caplog.at_level(logging.INFO):
        delivered = notify_in_a_flow(alert_with("x"), settings)

    assert delivered is False
    assert len(server.requests) == 3  # the first attempt and two retries
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "slack" in warnings[0].getMessage()
    assert "NotificationError: Slack webhook returned HTTP 500" in warnings[0].getMessage()
    captured = capsys.readouterr()
    for text in (caplog.text, captured.out, captured.err):
        assert TOKEN not in text and "/services/T000" not in text


@pytest.mark.usefixtures("prefect_server")
def test_slack_and_email_both_receive_the_alert(webhook, smtp_server):

    server = webhook(200)
    controller, inbox = smtp_server
    settings = load_settings(
        notifications={
            "slack_webhook_url": server.url,
            "email": {
                "host": controller.hostname,
                "port": controller.port,
                "security": "none",
                "sender": "alphapilot@example.com",
                "recipients": ["ops@example.com"],
            },
        },
        orchestration=NO_DELAY,
    )
    alert = failure_alert("daily-live", "brave-fox", "Failed", "ModelError: no model")

    assert notify_in_a_flow(alert, settings) is True

    assert server.texts == [slack_payload(alert)["text"]]
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["ops@example.com"]
    content = envelope.content.decode()
    assert "Subject: [alphapilot] ERROR: Flow daily-live Failed (run brave-fox)" in content
    assert "Error: ModelError: no model" in content


@pytest.mark.usefixtures("prefect_server")
def test_the_webhook_url_can_come_from_a_prefect_secret_block(webhook):
    from prefect.blocks.system import Secret

    from tasks.notify import webhook_url

    server = webhook(200)
    Secret(value=server.url).save("alphapilot-test-webhook", overwrite=True)
    settings = load_settings(
        notifications={"slack_webhook_secret": "alphapilot-test-webhook"}, orchestration=NO_DELAY
    )

    assert webhook_url(settings.notifications) == server.url
    assert notify_in_a_flow(alert_with("from a secret"), settings) is True
    assert server.texts == [slack_payload(alert_with("from a secret"))["text"]]
