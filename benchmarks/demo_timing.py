"""Time `alphapilot demo` end to end, then its heavy steps one by one, to show what dominates.

Run: `make bench` (or `.venv/bin/python benchmarks/demo_timing.py`). Prints wall-clock seconds
against the goal (issue 18: under 90 s on a 2-core machine, from a warm install: `make` has
installed the packages and created Prefect's database), then the same in a brand-new Prefect
home (pip install only: the first command's temporary server creates the database), when each
flow ran, and the heavy steps without Prefect.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

BUDGET_SECONDS = 90.0


def timed(label: str, fn, rows: list[tuple[str, float]]):
    start = time.perf_counter()
    result = fn()
    rows.append((label, time.perf_counter() - start))
    return result


# Prefect's console lines: "10:33:36.541 | INFO    | Flow run 'lean-caracal' - Beginning flow run
# 'lean-caracal' for flow 'data-update'", and "... - Finished in state Completed()".
LOG_LINE = re.compile(r"^(\d\d:\d\d:\d\d\.\d{3}) \| \w+ +\| (Flow|Task) run '([^']+)' - (.*)$")


def timeline(log: str, started: datetime) -> list[tuple[str, float, float]]:
    """(flow, or "  task" of the flow before it, seconds from the command's start to its first and
    last log line) from the command's log. A task's first line is often its end: few log more."""
    spans: dict[str, tuple[float, float]] = {}
    flow = ""
    for line in log.splitlines():
        match = LOG_LINE.match(line)
        if not match:
            continue
        clock, kind, run, message = match.groups()
        moment = datetime.combine(started.date(), datetime.strptime(clock, "%H:%M:%S.%f").time())
        if moment < started - timedelta(seconds=1):  # the run went past midnight
            moment += timedelta(days=1)
        offset = (moment - started).total_seconds()
        beginning = re.match(r"Beginning flow run '.*' for flow '(.*)'", message)
        if kind == "Flow" and beginning:
            flow = beginning.group(1)
        name = flow if kind == "Flow" else f"{flow}/{re.sub(r'-[0-9a-f]{3}$', '', run)}"
        first, last = spans.get(name, (offset, offset))
        spans[name] = (min(first, offset), max(last, offset))
    return [
        (f"  {name.split('/')[1]}" if "/" in name else name, first, last)
        for name, (first, last) in spans.items()
    ]


def demo_wall_clock(installed: bool) -> tuple[float, list[tuple[str, float, float]]]:
    """Seconds for the whole demo in a fresh home, as a user runs it, and when each flow and task
    ran (from the command's log). `installed`: Prefect's database exists, as `make` leaves it
    (created untimed first); otherwise a brand-new Prefect home, whose database the command's
    temporary server creates and migrates."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PREFECT_HOME": str(Path(tmp) / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
        }
        cli = Path(sys.executable).with_name("alphapilot")
        if installed:
            prefect = [str(cli.with_name("prefect")), "server", "database", "upgrade", "-y"]
            subprocess.run(prefect, env=env, check=True, capture_output=True)
        started, start = datetime.now(), time.perf_counter()
        done = subprocess.run(
            [str(cli), "demo", "--home", str(Path(tmp) / "home")],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        return time.perf_counter() - start, timeline(done.stderr, started)


def step_breakdown() -> list[tuple[str, float]]:
    """The demo's compute steps without Prefect, on the bundled data."""
    from settings import load_settings
    from tasks.research import plan_for, trainer_for
    from tasks.sections import ModelSetup
    from trading_core.data.providers import BundledProvider
    from trading_core.data.store import MarketStore
    from trading_core.features.library import feature_set
    from trading_core.ml.dataset import build_dataset
    from trading_core.ml.research import run_candidate

    settings = load_settings()
    m = settings.modeling
    rows: list[tuple[str, float]] = []
    data = timed("fetch bundled data (skfolio import + load)", BundledProvider().fetch, rows)
    with tempfile.TemporaryDirectory() as tmp:
        store = MarketStore(Path(tmp))
        timed("validate + write store", lambda: store.update(data), rows)
        data = timed("load store", store.load, rows)
    features = feature_set(**settings.features.model_dump())
    dataset = timed(
        "features + labels",
        lambda: build_dataset(data, features, m.label_horizon, m.label_transform, tuple(m.inputs)),
        rows,
    )
    plan = plan_for(dataset, settings.modeling)
    trainer = trainer_for(ModelSetup.of(settings))
    for name in ("lightgbm", "xgboost_default", "random_forest"):
        timed(
            f"{m.cv.folds} folds + test fit: {name}",
            lambda name=name: run_candidate(name, dataset, plan, trainer),
            rows,
        )
    return rows


def main() -> None:
    total, spans = demo_wall_clock(installed=True)
    verdict = "met" if total < BUDGET_SECONDS else "MISSED"
    print(
        f"alphapilot demo after `make` (Prefect's database created): {total:6.1f} s  "
        f"(goal {BUDGET_SECONDS:.0f} s: {verdict})"
    )
    fresh, _ = demo_wall_clock(installed=False)
    print(f"alphapilot demo in a brand-new Prefect home: {fresh:6.1f} s")
    print("when each flow and its longer tasks logged, seconds from the command's start:")
    for name, first, last in spans:
        if name.startswith(" ") and last - first < 0.5:
            continue
        print(f"  {name:<45} {first:6.1f} .. {last:6.1f}  ({last - first:5.1f} s)")
    print("compute steps without Prefect:")
    for label, seconds in step_breakdown():
        print(f"  {label:<45} {seconds:6.2f} s")
    print(
        "the rest is Prefect and start-up: the command's temporary Prefect server answers about "
        "10 s after the start (17 s in a brand-new Prefect home, whose database it creates and "
        "migrates first) while the command imports its libraries, and each flow and task run "
        "is recorded through its API"
    )


if __name__ == "__main__":
    main()
