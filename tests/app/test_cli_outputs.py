"""What a person or a script sees from the command line: the version, one exit code per kind of
failure, one JSON object with `--json`, the paper account's fate in plain words, no test hooks.
"""

from __future__ import annotations

import errno
import json
import logging
import shutil
import signal
from datetime import date, timedelta
from importlib.metadata import version
from pathlib import Path

import pytest
from homes import SELECTION, SmallHome, build_small_home
from typer.testing import CliRunner

from app.cli import app
from app.errors import ExitCode, exit_code
from app.logfile import stop_logging
from trading_core.data.folder import write_folder
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.errors import ConfigError, DataError, ModelError, SafetyViolation
from trading_core.home import Home
from trading_core.home_lock import HomeBusy, HomeNotWritable
from trading_core.live.ledger import (
    ApprovalRefused,
    LedgerError,
    LedgerInconsistent,
    LedgerMissing,
    StalePositions,
)

runner = CliRunner()
BEFORE_THE_DATA = "1900-01-03"


@pytest.fixture(autouse=True)
def no_log_file_left_open():
    stop_logging()
    yield
    stop_logging()


def one_json_object(stdout: str) -> dict:
    """stdout holds exactly one JSON object and nothing else."""
    lines = stdout.splitlines()
    assert len(lines) == 1, stdout
    outcome = json.loads(lines[0])
    assert isinstance(outcome, dict)
    return outcome


def one_error_line(stderr: str, *parts: str) -> str:
    """stderr ends with the one `error:` line, which names every part; no traceback."""
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and stderr.strip().splitlines()[-1] == errors[0], stderr
    assert "Traceback" not in stderr
    for part in parts:
        assert part in errors[0], f"{part!r} not in {errors[0]!r}"
    return errors[0]


# --- the version ---------------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--version", "-V"])
def test_the_version_is_printed_and_the_command_ends_well(option):
    result = runner.invoke(app, [option])

    assert result.exit_code == 0, result.output
    assert result.stdout == f"alphapilot {version('alphapilot')}\n"


# --- exit codes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (SafetyViolation("trades for 2024-03-15 BLOCKED"), 1),
        (DataError("close is NaN for MSFT"), 3),
        (ConfigError("portfolio.max_weight"), 3),
        (ModelError("no earlier champion"), 3),
        (HomeBusy("in use"), 4),
        (LedgerError("cannot be read"), 4),
        (LedgerMissing("no ledger"), 4),
        (LedgerInconsistent("differs"), 4),
        (StalePositions("moved"), 4),
        (ApprovalRefused("already applied"), 4),
        (HomeNotWritable("read-only"), 5),
        (OSError(errno.ENOSPC, "No space left on device", "/x"), 5),
        (PermissionError(errno.EACCES, "Permission denied", "/x"), 5),
        (ZeroDivisionError("a bug"), 70),
        (KeyboardInterrupt(), 130),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_each_kind_of_failure_has_its_exit_code(error, code):
    assert exit_code(error) == code


def test_the_exit_codes_are_documented_in_the_readme():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme[readme.index("## Exit codes") :]
    for code in ExitCode:
        assert f"| `{code.value}` |" in table, code


@pytest.mark.parametrize(
    "command",
    [
        ["daily", "--date", "2024-01-02", "--from", "2023-01-02"],
        ["daily", "--to", "2024-01-02"],
        ["daily", "--date", "02/01/2024"],
        ["daily", "--no-such-option"],
    ],
    ids=["date-and-from", "to-without-from", "not-a-date", "unknown-option"],
)
def test_a_usage_error_exits_2_before_anything_is_written(tmp_path, command):
    result = runner.invoke(app, [*command, "--home", str(tmp_path / "home")])

    assert result.exit_code == 2, result.output
    assert not (tmp_path / "home").exists()


def test_an_error_outside_any_flow_still_ends_in_one_line_with_its_code(tmp_path, monkeypatch):
    import trading_core.data.synthetic as synthetic

    def broken(**kwargs):
        raise ZeroDivisionError("a bug before any flow")

    monkeypatch.setattr(synthetic, "generate_synthetic_market", broken)

    result = runner.invoke(app, ["data", "synth", "--out", str(tmp_path / "out")])

    assert result.exit_code == 70
    one_error_line(result.stderr, "unexpected ZeroDivisionError: a bug before any flow")


