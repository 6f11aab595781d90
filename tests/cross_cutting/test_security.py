"""Security: secrets stay secret, hostile text stays text, and paths stay inside the home.

- The Slack webhook URL and the SMTP password never reach a log, a file under the home, a Prefect
  artifact, a run's state message or an error, on success and on failure, while both channels
  really receive what they are sent (a local HTTP server and an authenticating aiosmtpd server).
- A symbol named `<script>alert(1)</script>` is refused at import in one line that names it, and
  the failure alert shows it escaped. Sectors named `<img src=x onerror=alert(1)>` and
  `=cmd|' /C calc'!A0` flow through the daily run: never raw in report.html or Slack, and the
  formula neutralised in portfolio_weights.csv.
- A date given on the command line or to a flow is validated before it can become a path, and
  model metadata cannot name a file outside its folder (a tampered archive cannot make a
  rollback write elsewhere).

That no model file is deserialized before its checksum matches is proven in tests/core/ml/test_ml.py
(`test_a_tampered_member_file_is_refused_by_checksum_before_it_is_deserialized`).
"""

from __future__ import annotations

import json
import logging
import os
from datetime import date
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from alert_endpoints import Inbox, Webhook
from server_process import free_port
from typer.testing import CliRunner

from app.cli import app
from flows.daily_live import daily_live  # Prefect sets up its logging now, not in a CliRunner
from flows.data_update import data_update
from trading_core.data.folder import write_folder
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.home_lock import LOCK_FILE

SLACK_TOKEN = "zq7SLACKhookTOKEN3v"  # in the webhook URL's path
SMTP_TOKEN = "zq7SMTPpassTOKEN9w"  # the SMTP password
SECRETS = (SLACK_TOKEN, SMTP_TOKEN)
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
FORMULA = "=cmd|' /C calc'!A0"
BEFORE_THE_DATA = "2011-12-28"  # a Wednesday session before the synthetic data starts

runner = CliRunner()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No ALPHAPILOT variables from the machine running the tests leak into them."""
    for name in list(os.environ):
        if name.startswith("ALPHAPILOT"):
            monkeypatch.delenv(name)


# --- local servers standing in for Slack and an SMTP relay ---------------------------------------


class SecretWebhook(Webhook):
    """The test webhook server, under a URL whose path holds this module's token."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/services/T9/B9/{SLACK_TOKEN}"


