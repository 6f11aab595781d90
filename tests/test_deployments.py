"""Deployments: prefect.yaml and `alphapilot serve` put the same schedules on a real Prefect server.

The slow tests share one `prefect server start` (module fixture `server`, about 17 s to come up)
and run in file order: `prefect deploy --all` and a worker first, then `alphapilot serve`, which
takes over the same deployment names. Each runs a real data update through the deployment.
"""

from __future__ import annotations

import importlib
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from server_process import (
    BIN,
    REPO,
    PrefectServer,
    free_port,
    running_prefect_server,
    stop,
    wait_for,
)
from typer.testing import CliRunner

from deployments.schedules import CRON, PARAMETERS, TIMEZONE, WORK_POOL
from flows.cli import app

NEW_YORK = ZoneInfo(TIMEZONE)
runner = CliRunner()


def prefect_yaml() -> dict[str, dict]:
    """prefect.yaml's deployments by name."""
    spec = yaml.safe_load((REPO / "prefect.yaml").read_text())
    return {d["name"]: d for d in spec["deployments"]}


def read_deployments(server: PrefectServer) -> dict:
    """Every deployment on the server, by name."""
    from prefect.client.orchestration import get_client

    with server.settings(), get_client(sync_client=True) as client:
        return {d.name: d for d in client.read_deployments()}


# --- fast: the files agree, and serve refuses without a server ---


def test_prefect_yaml_declares_the_shared_schedules():
    deployments = prefect_yaml()
    assert set(deployments) == set(CRON)
    for name, spec in deployments.items():
        assert spec["schedules"] == [{"cron": CRON[name], "timezone": TIMEZONE, "active": True}]
        assert spec.get("parameters", {}) == PARAMETERS[name], name
        assert spec["work_pool"]["name"] == WORK_POOL, name


def test_prefect_yaml_entrypoints_are_the_flows_of_the_same_name():
    for name, spec in prefect_yaml().items():
        path, function = spec["entrypoint"].split(":")
        assert (REPO / path).is_file(), spec["entrypoint"]
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert getattr(module, function).name == name


def test_serve_help_names_its_options():
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    assert "--home" in result.output and "--config" in result.output
    assert "prefect server start" in " ".join(result.output.split())


@pytest.mark.parametrize("api_url", ["closed port", "unset"])
def test_serve_without_a_server_says_how_to_start_one(api_url):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if api_url == "unset":
        settings = temporary_settings(restore_defaults={PREFECT_API_URL})
    else:
        settings = temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{free_port()}/api"})
    with settings:
        result = runner.invoke(app, ["serve"])
    assert result.exit_code == 1, result.output
    message = result.output.strip()
    assert message.startswith("error: NoPrefectServer:") and "\n" not in message, message
    assert "prefect server start" in message
    assert "prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api" in message


# --- slow: a real server ---


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[PrefectServer]:
    """A `prefect server start` shared by this module's slow tests."""
    with running_prefect_server(tmp_path_factory.mktemp("prefect-server")) as running:
        yield running


@pytest.fixture(scope="module")
def deployed(server: PrefectServer) -> PrefectServer:
    """The server after docs/ORCHESTRATION.md's steps: a process pool, `prefect deploy --all`."""
    server.prefect("work-pool", "create", WORK_POOL, "--type", "process")
    # from the checkout, with a stale PWD: the recorded folder must not come from that variable
    server.prefect("--no-prompt", "deploy", "--all", cwd=REPO, env={"PWD": "/"})
    return server


@pytest.mark.slow
def test_deploy_all_puts_every_deployment_on_the_pool_with_its_schedule(deployed):
    deployments = read_deployments(deployed)
    assert set(deployments) == set(CRON)
    for name, deployment in deployments.items():
        assert deployment.work_pool_name == WORK_POOL, name
        assert not deployment.paused, name
        assert deployment.parameters == PARAMETERS[name], name
        [schedule] = deployment.schedules
        assert schedule.active, name
        assert (schedule.schedule.cron, schedule.schedule.timezone) == (CRON[name], TIMEZONE)
        # the worker runs the flows from this checkout, wherever `prefect deploy` was started
        [pull] = deployment.pull_steps
        directory = pull["prefect.deployments.steps.set_working_directory"]["directory"]
        assert Path(directory) == REPO, name


