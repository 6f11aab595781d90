"""Scale curve: features, train, a walk-forward backtest and a daily run at 500 to 3,000 stocks.

Run: `.venv/bin/python benchmarks/bench_scale.py [--sizes 500,1000,3000] [--years 10]
[--trials 3]`. The issue's goal: at 3,000 synthetic stocks x 10 years every step completes on a
24 GiB machine with peak RSS under 12 GiB. For each size, a temporary home gets a synthetic store
and a LightGBM champion (`bench_daily.prepare`, plus one market-closed daily run that creates
Prefect's database): set-up, shown apart. Then each step runs in its own process, one after
another, so its peak RSS is its own:

- features: the look-ahead guard and the full feature build with labels that a training run
  makes (`assert_point_in_time`, `tasks.research.dataset_for`), in process, no Prefect;
- train: the `alphapilot train` command as a user runs it (every default candidate, `--trials`
  Optuna trials for xgboost_tuned, Prefect's temporary server, the feature cache on);
- walk_forward: one candidate x one optimizer as `bench_walk_forward.py` runs it (lightgbm x
  max_sharpe, weekly, top 50, retrained per research fold), its feature build included;
- daily: the `alphapilot daily` command against the champion, ad hoc with Prefect's temporary
  server (`bench_daily.run_cli`).

Wall s: the step's process from start to exit (imports and the store load included). Peak RSS:
the `ru_maxrss` that `os.wait4` returns for it, i.e. the largest single process among the step
and the children it waited for (the command, Prefect's temporary server). Then the sizing
figures: memory per 1,000 stocks (the slope of each step's peak RSS from the smallest size to the
largest) and seconds per Optuna trial (mean trial duration in the study's storage).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

GOAL_SIZE = 3000
GOAL_MIB = 12 * 1024
STEPS = ("features", "train", "walk_forward", "daily")
RESULT = "RESULT "  # prefix of the line a step process reports its details on


@dataclass
class Measured:
    """One step process: what the parent measured and what the step reported."""

    size: int
    step: str
    wall: float
    peak_mib: float
    ok: bool
    details: dict


# --- the steps, each run in its own process (`--step NAME`) -------------------------------------


def _load(home: Path, **overrides):
    from settings import load_settings
    from trading_core.data.store import MarketStore
    from trading_core.home import Home

    settings = load_settings(home=str(home), **overrides)
    return settings, MarketStore(Home(home).data).load()


def step_setup(home: Path, size: int, years: float, trials: int) -> dict:
    """Store + champion (`bench_daily.prepare`), the train config, Prefect's database."""
    import yaml
    from bench_daily import closed_day, prepare, run_cli

    session = prepare(home, size, years)
    (home / "bench_scale.yaml").write_text(
        yaml.safe_dump({"modeling": {"tuning": {"trials": trials}}})
    )
    run_cli(home, closed_day(session))  # the first ad hoc run creates Prefect's database
    return {"session": session, "note": f"store + champion, last session {session}"}


def step_features(home: Path) -> dict:
    """The look-ahead guard, then the full feature build with labels, as training runs them."""
    from tasks.research import dataset_for
    from tasks.sections import ModelSetup
    from trading_core.features.guard import assert_point_in_time
    from trading_core.features.library import feature_set

    settings, data = _load(home)
    t = time.perf_counter()
    assert_point_in_time(data, feature_set(**settings.features.model_dump()))
    guard = time.perf_counter() - t
    t = time.perf_counter()
    dataset = dataset_for(data, ModelSetup.of(settings))
    build = time.perf_counter() - t
    rows = dataset.rows
    return {
        "note": f"guard {guard:.1f} s + build {build:.1f} s: {rows.shape[0]:,} rows x "
        f"{rows.shape[1]} {rows.dtypes.iloc[0]}, "
        f"{rows.memory_usage(index=False).sum() / 2**20:,.0f} MiB"
    }


