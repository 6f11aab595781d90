"""Deployments: prefect.yaml and `alphapilot serve` put the same schedules on a real Prefect server.

The slow tests share one `prefect server start` (module fixture `server`, about 17 s to come up)
and run in file order: `prefect deploy --all` and a worker first, then `alphapilot serve`, which
takes over the same deployment names. Each runs a real data update through the deployment.
"""

from __future__ import annotations

import importlib
import signal
from collections.abc import Iterator
from dataclasses import dataclass
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

from app.cli import app
from deployments.schedules import CRON, PARAMETERS, TIMEZONE, WORK_POOL

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
    assert result.exit_code == 3, result.output  # a configuration error: no server to serve on
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
    """The server after docs/guide/orchestration.md's steps: a process pool, `prefect deploy --all`."""
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


TINY = """
modeling:
  test_sessions: 126
  cv: {folds: 2, validation_sessions: 63}
  lightgbm: {n_estimators: 20}
model_selection:
  candidates: [lightgbm]
  optimizers: [equal_weight, inverse_vol]
  thresholds: {sharpe_min: -10, max_drawdown_max: -1.0, calmar_min: -10, turnover_max: 10, beat_baseline: false}
portfolio: {top_k: 3, max_weight: 0.4}
live: {max_position_pct: 0.4}
risk: {max_sector_weight: 0.8}
"""


@dataclass(frozen=True)
class TinyHome:
    """A home to be made by the deployments: its data folder (ending today), config, and the
    session the dated daily run takes (the one before the last)."""

    home: Path
    source: Path
    config: Path
    day: str


@pytest.fixture(scope="module")
def tiny_source(tmp_path_factory) -> tuple[Path, str]:
    """10 synthetic stocks over 2 years of sessions up to today (New York): the daily run without
    a date then has data for today, or ends "market closed" on a weekend or holiday."""
    from trading_core.data.calendar import market_today, sessions
    from trading_core.data.folder import write_folder
    from trading_core.data.synthetic import generate_synthetic_market

    root = tmp_path_factory.mktemp("tiny-source")
    known = sessions()
    days = known[known <= str(market_today())][-504:]
    market = generate_synthetic_market(symbols=10, years=2, seed=5, ic=0.1, start=f"{days[0]:%F}")
    write_folder(market.data, root / "data")
    (root / "tiny.yaml").write_text(TINY)
    return root, f"{market.data.dates[-2]:%Y-%m-%d}"


def tiny_home(tiny_source: tuple[Path, str], home: Path) -> TinyHome:
    root, day = tiny_source
    return TinyHome(home.resolve(), root / "data", root / "tiny.yaml", day)


