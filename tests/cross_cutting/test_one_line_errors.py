"""Every refusal is one line: the `alphapilot` command a person runs ends with exactly one `error:`
line naming the cause, no traceback on the console, and the traceback in `<home>/logs/alphapilot.log`.

Cases: a config file that is a list, a single value or a directory; a home that is (a link to)
the filesystem root or a file; dates and replay ranges before the data; a full disk and a
read-only home; an unexpected failure. Nothing is written outside the resolved home, and a refused
run leaves the home as it was (but for its log).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from homes import SmallHome, build_small_home
from typer.testing import CliRunner

from app.cli import app
from app.logfile import stop_logging
from trading_core.home import Home
from trading_core.live.ledger import Ledger

runner = CliRunner()
BEFORE_THE_DATA = "1900-01-03"  # a Wednesday, a century before the fixture's data


@pytest.fixture(autouse=True)
def no_log_file_left_open():
    """Each case starts and ends without a log file attached (the CLI attaches one per home)."""
    stop_logging()
    yield
    stop_logging()


def refused(output: str, *parts: str) -> str:
    """The one `error:` line of a refused command, checked to name every part; no traceback."""
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    assert "Traceback" not in output, output
    for part in parts:
        assert part in errors[0], f"{part!r} not in {errors[0]!r}"
    return errors[0]


def files(home: Path) -> dict[str, bytes]:
    """Every file of the home but its log and Prefect's result cache, with its bytes."""
    return {
        str(p.relative_to(home)): p.read_bytes()
        for p in sorted(home.rglob("*"))
        if p.is_file() and not {"logs", "cache"} & set(p.relative_to(home).parts)
    }


# --- settings: no home needed -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"), [("- portfolio\n- live\n", "not a list"), ("hello\n", "not a single value")]
)
def test_a_settings_file_that_is_not_a_mapping_is_refused_in_one_line(tmp_path, text, kind):
    config = tmp_path / "settings.yaml"
    config.write_text(text)

    result = runner.invoke(
        app, ["daily", "--home", str(tmp_path / "home"), "--config", str(config)]
    )

    assert result.exit_code == 3
    refused(result.output, f"settings file {config} must be a mapping of sections", kind)
    assert not (tmp_path / "home").exists()


def test_a_config_path_that_is_a_directory_is_named_as_one(tmp_path):
    result = runner.invoke(
        app, ["train", "--home", str(tmp_path / "home"), "--config", str(tmp_path)]
    )

    assert result.exit_code == 3
    refused(result.output, f"config file {tmp_path} is a directory")


def test_a_home_linked_to_the_filesystem_root_is_refused_before_anything_is_written(tmp_path):
    link = tmp_path / "home"
    link.symlink_to("/")
    ledger_before = Path("/live").exists()

    for command in (["approve", "--date", "2024-01-02"], ["daily"], ["rollback"]):
        result = runner.invoke(app, [*command, "--home", str(link)])

        assert result.exit_code == 3, result.output
        refused(result.output, "home: must not be the filesystem root", f"{link} resolves to /")
    assert Path("/live").exists() == ledger_before
    assert not Path("/logs/alphapilot.log").exists()


def test_a_home_that_is_a_file_is_refused(tmp_path):
    home = tmp_path / "home"
    home.write_text("not a folder")

    result = runner.invoke(app, ["daily", "--home", str(home)])

    assert result.exit_code == 3
    refused(result.output, f"{home} is not a folder")
    assert home.read_text() == "not a folder"


def test_the_home_is_resolved_once(tmp_path):
    from settings import load_settings

    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)

    assert load_settings(home=tmp_path / "link").home == real
    assert load_settings(home=tmp_path / "link" / ".." / "real").home == real


# --- flows on a small home ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> SmallHome:
    return build_small_home(tmp_path_factory.mktemp("one-line"))


@pytest.fixture
def small(base: SmallHome, tmp_path: Path) -> SmallHome:
    """A private copy of the base home for one case (its log file removed)."""
    home = tmp_path / "home"
    shutil.copytree(base.home, home)
    shutil.rmtree(home / "logs", ignore_errors=True)
    return SmallHome(home, base.config, base.data, base.first, base.day)


def cli(small: SmallHome, *args: str) -> list[str]:
    return [*args, "--home", str(small.home), "--config", str(small.config)]