def test_a_command_that_creates_the_home_and_fails_names_the_home_s_log(tmp_path, monkeypatch):
    """`demo` into a new home: the failing step made the home, so the traceback goes to its log."""
    import flows.data_update

    home = tmp_path / "home"

    def fails_after_creating_the_home(**kwargs):
        home.mkdir()
        raise DataError("the provider answered nonsense")

    monkeypatch.setattr(flows.data_update, "data_update", fails_after_creating_the_home)
    monkeypatch.setenv("ALPHAPILOT__MODELING__TUNING__TRIALS", "8")  # demo sets it if unset

    result = runner.invoke(app, ["demo", "--home", str(home)])

    log = Home(home).log_file
    assert result.exit_code == 3
    one_error_line(result.stderr, "DataError: the provider answered nonsense", f"(details: {log})")
    assert "Traceback (most recent call last)" in log.read_text()


def test_with_json_a_refusal_before_any_flow_is_one_json_object_too(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("portfolio:\n  max_weight: 1.5\n")

    result = runner.invoke(
        app, ["daily", "--json", "--home", str(tmp_path / "home"), "--config", str(config)]
    )

    assert result.exit_code == 3
    outcome = one_json_object(result.stdout)
    assert outcome["status"] == "error" and outcome["exit_code"] == 3
    assert "portfolio.max_weight" in outcome["error"]
    assert outcome["error"] in one_error_line(result.stderr, "ConfigError")


# --- test hooks -----------------------------------------------------------------------------------


def test_a_step_dies_at_its_crash_point_only_when_the_tests_name_it(monkeypatch):
    import trading_core.faults as faults
    from tasks.options import step

    @step("probe")
    def probe(x: int) -> int:
        return x + 1

    killed: list[int] = []
    monkeypatch.setattr(faults.os, "kill", lambda pid, sig: killed.append(sig))

    monkeypatch.delenv(faults.KILL_AT, raising=False)
    assert probe.fn(1) == 2 and killed == []
    monkeypatch.setenv(faults.KILL_AT, "task:other")
    assert probe.fn(1) == 2 and killed == []
    monkeypatch.setenv(faults.KILL_AT, "task:pro*")
    probe.fn(1)
    assert killed == [signal.SIGKILL]


# --- commands on a small home -------------------------------------------------------------------


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> SmallHome:
    return build_small_home(tmp_path_factory.mktemp("outputs"))


@pytest.fixture
def small(base: SmallHome, tmp_path: Path) -> SmallHome:
    """A private copy of the base home for one case."""
    shutil.copytree(base.home, tmp_path / "home")
    config = tmp_path / "fast.yaml"
    config.write_text(base.config.read_text())
    return SmallHome(tmp_path / "home", config, base.data, base.first, base.day)


def cli(small: SmallHome, *args: str) -> list[str]:
    return [*args, "--home", str(small.home), "--config", str(small.config)]


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_daily_json_is_the_applied_outcome_and_no_hook_is_logged(small: SmallHome, caplog):
    with caplog.at_level(logging.INFO):
        result = runner.invoke(app, cli(small, "daily", "--date", small.day, "--json"))

    assert result.exit_code == 0, result.output
    outcome = one_json_object(result.stdout)
    assert outcome["status"] == "applied" and outcome["ledger_status"] == "applied"
    assert outcome["date"] == small.day and outcome["trades_proposed"] >= 0
    assert all(Path(path).is_file() for path in outcome["files"].values())
    report = Path(outcome["files"]["report.html"]).read_text()
    assert "applied to the paper account" in report or "nothing to apply" in report
    assert "recommendations only" not in report.lower()
    messages = [record.getMessage() for record in caplog.records]
    assert any("Finished in state Completed" in m for m in messages)  # the run's lines were seen
    assert not [m for m in messages if "Running hook" in m]


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_a_run_awaiting_approval_says_so_with_the_command(small: SmallHome):
    small.config.write_text(small.config.read_text() + "live: {require_manual_approval: true}\n")

    shown = runner.invoke(app, cli(small, "daily", "--date", small.day))
    scripted = runner.invoke(app, cli(small, "daily", "--date", small.day, "--json"))

    assert shown.exit_code == 0 and scripted.exit_code == 0, shown.output + scripted.output
    assert f"awaiting approval (alphapilot approve --date {small.day})" in shown.stdout
    assert one_json_object(scripted.stdout)["status"] == "awaiting_approval"
    report = (small.home / "live" / small.day / "report.html").read_text()
    assert "awaiting approval" in report and f"alphapilot approve --date {small.day}" in report


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_a_blocked_run_exits_1_and_says_nothing_was_applied(small: SmallHome):
    small.config.write_text(small.config.read_text() + "live: {max_cost_pct: 1.0e-9}\n")

    result = runner.invoke(app, cli(small, "daily", "--date", small.day, "--json"))

    assert result.exit_code == 1, result.output
    outcome = one_json_object(result.stdout)
    assert outcome["status"] == "blocked" and outcome["exit_code"] == 1
    assert "nothing applied to the paper account" in outcome["error"]
    one_error_line(result.stderr, "SafetyViolation", "BLOCKED", str(Home(small.home).log_file))


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_daily_json_on_a_market_closed_day(small: SmallHome):
    last = date.fromisoformat(small.day)
    saturday = last + timedelta(days=(5 - last.weekday()) % 7 or 7)
    if saturday > date.today():
        saturday -= timedelta(days=7)

    result = runner.invoke(app, cli(small, "daily", "--date", f"{saturday}", "--json"))

    assert result.exit_code == 0, result.output
    outcome = one_json_object(result.stdout)
    assert outcome["status"] == "market_closed" and outcome["date"] == f"{saturday}"


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_a_failure_inside_the_flow_with_json_is_one_object_and_one_line(small: SmallHome):
    result = runner.invoke(app, cli(small, "daily", "--date", BEFORE_THE_DATA, "--json"))

    log = Home(small.home).log_file
    assert result.exit_code == 3
    outcome = one_json_object(result.stdout)
    assert outcome == {
        "status": "error",
        "error": outcome["error"],
        "exit_code": 3,
        "log": str(log),
    }
    assert outcome["error"].startswith("DataError:") and BEFORE_THE_DATA in outcome["error"]
    one_error_line(result.stderr, outcome["error"], f"(details: {log})")
    assert "Traceback (most recent call last)" in log.read_text()


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_data_update_train_and_select_answer_scripts_in_json(tmp_path):
    market = generate_synthetic_market(symbols=10, years=3, seed=5, ic=0.1)
    write_folder(market.data, tmp_path / "data")
    config = tmp_path / "selection.yaml"
    config.write_text(SELECTION)
    where = ["--home", str(tmp_path / "home"), "--config", str(config), "--json"]

    update = runner.invoke(
        app, ["data", "update", "--provider", "folder", "--path", str(tmp_path / "data"), *where]
    )
    train = runner.invoke(app, ["train", *where])
    select = runner.invoke(app, ["select", *where])
    shown = runner.invoke(app, ["select", *where[:-1]])

    for result in (update, train, select, shown):
        assert result.exit_code == 0, result.output
    stored = one_json_object(update.stdout)
    assert stored["status"] == "ok" and stored["symbols"] == 10 and stored["changed"] is True
    assert (
        Path(stored["store"]).is_dir()
        and stored["last_date"] == f"{market.data.last_date:%Y-%m-%d}"
    )
    trained = one_json_object(train.stdout)
    assert Path(trained["comparison"]).is_file()
    assert set(trained["models"]) >= {"lightgbm", "random_forest"}
    assert all(isinstance(v, float | None) for m in trained["models"].values() for v in m.values())
    selected = one_json_object(select.stdout)
    assert selected["status"] == "ok" and selected["champion"]["combination"]
    assert Path(selected["champion"]["metadata_path"]).is_file()
    assert selected["report"].endswith(".html") and Path(selected["report"]).is_file()
    assert Path(selected["report_markdown"]).is_file()
    assert all(entry["passed"] == (not entry["failures"]) for entry in selected["ranking"])
    assert f"report: {selected['report']}" in shown.stdout  # people are shown the page too