class Relay:
    """An aiosmtpd server offering AUTH PLAIN over plain SMTP: records each password it is given,
    accepts the right one while `accept` is True, refuses every login once it is False."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.passwords: list[str] = []
        self.accept = True
        self.controller = Controller(
            self.inbox,
            hostname="127.0.0.1",
            port=free_port(),
            authenticator=self.authenticate,
            auth_require_tls=False,
            auth_exclude_mechanism=["LOGIN"],  # PLAIN only: smtplib then fails fast when refused
        )
        self.controller.start()

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        password = auth_data.password.decode()
        self.passwords.append(password)
        return AuthResult(success=self.accept and password == SMTP_TOKEN, handled=False)

    def email_settings(self, **extra: object) -> dict[str, object]:
        """The `notifications.email` settings that send through this relay (plus `extra`)."""
        return {
            "host": self.controller.hostname,
            "port": self.controller.port,
            "security": "none",
            "username": "alphapilot",
            "sender": "alphapilot@example.com",
            "recipients": ["ops@example.com"],
            **extra,
        }

    def close(self) -> None:
        self.controller.stop()


@pytest.fixture()
def slack():
    server = SecretWebhook((200,))
    yield server
    server.close()


@pytest.fixture()
def relay():
    server = Relay()
    yield server
    server.close()


# --- small synthetic homes ----------------------------------------------------------------------


def market_folder(folder: Path, seed: int = 5) -> list[date]:
    """A 12-symbol, 2-year synthetic data folder; returns its sessions."""
    market = generate_synthetic_market(symbols=12, years=2, seed=seed, ic=0.1)
    write_folder(market.data, folder)
    return [d.date() for d in market.data.dates]


def config_file(path: Path, **sections: dict) -> str:
    """A YAML (JSON is YAML) settings file: a small LightGBM, no retry delay, plus `sections`."""
    settings = {
        "modeling": {"lightgbm": {"n_estimators": 40}},
        "orchestration": {"retries": 1, "retry_delay_seconds": 0},
        **sections,
    }
    path.write_text(json.dumps(settings, indent=2))
    return str(path)


def cli(*args: str):
    return runner.invoke(app, list(args))


def tree(root: Path) -> set[str]:
    """Every path under `root`, relative."""
    return {str(p.relative_to(root)) for p in root.rglob("*")}


# --- secrets ------------------------------------------------------------------------------------


def test_settings_never_show_their_secrets(tmp_path, monkeypatch):
    from settings import load_settings

    config = config_file(
        tmp_path / "c.yaml",
        notifications={"slack_webhook_url": f"https://hooks.example/services/{SLACK_TOKEN}"},
    )
    monkeypatch.setenv("ALPHAPILOT__NOTIFICATIONS__EMAIL__PASSWORD", SMTP_TOKEN)

    settings = load_settings(config)

    assert settings.notifications.email.password.get_secret_value() == SMTP_TOKEN
    shown = [
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        json.dumps(settings.model_dump(mode="json")),
        repr(settings.notifications),
    ]
    for text in shown:
        for secret in SECRETS:
            assert secret not in text


@pytest.mark.parametrize(
    ("notifications", "field", "value"),
    [
        ({"email": {"password": 987654321987}}, "notifications.email.password", "987654321987"),
        (
            {"slack_webhook_url": [f"https://hooks.example/services/{SLACK_TOKEN}"]},
            "notifications.slack_webhook_url",
            SLACK_TOKEN,
        ),
    ],
    ids=["numeric-password", "webhook-in-a-list"],
)
def test_a_secret_of_the_wrong_type_is_named_but_never_echoed(
    tmp_path, notifications, field, value
):
    from settings import load_settings
    from trading_core.errors import ConfigError

    config = config_file(tmp_path / "c.yaml", notifications=notifications)

    with pytest.raises(ConfigError) as error:
        load_settings(config)
    result = cli("daily", "--config", config, "--home", str(tmp_path / "home"))

    assert f"{field}: Input should be a valid string" in str(error.value)
    assert result.exit_code == 3 and f"ConfigError: invalid settings in {config}" in result.output
    assert value not in str(error.value) and value not in result.output


def every(read, **filters) -> list:
    """Every item a paged Prefect client `read_*` method returns for `filters`."""
    items: list = []
    while True:
        page = read(**filters, limit=200, offset=len(items))
        items += page
        if len(page) < 200:
            return items


def prefect_records(home: Path, flow_runs: int | None = None) -> dict[str, str]:
    """What the Prefect server kept of the flow runs of `home`: runs, states, logs, artifacts.

    There must be something to search: `flow_runs` runs (any number when None) with task runs and
    logs, one of which says an alert was NOT delivered.
    """
    from prefect import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)  # every log the runs sent has reached the server
    records: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        runs = [r for r in every(client.read_flow_runs) if r.parameters.get("home") == str(home)]
        ids = [run.id for run in runs]
        by_run = FlowRunFilter(id=FlowRunFilterId(any_=ids))
        task_runs = every(client.read_task_runs, flow_run_filter=by_run)
        for run in runs:
            records[f"flow run {run.id}"] = run.model_dump_json()
            for state in client.read_flow_run_states(run.id):
                records[f"flow run state {state.id}"] = state.model_dump_json()
        for run in task_runs:
            records[f"task run {run.id}"] = run.model_dump_json()
            for state in client.read_task_run_states(run.id):
                records[f"task run state {state.id}"] = state.model_dump_json()
        logs = every(
            client.read_logs, log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids))
        )
        for log in logs:
            records[f"log {log.id}"] = log.message
        artifacts = every(
            client.read_artifacts,
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=ids)),
        )
        for artifact in artifacts:
            records[f"artifact {artifact.key}"] = artifact.model_dump_json()
    assert runs and task_runs and logs  # there was something to search
    assert flow_runs is None or (len(runs) == flow_runs and artifacts)  # successful runs too
    assert any("NOT delivered" in log.message for log in logs)
    return records


def stored_bytes(*roots: Path) -> dict[str, bytes]:
    """Every file under `roots`, by path (the server's database, the homes)."""
    return {str(p): p.read_bytes() for root in roots for p in root.rglob("*") if p.is_file()}


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_secrets_appear_in_no_output_on_success_failure_and_failed_delivery(
    tmp_path, monkeypatch, slack, relay, caplog, capfd
):
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    sessions = market_folder(tmp_path / "data")
    home = tmp_path / "home"
    config = config_file(
        tmp_path / "alphapilot.yaml",
        notifications={
            "slack_webhook_url": slack.url,
            "daily_summary": True,
            "timeout_seconds": 5,
            "email": relay.email_settings(),
        },
    )
    monkeypatch.setenv("ALPHAPILOT__NOTIFICATIONS__EMAIL__PASSWORD", SMTP_TOKEN)
    where = ["--home", str(home), "--config", config]
    day, next_day = (f"{d:%Y-%m-%d}" for d in sessions[-2:])

    caplog.set_level(logging.DEBUG, logger="alphapilot")
    with caplog.at_level(logging.DEBUG, logger="prefect"):
        results = [
            cli("data", "update", "--provider", "folder", "--path", str(tmp_path / "data"), *where),
            cli("daily", "--date", day, *where),  # delivered: the summary
            cli("daily", "--date", BEFORE_THE_DATA, *where),  # fails: the failure hook alerts
        ]
        delivered_texts = list(slack.texts)
        delivered_mail = len(relay.inbox.envelopes)
        slack.statuses, relay.accept = [500], False  # from now on both channels refuse
        results += [
            cli("daily", "--date", next_day, *where),  # the summary is not delivered
            cli("daily", "--date", BEFORE_THE_DATA, *where),  # nor is the failure alert
        ]
    captured = capfd.readouterr()

    # the runs did what they should, and the secrets were really used
    assert [r.exit_code for r in results] == [0, 0, 3, 0, 3], [r.output for r in results]
    assert "DataError" in results[2].output and "before the data starts" in results[2].output
    assert len(delivered_texts) == 2 and delivered_mail == 2
    assert delivered_texts[0].startswith(f":information_source: *Daily run {day}")
    assert "Flow daily-live Failed" in delivered_texts[1]
    assert len(slack.requests) == 2 + 2 * 2  # two undelivered alerts, each tried twice
    assert all(r["path"].endswith(SLACK_TOKEN) for r in slack.requests)
    assert relay.passwords.count(SMTP_TOKEN) == 2 + 2 * 2
    warnings = [r.getMessage() for r in caplog.records if "NOT delivered" in r.getMessage()]
    assert len(warnings) == 4  # slack and email, twice: the failure path ran

    # ...and appear nowhere
    url = PREFECT_SERVER_DATABASE_CONNECTION_URL.value()
    url = url.get_secret_value() if hasattr(url, "get_secret_value") else str(url)
    database = Path(url.split("///", 1)[1]).parent  # the test server's sqlite files
    searched: dict[str, str | bytes] = {
        **{f"cli output {i}": r.output for i, r in enumerate(results)},
        **{f"cli stderr {i}": r.stderr for i, r in enumerate(results)},
        "captured stdout": captured.out,
        "captured stderr": captured.err,
        **{
            f"log record {i}": f"{r.getMessage()} {r.exc_text}"
            for i, r in enumerate(caplog.records)
        },
        "log text": caplog.text,
        **prefect_records(home, flow_runs=5),
        **stored_bytes(home, database, Path(os.environ["PREFECT_HOME"])),
        **{f"slack message {i}": text for i, text in enumerate(slack.texts)},
        **{f"email {i}": e.content for i, e in enumerate(relay.inbox.envelopes)},
    }
    assert (home / "live" / day / "report.html").exists() and (home / "cache").exists()
    assert any(name.endswith("ledger.sqlite") for name in searched)
    assert any(name.startswith(str(database)) for name in searched)
    for secret in SECRETS:
        leaks = [
            name
            for name, text in searched.items()
            if (secret.encode() if isinstance(text, bytes) else secret) in text
        ]
        assert leaks == [], f"{secret} found in {leaks}"


# --- hostile text -------------------------------------------------------------------------------


def hostile_folder(folder: Path, symbol: str = "S00") -> list[date]:
    """The synthetic folder with S00 called `symbol` and its close repeated over the last 6
    sessions (the safety checks then block the last day and name it), its sector renamed `<img
    ...>` and another sector renamed to a spreadsheet formula."""
    sessions = market_folder(folder, seed=11)
    prices = (folder / "prices.csv").read_text().splitlines()
    header, rows = prices[0], [line.replace(",S00,", f",{symbol},") for line in prices[1:]]
    ours = [i for i, line in enumerate(rows) if f",{symbol}," in line]
    close = header.split(",").index("close")
    frozen = rows[ours[-7]].split(",")[close]
    for i in ours[-6:]:
        cells = rows[i].split(",")
        cells[close] = frozen
        rows[i] = ",".join(cells)
    (folder / "prices.csv").write_text("\n".join([header, *rows]) + "\n")
    sectors = (folder / "sectors.csv").read_text().replace("S00,", f"{symbol},")
    sectors = sectors.replace("Sector0", IMG).replace("Sector1", FORMULA)
    (folder / "sectors.csv").write_text(sectors)
    return sessions


def escaped_for_html(text: str) -> str:
    """`text` as jinja2/markupsafe escapes it."""
    from markupsafe import escape

    return str(escape(text))


def escaped_for_slack(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_hostile_sectors_are_escaped_in_the_report_and_slack_and_neutralised_in_the_csv(
    tmp_path, monkeypatch, slack
):
    from prefect import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )

    from trading_core.errors import SafetyViolation
    from trading_core.io import read_csv

    sessions = hostile_folder(tmp_path / "data")
    config = config_file(
        tmp_path / "c.yaml",
        portfolio={"top_k": 12},  # every name in the target: the hostile sectors are traded
        notifications={"slack_webhook_url": slack.url, "daily_summary": True},
    )
    home = str(tmp_path / "home")
    day = sessions[-1]

    data_update(provider="folder", path=str(tmp_path / "data"), home=home, config=config)
    state = daily_live(run_date=day, home=home, config=config, return_state=True)

    assert state.is_failed()
    with pytest.raises(SafetyViolation, match="prices_fresh"):
        state.result()

    folder = Path(home) / "live" / f"{day:%Y-%m-%d}"
    report = (folder / "report.html").read_text()
    assert IMG not in report and "<img src=x" not in report and "onerror" not in report
    assert "close unchanged for 5 sessions: S00" in report
    weights = (folder / "portfolio_weights.csv").read_text()
    assert f"S00,{IMG}," in weights  # the sector is data in the CSV, never shown as HTML
    assert f"S01,'{FORMULA}," in weights and f",{FORMULA}" not in weights  # text, not a formula
    sectors = read_csv(folder / "portfolio_weights.csv").set_index("symbol")["sector"]
    assert sectors["S01"] == FORMULA and sectors["S00"] == IMG  # alphapilot reads it back as is

    [block] = slack.texts  # the day's one message: its trades are blocked
    assert block.startswith(f":rotating_light: *Trades for {day:%Y-%m-%d} BLOCKED")
    assert "close unchanged for 5 sessions: S00" in block
    run_page = f"/runs/flow-run/{state.state_details.flow_run_id}|Open the run in Prefect>"
    assert "<img" not in block and block.count("<") == 1  # Slack parses one link only:
    assert run_page in block  # the run's page in Prefect

    with get_client(sync_client=True) as client:
        key = f"daily-{day:%Y-%m-%d}-summary"
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[key]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]),
            )
        )
    [artifact] = artifacts
    assert "<img" not in artifact.data and "close unchanged for 5 sessions: S00" in artifact.data


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_a_hostile_symbol_is_refused_at_import_in_one_line_and_escaped_in_the_alert(
    tmp_path, slack
):
    hostile_folder(tmp_path / "data", symbol=SCRIPT)
    config = config_file(tmp_path / "c.yaml", notifications={"slack_webhook_url": slack.url})
    home = tmp_path / "home"

    result = cli(
        "data",
        "update",
        "--provider",
        "folder",
        "--path",
        str(tmp_path / "data"),
        "--home",
        str(home),
        "--config",
        config,
    )

    assert result.exit_code == 3
    [line] = [line for line in result.output.splitlines() if line.strip()]
    assert line.startswith(f"error: DataError: symbol {SCRIPT!r} is not allowed: use letters")
    assert "(prices.csv row " in line
    assert not (home / "data").exists()
    [text] = slack.texts
    assert "Flow data-update Failed" in text
    assert f"symbol '{escaped_for_slack(SCRIPT)}' is not allowed" in text
    assert SCRIPT not in text and text.count("<") == 1  # only the link to the run


