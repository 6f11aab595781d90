"""Champion selection on a Dask cluster started as users start one, against the same on threads.

Run: `.venv/bin/python benchmarks/bench_dask.py [--symbols 500] [--years 10] [--trials 30]
[--config extra.yaml] [--unshared]`. Starts `dask scheduler` and two `dask worker --nthreads 1`
processes on loopback (tests/support/dask_cluster.py: the scheduler without its Active Memory
Manager, as docs/guide/orchestration.md says), then runs the champion-selection flow on a synthetic market,
each run in a fresh home: with `orchestration.task_runner: dask` and `orchestration.dask.address`
set to that scheduler, and with the threads runner. Every run fits with one thread
(`modeling.n_jobs: 1`): two single-threaded workers, or two threads of one process, use the 2
cores alike, and the runs' models are compared at the same thread count. (With the default
`n_jobs: 2`, two Dask workers run two 2-thread LightGBM fits at once on 2 cores: 6 to 10 times
slower each, seen at 100 symbols x 6 years.)
`--unshared` adds a Dask run that sends every argument with every task (`share` turned off), to
show what sharing saves. `--config` layers a YAML file over every run's settings (e.g. fewer
candidates for a quick check).

Prints for each run its wall clock (the flow alone: the data folder, the data-update flow into
each home and the cluster start are set-up), its champion (and whether all runs chose the same,
with the same score) and, for Dask runs, the bytes each worker read from the network during the
run: every task message, scattered value and copy between workers, counted in each worker by
the preload benchmarks/_wire_bytes.py. Every process is stopped at the end, even on error.
A quick check: `--symbols 60 --years 4 --trials 2 --config small.yaml` (two candidates, two
optimizers).
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "support"))  # dask_cluster.py starts the cluster

from bench_selection import (  # noqa: E402  (importing it also sets up Prefect offline)
    read_task_runs,
    stage_table,
    tuning_summary,
)
from dask_cluster import running_dask_cluster  # noqa: E402

PRELOAD = HERE / "_wire_bytes.py"


def merged(base: dict, over: dict) -> dict:
    """`base` with `over` layered on, nested sections merged key by key."""
    out = dict(base)
    for key, value in over.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = merged(out[key], value) if both else value
    return out


def wire_bytes(client) -> dict[str, int]:
    """Bytes each worker has read from TCP since it started (benchmarks/_wire_bytes.py)."""
    return client.run(lambda: sys.modules["_wire_bytes"].received())


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--years", type=float, default=10)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--config", type=Path, help="YAML layered over every run's settings")
    parser.add_argument("--unshared", action="store_true", help="add a Dask run without share")
    args = parser.parse_args()
    # on SIGTERM, unwind: the cluster, the Prefect server and the temporary folders go too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    import yaml
    from distributed import Client
    from prefect.testing.utilities import prefect_test_harness

    from flows.champion_selection import champion_selection
    from flows.data_update import data_update
    from tasks.dask_runner import SharingDaskTaskRunner
    from trading_core.data.folder import write_folder
    from trading_core.data.synthetic import generate_synthetic_market

    extra = yaml.safe_load(args.config.read_text()) if args.config else {}
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        root = Path(tmp)
        market = generate_synthetic_market(symbols=args.symbols, years=args.years, seed=7)
        write_folder(market.data, root / "data", fmt="parquet")
        print(
            f"synthetic market {args.symbols} symbols x {len(market.data.dates)} sessions, "
            f"{args.trials} Optuna trials" + (f", settings from {args.config}" if extra else "")
        )
        del market
        with (
            prefect_test_harness(server_startup_timeout=120),
            running_dask_cluster(root, preload=PRELOAD) as cluster,
            Client(cluster.address) as client,
        ):
            print(f"dask cluster at {cluster.address}: workers {sorted(cluster.worker_pids)}")
            client.run(lambda: bool(__import__("flows.champion_selection")))  # warm the imports
            dask = {"task_runner": "dask", "dask": {"address": cluster.address}}
            runs = [("dask", dask, True)]
            runs += [("dask, unshared", dask, False)] if args.unshared else []
            runs += [("threads", {"task_runner": "threads"}, True)]
            outcomes = {}
            for name, orchestration, shared in runs:
                home, config = root / name.replace(", ", "-"), root / f"{name}.yaml"
                settings = {"modeling": {"n_jobs": 1, "tuning": {"trials": args.trials}}}
                settings = merged(merged(settings, extra), {"orchestration": orchestration})
                config.write_text(yaml.safe_dump(settings))
                data_update(provider="folder", path=str(root / "data"), home=str(home))
                print(f"\n{name}: champion selection ...", flush=True)
                unshare = mock.patch.object(SharingDaskTaskRunner, "share", lambda _, v: v)
                before = wire_bytes(client)
                t = time.perf_counter()
                with nullcontext() if shared else unshare:
                    state = champion_selection(
                        home=str(home), config=str(config), return_state=True
                    )
                wall = time.perf_counter() - t
                result = state.result()
                received = {w: n - before[w] for w, n in wire_bytes(client).items()}
                outcomes[name] = result
                print(f"  wall clock {wall:.1f} s ({wall / 60:.1f} min)")
                runs_of_flow = read_task_runs(state.state_details.flow_run_id)
                print("\n".join(f"    {line}" for line in stage_table(runs_of_flow, wall)))
                print(f"  Optuna: {tuning_summary(home)}")
                print(f"  champion: {describe(result)}")
                if orchestration["task_runner"] == "dask":
                    per_worker = ", ".join(mb(n) for n in received.values())
                    print(f"  read by the workers: {mb(sum(received.values()))} ({per_worker})")
        print()
        print(verdict(outcomes))


def describe(result: dict) -> str:
    """The champion and its score, or the best combination and why nothing passed."""
    champion, ranking = result["champion"], result["ranking"]
    scores = {entry["combination"]: entry["score"] for entry in ranking}
    if champion is not None:
        return f"{champion['combination']} (score {scores[champion['combination']]:.6f})"
    if ranking:
        return f"none passed; best {ranking[0]['combination']} (score {ranking[0]['score']:.6f})"
    return "none passed; nothing was backtested"


def verdict(outcomes: dict[str, dict]) -> str:
    """Whether every run chose the same champion with the same ranking scores."""
    champions = {name: describe(result) for name, result in outcomes.items()}
    rankings = {
        name: [(e["combination"], e["score"]) for e in result["ranking"]]
        for name, result in outcomes.items()
    }
    if len(set(champions.values())) > 1:
        return "champions DIFFER: " + "; ".join(f"{n}: {c}" for n, c in champions.items())
    same = len({tuple(r) for r in rankings.values()}) == 1
    return f"same champion in all {len(outcomes)} runs: {next(iter(champions.values()))}; " + (
        "every combination's score identical" if same else "rankings' scores DIFFER"
    )


if __name__ == "__main__":
    main()
