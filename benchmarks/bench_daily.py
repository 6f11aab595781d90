"""Time one daily run on a 500-stock x 10-year synthetic universe with a trained champion.

Run: `.venv/bin/python benchmarks/bench_daily.py [--symbols 500] [--years 10]`. The goals (issue
18): against a running Prefect server under 10 s wall, the daily work itself under 2 s, and under
1 GiB peak RSS. Set-up (data store, champion) is not timed. Prints the `alphapilot daily` command's
wall time and peak RSS (a child process, as a user runs it) in both ways Prefect runs it:
- against a running Prefect server (`prefect server start`, started here on 127.0.0.1 and stopped
  at the end), as scheduled deployments and `alphapilot serve` run it;
- ad hoc with no server configured, when Prefect starts a temporary server for the one command;
and the split between Prefect and start-up (the same command on a market-closed day: imports,
server, one flow run, pre-flight) and the daily work, with the command's imports alone and the
slowest task runs of the daily run (read back from the server). Each figure is the median of
`ROUNDS` runs on fresh copies of the home. A second home shows the steady state of a real
deployment: a champion trained `STEADY_SESSIONS` sessions before the session, whose monitoring
scores weeks of sessions since its cutoff, with the previous session run the day before.

The commands run as on a user's machine, where Python keeps the bytecode of every module it has
imported once: here in a temporary cache (PYTHONPYCACHEPREFIX) filled by one untimed daily run,
also when the caller sets PYTHONDONTWRITEBYTECODE (without a cache every module is compiled from
source on every run: the import figure is printed both ways).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

GOAL_SECONDS = 10.0  # the command against a running server
GOAL_WORK_SECONDS = 2.0  # the daily work: the command minus a market-closed day's
ROUNDS = 3  # timed pairs (market-closed day, session), each on a fresh copy of the home: medians
STEADY_SESSIONS = 40  # the second home's champion is this many sessions older than the session


def prepare(home: Path, symbols: int, years: float, trained_ago: int = 0) -> str:
    """A home with a synthetic store and a LightGBM champion trained on the data known
    `trained_ago` sessions before the last; returns the last session."""
    from settings import load_settings
    from tasks.research import dataset_for, provenance, trainer_for
    from tasks.sections import ModelSetup
    from trading_core.data.store import MarketStore
    from trading_core.data.synthetic import generate_synthetic_market
    from trading_core.home import Home
    from trading_core.ml.registry import save_model
    from trading_core.ml.research import fit_on
    from trading_core.selection.production import CHAMPION_METADATA

    settings = load_settings(home=str(home))
    data = generate_synthetic_market(symbols=symbols, years=years, seed=7).data
    MarketStore(Home(home).data).update(data)
    m = settings.modeling
    known = data.as_of(data.dates[-1 - trained_ago]) if trained_ago else data
    dataset = dataset_for(known, ModelSetup.of(settings))
    dates = dataset.labeled_dates
    model = fit_on(
        trainer_for(ModelSetup.of(settings)), "lightgbm", dataset, dates, m.sample_stride
    )
    metadata = {
        **provenance(known, dataset, ModelSetup.of(settings), dates, []),
        "model_name": "lightgbm",
    }
    save_model(
        model,
        Home(home).production,
        metadata,
        prefix="champion-",
        metadata_name=CHAMPION_METADATA,
    )
    return f"{data.last_date:%Y-%m-%d}"


PEAK = (  # a fresh parent per measurement: RUSAGE_CHILDREN would otherwise keep an earlier max
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
    "capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def run_cli(home: Path, session: str, api_url: str | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of `alphapilot daily --date session` in a child process."""
    command = [str(Path(sys.executable).with_name("alphapilot")), "daily", "--date", session]
    env = {**os.environ, "PREFECT_HOME": str(home / "prefect")}
    if api_url:
        env["PREFECT_API_URL"] = api_url
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK, *command, "--home", str(home)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return time.perf_counter() - start, int(done.stdout.split()[-1]) / 1024


