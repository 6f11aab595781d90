"""Time `alphapilot demo` end to end, then its heavy steps one by one, to show what dominates.

Run: `make bench` (or `.venv/bin/python benchmarks/demo_timing.py`). Prints wall-clock seconds;
the issue's budget for the demo is 180 s on a 2-core machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_SECONDS = 180.0


def timed(label: str, fn, rows: list[tuple[str, float]]):
    start = time.perf_counter()
    result = fn()
    rows.append((label, time.perf_counter() - start))
    return result


def demo_wall_clock() -> float:
    """Seconds for the whole demo in a fresh home and a fresh Prefect home, as a user runs it."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PREFECT_HOME": str(Path(tmp) / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
        }
        cli = Path(sys.executable).with_name("alphapilot")
        start = time.perf_counter()
        subprocess.run(
            [str(cli), "demo", "--home", str(Path(tmp) / "home")],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - start


def step_breakdown() -> list[tuple[str, float]]:
    """The demo's compute steps without Prefect, on the bundled data."""
    from settings import load_settings
    from tasks.research import plan_for, trainer_for
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
    plan = plan_for(dataset, settings)
    trainer = trainer_for(settings)
    for name in ("lightgbm", "xgboost_default", "random_forest"):
        timed(
            f"{m.cv.folds} folds + test fit: {name}",
            lambda name=name: run_candidate(name, dataset, plan, trainer),
            rows,
        )
    return rows


def main() -> None:
    total = demo_wall_clock()
    print(
        f"alphapilot demo, wall clock: {total:6.1f} s  ({total / BUDGET_SECONDS:.0%} of the "
        f"{BUDGET_SECONDS:.0f} s budget)"
    )
    print("compute steps without Prefect:")
    for label, seconds in step_breakdown():
        print(f"  {label:<45} {seconds:6.2f} s")
    print(
        "the rest is Prefect: a temporary server starts once per process (about 7 s) and each "
        "flow and task run is recorded through its API"
    )


if __name__ == "__main__":
    main()