def logged_traceback(small: SmallHome, *parts: str) -> str:
    """The home's log file, checked to hold a traceback and every part."""
    text = Home(small.home).log_file.read_text()
    assert "Traceback (most recent call last)" in text
    for part in parts:
        assert part in text
    return text


@pytest.mark.parametrize(
    "command",
    [
        ["daily", "--date", BEFORE_THE_DATA],
        ["select", "--as-of", BEFORE_THE_DATA],
        ["train", "--as-of", BEFORE_THE_DATA],
        ["daily", "--from", "2013-06-03", "--to", BEFORE_THE_DATA],
    ],
    ids=["daily", "select", "train", "replay-ending-before-it-starts"],
)
@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_a_date_before_the_data_is_refused_in_one_line(small: SmallHome, command):
    before = files(small.home)

    result = runner.invoke(app, cli(small, *command))

    assert result.exit_code == 3, result.output
    line = refused(
        result.output, "DataError", BEFORE_THE_DATA, f"(details: {Home(small.home).log_file})"
    )
    assert "2012-01-03" in line or "ends before it starts" in line  # the stored span, or the range
    logged_traceback(small, BEFORE_THE_DATA)
    assert files(small.home) == before


@pytest.mark.slow
def test_a_replay_before_the_data_prints_one_line_and_no_traceback_on_the_console(
    small: SmallHome, prefect_server
):
    """The real command in a process of its own: Prefect's console lines stay, their tracebacks go
    to the log file."""
    from prefect.settings import PREFECT_API_URL

    before = files(small.home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHAPILOT")}
    env["PREFECT_API_URL"] = PREFECT_API_URL.value()
    command = cli(small, "daily", "--from", "1900-01-02", "--to", "1900-02-01")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "alphapilot"), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "Beginning flow run" in done.stderr  # the progress lines are still shown
    error = refused(
        done.stderr, "replay 1900-01-02..1900-02-01 starts before the stored market data"
    )
    assert "(2012-01-03..2014-01-03)" in error and str(Home(small.home).log_file) in error
    logged_traceback(small, "Encountered exception during execution", "daily_replay.py")
    assert files(small.home) == before


WRITE_FAILURES = {
    "disk-full": ("os.fsync", OSError(errno.ENOSPC, "No space left on device")),
    "read-only": ("tempfile.mkstemp", OSError(errno.EROFS, "Read-only file system", "/x/.tmp")),
}


@pytest.mark.parametrize("failure", WRITE_FAILURES, ids=list(WRITE_FAILURES))
@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_a_file_that_cannot_be_written_is_named_in_one_line(small: SmallHome, monkeypatch, failure):
    target, error = WRITE_FAILURES[failure]
    module, name = target.split(".")
    monkeypatch.setattr(__import__(module), name, _raising(error))

    result = runner.invoke(app, cli(small, "daily", "--date", small.day))

    assert result.exit_code == 5, result.output
    line = refused(result.output, f"cannot write {small.home}", error.strerror)
    assert ".tmp" not in line  # the file the person knows, not the temporary one
    monkeypatch.undo()
    logged_traceback(small, error.strerror)
    Ledger.at_home(Home(small.home), 1.0).verify()


def _raising(error: OSError):
    def fail(*args, **kwargs):
        raise error

    return fail


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_an_unexpected_failure_is_one_line_pointing_to_the_log(small: SmallHome, monkeypatch):
    from trading_core.data.store import MarketStore

    def broken(self, as_of=None):
        raise ZeroDivisionError("a bug somewhere")

    monkeypatch.setattr(MarketStore, "load", broken)
    before = files(small.home)

    result = runner.invoke(app, cli(small, "daily", "--date", small.day))

    assert result.exit_code == 70, result.output
    log = Home(small.home).log_file
    refused(result.output, "unexpected ZeroDivisionError: a bug somewhere", f"(details: {log})")
    logged_traceback(small, "ZeroDivisionError: a bug somewhere", "alphapilot.cli")
    assert files(small.home) == before


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_a_home_linked_to_a_folder_works_and_writes_only_there(small: SmallHome, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(small.home)

    result = runner.invoke(
        app, ["daily", "--date", small.day, "--home", str(link), "--config", str(small.config)]
    )

    assert result.exit_code == 0, result.output
    assert (small.home / "live" / small.day / "report.html").is_file()
    assert str(small.home / "live" / small.day) in result.output  # the resolved home is shown
    assert Home(small.home).log_file.is_file()
    assert link.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["home", "link"]