@contextmanager
def prefect_server(home: Path, timeout: float = 120) -> Iterator[str]:
    """A `prefect server start` on a free loopback port for the block; yields its API URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("prefect")), "server", "start"]
        + ["--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "PREFECT_HOME": str(home / "prefect-server")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{url}/health", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the Prefect server did not start") from None
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def closed_day(session: str) -> str:
    """The Saturday after `session`: a daily run that starts Prefect and stops at pre-flight."""
    from datetime import date, timedelta

    day = date.fromisoformat(session)
    return f"{day + timedelta(days=(5 - day.weekday()) % 7 or 7):%Y-%m-%d}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--years", type=float, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        t = time.perf_counter()
        session = prepare(home, args.symbols, args.years)
        steady = Path(tmp) / "steady"
        prepare(steady, args.symbols, args.years, trained_ago=STEADY_SESSIONS)
        print(f"set-up (stores + champions, not timed): {time.perf_counter() - t:.0f} s")
        empty = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": str(Path(tmp) / "none")}
        compiled = import_seconds(empty)
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # every child keeps its bytecode
        os.environ["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "bytecode")
        shutil.copytree(home, Path(tmp) / "warm-up")
        with prefect_server(home) as url:
            run_cli(Path(tmp) / "warm-up", session, url)  # fills the bytecode cache, untimed
            print(
                f"imports of the daily command (python -c 'import ...'): {import_seconds():.1f} s "
                f"(compiling every module, as with no bytecode cache: {compiled:.1f} s)"
            )
            report(home, session, "against a running Prefect server", url)
            print(f"  slowest tasks: {slowest_tasks(url)}")
            run_cli(steady, previous_session(steady, session), url)  # the day before, untimed
            report(
                steady,
                session,
                f"against a running Prefect server, {STEADY_SESSIONS} sessions after training "
                "(the previous session run the day before)",
                url,
            )
            print(f"  slowest tasks: {slowest_tasks(url)}")
        first, _ = run_cli(home, closed_day(session))  # creates Prefect's database once
        print(f"first temporary server in a new PREFECT_HOME (database set-up): {first:.1f} s")
        report(home, session, "ad hoc, Prefect's temporary server", None)


def report(home: Path, session: str, how: str, api_url: str | None) -> None:
    """Time the market-closed baseline, then the daily run, `ROUNDS` times on fresh copies of
    `home`; print the medians and the split."""
    closed, opened = [], []
    for round_ in range(ROUNDS):
        copy = home.with_name(f"{home.name}-round{round_}")
        for day, times in ((closed_day(session), closed), (session, opened)):
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(home, copy)
            times.append(run_cli(copy, day, api_url))
        shutil.rmtree(copy)
    overhead, base = median(closed)
    wall, rss = median(opened)
    works = sorted(o[0] - c[0] for o, c in zip(opened, closed, strict=True))
    work = statistics.median(works)
    print(
        f"{how}: alphapilot daily --date {session}: {wall:.1f} s wall, peak {rss:,.0f} MiB "
        f"(medians of {ROUNDS})"
    )
    met = wall < GOAL_SECONDS and work < GOAL_WORK_SECONDS and rss < 1024
    print(
        f"  goal < {GOAL_SECONDS:.0f} s, work < {GOAL_WORK_SECONDS:.0f} s, < 1,024 MiB: "
        f"{'met' if met else 'MISSED'}{'' if api_url else ' (the goal is for a running server)'}"
    )
    print(
        f"  Prefect + start-up (the same command on a market-closed day): {overhead:.1f} s, "
        f"{base:,.0f} MiB; the daily work itself: {work:.2f} s "
        f"({', '.join(f'{w:.2f}' for w in works)})"
    )


def median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """The median wall seconds and peak MiB of `runs`, each taken apart."""
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def previous_session(home: Path, session: str) -> str:
    """The stored session before `session`."""
    from trading_core.data.store import MarketStore
    from trading_core.home import Home

    dates = MarketStore(Home(home).data).load().dates
    return f"{dates[dates.get_loc(session) - 1]:%Y-%m-%d}"


def import_seconds(env: dict[str, str] | None = None) -> float:
    """Seconds a fresh Python takes to import the daily command and its flow (`env`: variables
    set for it)."""
    start = time.perf_counter()
    imports = "import app.cli, flows.daily_live"
    subprocess.run(
        [sys.executable, "-c", imports],
        check=True,
        cwd=Path(__file__).parents[1],
        env={**os.environ, **(env or {})},
    )
    return time.perf_counter() - start


def slowest_tasks(api_url: str, count: int = 6) -> str:
    """The `count` longest task runs of the server's latest daily-live flow run."""
    from bench_selection import read_task_runs, run_seconds
    from prefect import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}):
        with get_client(sync_client=True) as client:
            latest = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=["daily-live"])),
                sort=FlowRunSort.START_TIME_DESC,
                limit=1,
            )[0]
        runs = sorted(read_task_runs(latest.id), key=run_seconds, reverse=True)
    return ", ".join(
        f"{run.name.rsplit('-', 1)[0]} {run_seconds(run):.2f} s" for run in runs[:count]
    )


if __name__ == "__main__":
    main()
