"""The command line: every command documents itself and failures are one clear line."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from app.cli import app

runner = CliRunner()

COMMANDS = [
    [],
    ["demo"],
    ["data"],
    ["data", "update"],
    ["data", "synth"],
    ["train"],
    ["select"],
    ["daily"],
    ["approve"],
    ["resume"],
    ["rollback"],
    ["serve"],
]
TAKES_HOME = [
    ["demo"],
    ["data", "update"],
    ["train"],
    ["select"],
    ["daily"],
    ["approve"],
    ["resume"],
    ["rollback"],
    ["serve"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "alphapilot")
def test_every_command_has_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    if command in TAKES_HOME:
        assert "--home" in result.output and "--config" in result.output


def test_data_synth_writes_a_readable_folder(tmp_path):
    from trading_core.data.folder import read_folder

    out = tmp_path / "synth"
    result = runner.invoke(
        app,
        [
            "data",
            "synth",
            "--symbols",
            "8",
            "--years",
            "1",
            "--seed",
            "5",
            "--ic",
            "0.1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "oracle IC" in result.output
    data = read_folder(out)
    assert data.symbols == [f"S{i}" for i in range(8)] and data.has_volume
    assert pd.read_csv(out / "sectors.csv")["symbol"].nunique() == 8


def test_invalid_config_exits_non_zero_with_the_field_named(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("portfolio:\n  max_weight: 1.5\n")
    result = runner.invoke(
        app, ["daily", "--date", "2022-12-28", "--home", str(tmp_path), "--config", str(config)]
    )
    assert result.exit_code == 3  # a configuration error
    assert "portfolio.max_weight" in result.output
    assert "Traceback" not in result.output


def test_a_date_that_is_not_a_date_is_refused(tmp_path):
    result = runner.invoke(app, ["daily", "--date", "28/12/2022", "--home", str(tmp_path)])
    assert result.exit_code != 0
    assert not (tmp_path / "live").exists()


def test_the_temporary_prefect_server_gets_time_to_start_on_a_busy_machine():
    """Prefect's 20 s wait for its temporary server timed out under load (`data update` exited
    "Timed out while attempting to connect to ephemeral Prefect API server"); a user's own value
    still wins."""
    import os
    import subprocess
    import sys

    read = (
        "import app.cli; from prefect.settings import get_current_settings; "
        "print(get_current_settings().server.ephemeral.startup_timeout_seconds)"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_SERVER_EPHEMERAL")}

    def timeout(env: dict[str, str]) -> str:
        done = subprocess.run([sys.executable, "-c", read], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert timeout(clean) == "90"
    assert timeout({**clean, "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "7"}) == "7"


@pytest.mark.slow
def test_the_temporary_server_started_early_is_the_one_the_flows_use():
    """Commands start Prefect's temporary server before they import their flows; the flow run
    must then talk to that server without starting a second one or importing the server's code,
    the server must stop with the command, and a configured server means none is started."""
    import os
    import subprocess
    import sys

    from app.early_server import answers

    script = """
import os, sys
from app.early_server import start_early
wait = start_early()
from prefect import flow
wait()

@flow
def probe():
    from prefect.client.orchestration import get_client
    return str(get_client().api_url)

print(probe(), os.environ["PREFECT_API_URL"], "prefect.server.api.server" in sys.modules)
"""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    used, started, imported_server = done.stdout.split()[-3:]
    assert used.rstrip("/") == started and imported_server == "False"
    assert not answers(f"{started}/health"), "the temporary server outlived its command"

    configured = (
        "import os; from app.early_server import start_early; start_early()(); "
        "print(os.environ['PREFECT_API_URL'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", configured],
        env={**env, "PREFECT_API_URL": "http://127.0.0.1:9/api"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["http://127.0.0.1:9/api"]


@pytest.mark.usefixtures("prefect_server")
def test_a_command_runs_its_flows_without_heartbeats_unless_the_user_set_them():
    """Prefect's heartbeat thread sleeps in 1 s steps and each flow run's end waits for its next
    step (0-1 s on every command); a user's own frequency is kept."""
    from prefect import flow
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        get_current_settings,
        temporary_settings,
    )

    from app.steps import run_flow

    @flow
    def probe() -> int | None:
        return get_current_settings().flows.heartbeat_frequency  # what the flow engine reads

    assert probe() is not None  # Prefect's default: heartbeats on
    assert run_flow(probe) is None
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 60}):
        assert run_flow(probe) == 60