# --- paths stay inside the home -----------------------------------------------------------------

ESCAPING = [
    ["daily", "--date", "../../x"],
    ["approve", "--date", "../../x"],
    ["daily", "--from", "../../x"],
    ["daily", "--from", "2013-01-02", "--to", "../../x"],
    ["select", "--as-of", "../../x"],
    ["train", "--as-of", "../../x"],
]


@pytest.mark.parametrize("command", ESCAPING, ids=lambda c: " ".join(c))
def test_a_date_that_is_a_path_is_refused_by_the_cli_and_writes_nothing(
    tmp_path, monkeypatch, command
):
    root = tmp_path / "root"
    cwd = root / "a" / "b"  # ../../x from here is root/x
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    home = root / "a" / "home"

    result = cli(*command, "--home", str(home))

    error = " ".join(result.output.replace("│", " ").split())  # one sentence in Click's box
    assert result.exit_code == 2
    assert f"Invalid value for '{command[-2]}'" in error
    assert "'../../x' does not match the formats '%Y-%m-%d'" in error
    assert tree(root) == {"a", "a/b"}  # no home, no x, nothing else


FLOWS = [
    ("flows.daily_live", "daily_live", "run_date"),
    ("flows.daily_replay", "daily_replay", "start"),
    ("flows.champion_selection", "champion_selection", "as_of"),
    ("flows.training", "train_candidates_flow", "as_of"),
]


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
@pytest.mark.parametrize(("module", "name", "parameter"), FLOWS, ids=[f[1] for f in FLOWS])
def test_a_flow_given_a_path_for_a_date_fails_validation_and_writes_nothing(
    tmp_path, monkeypatch, module, name, parameter
):
    import importlib

    flow = getattr(importlib.import_module(module), name)
    root = tmp_path / "root"
    cwd = root / "a" / "b"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)

    state = flow(**{parameter: "../../x"}, home=str(root / "a" / "home"), return_state=True)

    assert state.is_failed()
    assert "Validation of flow parameters failed" in (state.message or "")
    assert tree(root) == {"a", "a/b"}