def run_deployment(server: PrefectServer, name: str, parameters: dict, log: Path) -> str:
    """Start a run of deployment `name` now; assert it completed with every task run completed.

    The flow run's name, for messages.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with server.settings(), get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(f"{name}/{name}")
        run = client.create_flow_run_from_deployment(deployment.id, parameters=parameters)

        def finished():
            state = client.read_flow_run(run.id).state
            return state if state.is_final() else None

        state = wait_for(finished, 300, f"the {name} run to finish")
        assert state.is_completed(), f"{name}: {state.name}: {state.message}\n{tail(log)}"

        def tasks_final():  # task states reach the server as events, shortly after the flow's
            tasks = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
            )
            return tasks if tasks and all(t.state and t.state.is_final() for t in tasks) else []

        tasks = wait_for(tasks_final, 30, f"the task runs of {name} to report their final states")
    assert all(t.state.is_completed() for t in tasks), [(t.name, t.state.name) for t in tasks]
    return run.name


def tail(log: Path) -> str:
    return log.read_text()[-4000:] if log.exists() else ""


def run_every_deployment(server: PrefectServer, tiny: TinyHome, log: Path, **parameters) -> None:
    """The product's jobs through their deployments, in a user's order: data update from the
    folder, champion selection, the daily run for a past session, then for today."""
    run_deployment(
        server, "data-update", {"provider": "folder", "path": str(tiny.source), **parameters}, log
    )
    assert (tiny.home / "data" / "manifest.json").is_file()
    run_deployment(server, "champion-selection", parameters, log)
    assert (tiny.home / "production" / "champion_metadata.json").is_file()
    run_deployment(server, "daily-live", {"run_date": tiny.day, **parameters}, log)
    assert (tiny.home / "live" / tiny.day / "report.html").is_file()
    run_deployment(server, "daily-live", parameters, log)  # today: a session, or market closed


@pytest.mark.slow
def test_a_worker_on_the_pool_runs_every_deployment_from_the_checkout(
    deployed, tiny_source, tmp_path
):
    from prefect.client.orchestration import get_client

    tiny = tiny_home(tiny_source, tmp_path / "home")
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
        run_every_deployment(deployed, tiny, log, home=str(tiny.home), config=str(tiny.config))
    finally:
        stop(worker, signal.SIGINT)  # the worker first: stopped after its server, it hangs


@pytest.fixture(scope="module")
def serving(server, tiny_source, tmp_path_factory) -> Iterator[tuple[TinyHome, Path]]:
    """`alphapilot serve --home H --config C` started from a folder that is not the checkout
    (the served flows are the imported ones), its deployments registered and polled."""
    root = tmp_path_factory.mktemp("serve")
    tiny = tiny_home(tiny_source, root / "home")
    log = root / "serve.log"
    started = datetime.now(UTC)
    process = server.serve(
        "--home", str(tiny.home), "--config", str(tiny.config), cwd=root, log=log
    )

    def served() -> dict:
        assert process.poll() is None, tail(log)
        deployments = read_deployments(server)
        ours = [d for d in deployments.values() if d.parameters.get("home") == str(tiny.home)]
        # polled since it started: serving, and ready to pause its deployments on SIGTERM
        polling = all(d.last_polled and d.last_polled > started for d in ours)
        return deployments if len(ours) == len(CRON) and polling else {}

    try:
        wait_for(served, 60, "alphapilot serve to register its deployments")
        yield tiny, log
    finally:
        stop(process)
    assert process.returncode == 0, tail(log)
    assert all(read_deployments(server)[name].paused for name in CRON)  # paused on exit


@pytest.mark.slow
def test_alphapilot_serve_registers_the_same_schedules_off_the_work_pool(server, serving):
    tiny, _ = serving
    deployments = read_deployments(server)
    for name in CRON:
        deployment = deployments[name]
        expected = {**PARAMETERS[name], "home": str(tiny.home), "config": str(tiny.config)}
        assert deployment.parameters == expected, name
        assert deployment.work_pool_name is None, name  # a worker must not take its runs
        [schedule] = deployment.schedules
        assert schedule.active and not deployment.paused, name
        assert (schedule.schedule.cron, schedule.schedule.timezone) == (CRON[name], TIMEZONE)


@pytest.mark.slow
def test_alphapilot_serve_runs_every_deployment_to_completion(server, serving):
    tiny, log = serving
    run_every_deployment(server, tiny, log)  # home and config come from `serve`


@pytest.mark.slow
def test_a_served_run_that_fails_shows_why_in_its_prefect_run_logs(server, serving):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    tiny, log = serving
    future = "2999-01-04"
    with server.settings(), get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("daily-live/daily-live")
        run = client.create_flow_run_from_deployment(deployment.id, parameters={"run_date": future})

        def finished():
            state = client.read_flow_run(run.id).state
            return state if state.is_final() else None

        state = wait_for(finished, 120, "the failing daily-live run to finish")

        def logged() -> str:
            logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
            text = "\n".join(entry.message for entry in logs)
            return text if "in the future" in text else ""

        text = wait_for(logged, 30, "the reason in the run's logs")
    assert state.is_failed(), f"{state.name}: {tail(log)}"
    assert f"{future} is in the future" in text
