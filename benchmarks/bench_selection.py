"""Time `alphapilot select` end to end on a synthetic market, stage by stage, against its budget.

Run: `.venv/bin/python benchmarks/bench_selection.py [--symbols 500] [--years 10] [--trials 30]
[--runner threads|dask] [--forest-engine lightgbm|sklearn]`. The budget (issue 18): the
champion-selection flow (5 candidates x 5 optimizers, walk-forward backtests, 500 stocks x 10
years, 30 Optuna trials) in under 450 s on 2 cores, peak RSS under 3 GiB. Set-up is timed apart: the synthetic data folder and the `data-update` flow (folder
provider) into a fresh home. The `champion-selection` flow then runs as `alphapilot select` runs
it, with a config file setting only `modeling.tuning.trials` and `orchestration.task_runner`,
against a temporary Prefect server.

Stage times come from the flow run's task runs, read back through the Prefect API: training
(load, features, research plan, Optuna tuning, candidate training, ensemble, saving), backtests
(walk-forward scores per candidate, then the model x optimizer grid), selection (evaluation,
reports, promotion or the no-champion alert). Prints per task its runs and task-seconds (the sum
of its runs' run times: more than the wall clock when runs overlap), per stage its wall-clock
span (first task start to last task end), the flow's wall clock against the budget, the grid
size, the Optuna trials run, the champion (or why none passed) and peak RSS (this process, where
the threads runner fits the models; with Dask also the largest worker). A quick check:
`--symbols 30 --years 4 --trials 2` (the default research plan needs about 4 years of sessions).
Run it on an otherwise idle machine: XGBoost's threads slow down many times over when other
processes share the cores.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if "PREFECT_HOME" not in os.environ:  # a throwaway one, inherited by the Dask workers
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="bench-selection-prefect-")
    atexit.register(shutil.rmtree, os.environ["PREFECT_HOME"], ignore_errors=True)

import tasks  # noqa: E402, F401  (offline Prefect)

BUDGET_SECONDS = 450.0  # issue 18: half the first budget of 15 minutes
PAGE = 200  # the most task runs the Prefect API returns per request

STAGES = {  # Prefect task names of the champion-selection flow, in the order it runs them
    "training": (
        "load-market-data",
        "build-features",
        "plan-research",
        "tune-candidate",
        "train-candidate",
        "combine-ensemble",
        "save-candidates",
    ),
    "backtests": ("walk-forward-scores", "backtest-combination"),
    "selection": (
        "evaluate-grid",
        "write-selection-reports",
        "promote-champion",
        "send-notification",
    ),
}


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def task_name(run_name: str) -> str:
    """The task a run belongs to: run names are the task name plus a suffix."""
    known = [t for names in STAGES.values() for t in names]
    matches = [t for t in known if run_name == t or run_name.startswith(f"{t}-")]
    return max(matches, key=len) if matches else run_name


def read_task_runs(flow_run_id, settle_seconds: float = 60) -> list:
    """The flow run's task runs once all are final (the server records them from events)."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    runs_filter = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    deadline = time.monotonic() + settle_seconds
    previous = -1
    with get_client(sync_client=True) as client:

        def read_all() -> list:
            runs: list = []
            while page := client.read_task_runs(
                flow_run_filter=runs_filter, limit=PAGE, offset=len(runs)
            ):
                runs += page
            return runs

        while True:
            runs = read_all()
            settled = len(runs) == previous and all(r.state and r.state.is_final() for r in runs)
            if settled or time.monotonic() > deadline:
                return runs
            previous = len(runs)
            time.sleep(1)


def run_seconds(run) -> float:
    """Seconds a task run spent running (its end - start when the server has no run time)."""
    seconds = run.total_run_time.total_seconds()
    if not seconds and run.start_time and run.end_time:
        seconds = (run.end_time - run.start_time).total_seconds()
    return seconds


def stage_table(runs: list, wall: float) -> list[str]:
    """Lines: each stage's span and its tasks' runs and task-seconds; then what lies outside."""
    by_task: dict[str, list] = defaultdict(list)
    for run in runs:
        by_task[task_name(run.name)].append(run)
    stages = {**STAGES, "other tasks": tuple(sorted(set(by_task) - {*sum(STAGES.values(), ())}))}
    lines = [f"{'stage / task':<32} {'runs':>5} {'task-s':>9} {'wall-s':>9}"]
    spans = 0.0
    for stage, names in stages.items():
        members = [r for name in names for r in by_task.get(name, [])]
        timed = [r for r in members if r.start_time and r.end_time]
        if not members:
            continue
        span = (
            (max(r.end_time for r in timed) - min(r.start_time for r in timed)).total_seconds()
            if timed
            else 0.0
        )
        spans += span
        lines.append(
            f"{stage:<32} {len(members):>5} {sum(map(run_seconds, members)):>9.1f} {span:>9.1f}"
        )
        for name in names:
            if name in by_task:
                seconds = sum(map(run_seconds, by_task[name]))
                lines.append(f"  {name:<30} {len(by_task[name]):>5} {seconds:>9.1f}")
    lines.append(f"{'outside the stages (Prefect, flow body)':<48} {max(0.0, wall - spans):>9.1f}")
    return lines