def step_train(home: Path) -> dict:
    """`alphapilot train` with the set-up's config; the Optuna trials' mean duration."""
    import optuna

    command = [str(Path(sys.executable).with_name("alphapilot")), "train"]
    command += ["--home", str(home), "--config", str(home / "bench_scale.yaml")]
    env = {**os.environ, "PREFECT_HOME": str(home / "prefect")}
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"alphapilot train failed ({done.returncode}):\n{done.stderr[-4000:]}")
    storage = f"sqlite:///{home.resolve() / 'optuna.db'}"
    durations = [
        trial.duration.total_seconds()
        for name in optuna.get_all_study_names(storage)
        for trial in optuna.load_study(study_name=name, storage=storage).trials
        if trial.duration is not None
    ]
    per_trial = sum(durations) / len(durations) if durations else float("nan")
    return {
        "trials": len(durations),
        "trial_seconds": per_trial,
        "note": f"the command {wall:.1f} s; {len(durations)} Optuna trials, {per_trial:.1f} s each",
    }


def step_walk_forward(home: Path) -> dict:
    """lightgbm x max_sharpe walk-forward backtest with `bench_walk_forward.py`'s settings."""
    from types import SimpleNamespace

    from tasks.backtest import walk_forward_candidate
    from tasks.research import dataset_for, trainer_for
    from tasks.sections import ModelSetup, TradingRules

    settings, data = _load(
        home,
        portfolio={"top_k": 50, "max_weight": 0.05},
        backtest={"rebalance_sessions": 5, "retrain": "folds"},
    )
    t = time.perf_counter()
    setup, rules = ModelSetup.of(settings), TradingRules.of(settings)
    dataset = dataset_for(data, setup)
    build = time.perf_counter() - t
    template = SimpleNamespace(name="lightgbm", params=trainer_for(setup).params("lightgbm"))
    t = time.perf_counter()
    result = walk_forward_candidate(
        template, dataset, data, setup, rules, settings.backtest, ["max_sharpe"]
    )
    result = result["max_sharpe"]
    return {
        "note": f"features {build:.1f} s + walk-forward {time.perf_counter() - t:.1f} s: "
        f"{len(result.models)} models, {len(result.weights)} rebalances"
    }


def step_daily(home: Path, session: str) -> dict:
    """`alphapilot daily --date session` (`bench_daily.run_cli`, Prefect's temporary server)."""
    from bench_daily import run_cli

    wall, _ = run_cli(home, session)
    return {"note": f"session {session}, the command {wall:.1f} s"}


def run_step(name: str, home: Path, size: int, years: float, trials: int, session: str) -> None:
    """The hidden `--step` mode: run one step and print its details as the last line."""
    calls = {
        "setup": lambda: step_setup(home, size, years, trials),
        "features": lambda: step_features(home),
        "train": lambda: step_train(home),
        "walk_forward": lambda: step_walk_forward(home),
        "daily": lambda: step_daily(home, session),
    }
    print(RESULT + json.dumps(calls[name]()), flush=True)


# --- the parent: one process per (size, step) ----------------------------------------------------


def measure(size: int, step: str, argv: list[str], logs: Path) -> Measured:
    """Run `argv` to its end; its wall time, peak RSS (os.wait4) and the details it reported."""
    out, err = logs / f"{size}-{step}.out", logs / f"{size}-{step}.err"
    start = time.perf_counter()
    with out.open("w") as stdout, err.open("w") as stderr:
        child = subprocess.Popen(argv, stdout=stdout, stderr=stderr, cwd=HERE.parent)
        try:
            _, status, usage = os.wait4(child.pid, 0)
        except BaseException:
            child.kill()
            child.wait()
            raise
    wall = time.perf_counter() - start
    peak = usage.ru_maxrss / 1024  # Linux: KiB
    lines = out.read_text().splitlines()
    reported = [line for line in lines if line.startswith(RESULT)]
    ok = os.waitstatus_to_exitcode(status) == 0 and bool(reported)
    if ok:
        details = json.loads(reported[-1].removeprefix(RESULT))
    else:
        tail = err.read_text().strip().splitlines()[-15:]
        details = {"note": f"FAILED (exit {os.waitstatus_to_exitcode(status)})"}
        print("\n".join(f"    {line}" for line in tail), flush=True)
    return Measured(size, step, wall, peak, ok, details)