def champion_archive(folder: Path, file_name: str) -> None:
    """A champion record in `folder` naming one member file, checksummed, by `file_name`."""
    import hashlib

    payload = b"tree\n"
    record = {
        "model_name": "lightgbm",
        "features": ["f"],
        "members": [
            {
                "name": "lightgbm",
                "kind": "lightgbm",
                "file": file_name,
                "sha256": hashlib.sha256(payload).hexdigest(),
            }
        ],
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "champion_metadata.json").write_text(json.dumps(record))


# where the tampered record makes an unguarded rollback read from (it writes elsewhere outside)
READS_FROM = {"archived": "a/b/planted.txt", "current": "planted.txt"}


@pytest.mark.parametrize("tampered", ["archived", "current"])
def test_a_tampered_champion_record_cannot_make_a_rollback_write_outside_the_home(
    tmp_path, tampered
):
    """Metadata is read from disk: a member file named `../../../../planted.txt` is refused.

    Unguarded, restoring the archived record would copy a/b/planted.txt to tmp/planted.txt, and
    archiving the current one would copy tmp/planted.txt to a/b/planted.txt.
    """
    home = tmp_path / "a" / "b" / "home"
    production = home / "production"
    escaping = "../../../../planted.txt"
    champion_archive(production / "history" / "20240101T000000000000Z", escaping)
    if tampered == "current":
        champion_archive(production, escaping)
    (tmp_path / READS_FROM[tampered]).write_text("attacker's bytes")
    before = tree(tmp_path)

    result = cli("rollback", "--home", str(home))

    assert result.exit_code == 3
    assert "error: ModelError: model metadata" in result.output
    assert f"names an unsupported model file {escaping!r}" in result.output
    assert len(result.output.strip().splitlines()) == 1
    written = {p for p in tree(tmp_path) if "logs" not in Path(p).parts}  # but its log
    assert written - {str(Path("a/b/home") / LOCK_FILE)} == before  # and its (empty) lock