def tuning_summary(home: Path) -> str:
    """How many Optuna trials the tuned candidates ran (the search also stops at its timeout)."""
    parts = []
    for path in sorted((home / "models" / "candidates").glob("*/metadata.json")):
        tuning = json.loads(path.read_text()).get("tuning")
        if tuning:
            parts.append(
                f"{path.parent.name} {tuning['trials_complete']} complete + "
                f"{tuning['trials_pruned']} pruned"
            )
    return "; ".join(parts) or "no tuned candidate"


def test_metrics(home: Path) -> str:
    """Each candidate's test-period rank IC and top-quintile Sharpe, to compare runs exactly."""
    parts = []
    for path in sorted((home / "models" / "candidates").glob("*/metadata.json")):
        metrics = json.loads(path.read_text()).get("test_metrics", {})
        parts.append(
            f"{path.parent.name} IC {metrics.get('rank_ic', float('nan')):.6f} "
            f"Q5 Sharpe {metrics.get('top_quintile_sharpe', float('nan')):.4f}"
        )
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--years", type=float, default=10)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--runner", choices=["threads", "dask"], default="threads")
    parser.add_argument("--forest-engine", choices=["lightgbm", "sklearn"], default="lightgbm")
    args = parser.parse_args()

    import yaml
    from prefect.testing.utilities import prefect_test_harness

    from flows.champion_selection import champion_selection
    from flows.data_update import data_update
    from settings import load_settings
    from trading_core.data.folder import write_folder
    from trading_core.data.synthetic import generate_synthetic_market

    with tempfile.TemporaryDirectory(prefix="bench-selection-") as tmp:
        root = Path(tmp)
        home = root / "home"
        config = root / "bench.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "modeling": {
                        "tuning": {"trials": args.trials},
                        "random_forest": {"engine": args.forest_engine},
                    },
                    "orchestration": {"task_runner": args.runner},
                }
            )
        )
        settings = load_settings(config, home)
        t = time.perf_counter()
        market = generate_synthetic_market(symbols=args.symbols, years=args.years, seed=7)
        write_folder(market.data, root / "data", fmt="parquet")
        print(
            f"synthetic market {args.symbols} symbols x {len(market.data.dates)} sessions "
            f"({market.data.dates[0]:%Y-%m-%d}..{market.data.last_date:%Y-%m-%d}), data "
            f"folder written: {time.perf_counter() - t:.1f} s (set-up, not timed)"
        )
        del market
        with prefect_test_harness(server_startup_timeout=120):
            t = time.perf_counter()
            data_update(provider="folder", path=str(root / "data"), home=str(home))
            print(f"data-update flow into a fresh home: {time.perf_counter() - t:.1f} s (set-up)")
            ms, tuning = settings.model_selection, settings.modeling.tuning
            print(
                f"champion-selection: {len(ms.candidates)} candidates x {len(ms.optimizers)} "
                f"optimizers, {tuning.trials} Optuna trials (timeout {tuning.timeout_seconds} s), "
                f"{args.runner} runner, {os.cpu_count()} cores ...",
                flush=True,
            )
            started = datetime.now().astimezone()
            t = time.perf_counter()
            state = champion_selection(home=str(home), config=str(config), return_state=True)
            wall = time.perf_counter() - t
            workers_peak = peak_rss_mib(resource.RUSAGE_CHILDREN)  # Dask's, once they exited
            result = state.result()
            runs = read_task_runs(state.state_details.flow_run_id)
        print(f"\nflow run started {started:%Y-%m-%d %H:%M:%S}: {len(runs)} task runs")
        print("\n".join(stage_table(runs, wall)))
        verdict = "met" if wall < BUDGET_SECONDS else "MISSED"
        full_size = (args.symbols, args.years, args.trials) == (500, 10, 30)
        print(
            f"champion-selection wall clock: {wall:.1f} s ({wall / 60:.1f} min); budget "
            f"{BUDGET_SECONDS:.0f} s{'' if full_size else ' (set for 500 x 10 years, 30 trials)'}"
            f": {verdict}"
        )
        failed = result["failed"]
        print(
            f"combinations: {result['trials']} of {len(ms.candidates)} x {len(ms.optimizers)} "
            "backtested"
            + (f", {len(failed)} failed ({', '.join(failed)})" if failed else "")
            + f"; equal-weight baseline Sharpe {result['baseline_sharpe']:.2f}"
        )
        print(f"Optuna: {tuning_summary(home)}")
        print(f"test period ({args.forest_engine} forest): {test_metrics(home)}")
        for entry in result["ranking"][:3]:
            print(f"  ranked: {entry['combination']} score {entry['score']:.6f}")
        champion, ranking = result["champion"], result["ranking"]
        if champion is not None:
            print(f"champion: {champion['combination']} ({champion['reason']})")
        elif ranking:
            best = ranking[0]
            print(
                f"champion: none passed; best {best['combination']} (score {best['score']:.3f}) "
                f"fails: {'; '.join(best['failures'])}"
            )
        else:
            print("champion: none passed; no combination was backtested")
        if args.runner == "threads":
            print(f"peak RSS: {peak_rss_mib():,.0f} MiB (this process: the model fits run in it)")
        else:
            print(
                f"peak RSS: {peak_rss_mib():,.0f} MiB this process, {workers_peak:,.0f} MiB the "
                "largest Dask worker (the fits run in the workers)"
            )


if __name__ == "__main__":
    main()