@pytest.mark.slow
def test_the_scheduler_plans_runs_at_the_new_york_times(deployed):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    def planned() -> dict[str, list]:
        with deployed.settings(), get_client(sync_client=True) as client:
            runs = {
                name: client.read_flow_runs(
                    deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[name]))
                )
                for name in CRON
            }
        return runs if all(runs.values()) else {}

    runs = wait_for(planned, 30, "scheduled runs of every deployment")
    times = {
        name: {r.expected_start_time.astimezone(NEW_YORK) for r in flow_runs}
        for name, flow_runs in runs.items()
    }
    assert all(run.state.is_scheduled() for flow_runs in runs.values() for run in flow_runs)
    assert {(t.hour, t.minute) for t in times["data-update"]} == {(17, 0)}
    assert {(t.hour, t.minute) for t in times["daily-live"]} == {(17, 30)}
    assert {(t.hour, t.minute, t.weekday()) for t in times["champion-selection"]} == {(9, 0, 5)}
    assert all(t.weekday() < 5 for t in times["daily-live"] | times["data-update"])


def run_data_update(server: PrefectServer, parameters: dict, log: Path) -> None:
    """Start a run of the data-update deployment now and wait until it has completed."""
    from prefect.client.orchestration import get_client

    with server.settings(), get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("data-update/data-update")
        run = client.create_flow_run_from_deployment(deployment.id, parameters=parameters)

        def finished():
            state = client.read_flow_run(run.id).state
            return state if state.is_final() else None

        state = wait_for(finished, 90, "the data-update run to finish")
    assert state.is_completed(), f"{state.name}: {state.message}\n{log.read_text()[-3000:]}"


@pytest.mark.slow
def test_a_worker_on_the_pool_runs_a_deployment_from_the_checkout(deployed, tmp_path):
    from prefect.client.orchestration import get_client

    home = tmp_path / "home"
    log = tmp_path / "worker.log"
    worker = deployed.start(
        str(BIN / "prefect"),
        *("worker", "start", "--pool", WORK_POOL),
        cwd=tmp_path,
        log=log,
        env={"PREFECT_WORKER_QUERY_SECONDS": "1"},
    )
    try:
        with deployed.settings(), get_client(sync_client=True) as client:
            wait_for(lambda: client.read_workers_for_work_pool(WORK_POOL), 30, "a worker")
        run_data_update(deployed, {"provider": "bundled", "home": str(home)}, log)
        assert (home / "data" / "manifest.json").is_file()
    finally:
        stop(worker, signal.SIGINT)  # the worker first: stopped after its server, it hangs


@pytest.mark.slow
def test_alphapilot_serve_runs_the_same_schedules_from_any_folder_and_pauses_them_on_exit(
    server, tmp_path
):
    home = (tmp_path / "home").resolve()
    log = tmp_path / "serve.log"
    started = datetime.now(UTC)
    serving = server.start(
        str(BIN / "alphapilot"),
        *("serve", "--home", str(home)),
        cwd=tmp_path,  # not the checkout: the served flows are the imported ones
        log=log,
        env={"PREFECT_RUNNER_POLL_FREQUENCY": "1"},
    )
    try:

        def served() -> dict:
            assert serving.poll() is None, log.read_text()
            deployments = read_deployments(server)
            ours = [d for d in deployments.values() if d.parameters.get("home") == str(home)]
            # polled since it started: serving, and ready to pause its deployments on SIGTERM
            polling = all(d.last_polled and d.last_polled > started for d in ours)
            return deployments if len(ours) == len(CRON) and polling else {}

        deployments = wait_for(served, 60, "alphapilot serve to register its deployments")
        for name in CRON:
            deployment = deployments[name]
            assert deployment.parameters == {**PARAMETERS[name], "home": str(home)}, name
            assert deployment.work_pool_name is None, name  # a worker must not take its runs
            [schedule] = deployment.schedules
            assert schedule.active and not deployment.paused, name
            assert (schedule.schedule.cron, schedule.schedule.timezone) == (CRON[name], TIMEZONE)
        run_data_update(server, {"provider": "bundled"}, log)
        assert (home / "data" / "manifest.json").is_file()  # --home reached the run
    finally:
        stop(serving)
    assert serving.returncode == 0, log.read_text()
    assert all(read_deployments(server)[name].paused for name in CRON)