def row(m: Measured) -> str:
    return f"{m.size:>6,} | {m.step:<12} | {m.wall:8.1f} | {m.peak_mib:9,.0f} | {m.details['note']}"


HEADER = f"{'size':>6} | {'step':<12} | {'wall s':>8} | {'peak MiB':>9} | details"


def scale(sizes: list[int], years: float, trials: int, logs: Path) -> list[Measured]:
    """Every step at every size; prints each row as it finishes."""
    results = []
    print(HEADER, flush=True)
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix=f"bench-scale-{size}-") as tmp:
            home = Path(tmp) / "home"
            base = [sys.executable, str(Path(__file__).resolve()), "--home", str(home)]
            base += ["--size", str(size), "--years", str(years), "--trials", str(trials)]
            setup = measure(size, "setup", [*base, "--step", "setup"], logs)
            print(row(setup) + " (set-up, not a step)", flush=True)
            if not setup.ok:
                continue
            session = setup.details["session"]
            for step in STEPS:
                argv = [*base, "--step", step, "--session", session]
                results.append(measure(size, step, argv, logs))
                print(row(results[-1]), flush=True)
    return results


def summary(results: list[Measured], sizes: list[int], trials: int) -> None:
    """The goal check at 3,000 stocks and the sizing figures."""
    print()
    largest = max(sizes)
    at_largest = [m for m in results if m.size == largest]
    if at_largest:
        worst = max(at_largest, key=lambda m: m.peak_mib)
        failed = [m.step for m in at_largest if not m.ok]
        peak = f"largest peak RSS {worst.peak_mib:,.0f} MiB ({worst.step})"
        if largest == GOAL_SIZE:
            met = not failed and len(at_largest) == len(STEPS) and worst.peak_mib < GOAL_MIB
            print(
                f"goal at {GOAL_SIZE:,} stocks: every step completes, peak RSS < {GOAL_MIB:,} MiB: "
                f"{peak}{', failed: ' + ', '.join(failed) if failed else ''}; "
                f"{'met' if met else 'MISSED'}"
            )
        else:
            print(f"goal check needs size {GOAL_SIZE:,}; at {largest:,}: {peak}")
    smallest = min(sizes)
    if largest > smallest:
        print(f"memory per 1,000 stocks (peak RSS slope, {smallest:,} -> {largest:,} stocks):")
        for step in STEPS:
            low = [m for m in results if (m.size, m.step) == (smallest, step) and m.ok]
            high = [m for m in results if (m.size, m.step) == (largest, step) and m.ok]
            if low and high:
                slope = (high[0].peak_mib - low[0].peak_mib) / (largest - smallest) * 1000
                print(f"  {step:<12} {slope:7,.0f} MiB per 1,000 stocks")
    print(f"time per Optuna trial (xgboost_tuned, {trials} asked, tuning.sample_stride rows):")
    for m in results:
        if m.step == "train" and m.ok:
            print(f"  {m.size:>6,} stocks: {m.details['trial_seconds']:6.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1000,3000", help="stocks, comma-separated")
    parser.add_argument("--years", type=float, default=10)
    parser.add_argument("--trials", type=int, default=3, help="Optuna trials for xgboost_tuned")
    for hidden in ("--step", "--size", "--home", "--session"):  # a step process's own arguments
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        run_step(args.step, Path(args.home), int(args.size), args.years, args.trials, args.session)
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    with tempfile.TemporaryDirectory(prefix="bench-scale-logs-") as logs:
        results = scale(sizes, args.years, args.trials, Path(logs))
    summary(results, sizes, args.trials)


if __name__ == "__main__":
    main()
