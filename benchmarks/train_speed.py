"""Time `train` for every candidate on a 500-stock x 10-year synthetic market, with peak memory.

Run: `.venv/bin/python benchmarks/train_speed.py [--symbols 500] [--years 10] [--trials 30]`.
The issue's budget: all five candidates, 5 walk-forward folds, 30 Optuna trials in under 10
minutes on 2 cores, peak RSS under 3 GiB. Prints each step's seconds and the test-period rank IC
next to the planted signal's oracle IC. Runs the core directly (no Prefect server).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--years", type=float, default=10)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--ic", type=float, default=0.05)
    args = parser.parse_args()

    from settings import load_settings
    from tasks.research import dataset_for, plan_for, trainer_for
    from tasks.sections import ModelSetup
    from trading_core.data.synthetic import generate_synthetic_market
    from trading_core.ml import training_plan as steps
    from trading_core.ml.optuna_search import tune
    from trading_core.ml.research import combine_ensemble, run_candidate

    settings = load_settings()
    m, selection = settings.modeling, settings.model_selection
    start = time.perf_counter()
    market = generate_synthetic_market(symbols=args.symbols, years=args.years, seed=7, ic=args.ic)
    print(
        f"market {args.symbols} x {len(market.data.dates)} sessions: "
        f"{time.perf_counter() - start:.1f} s; oracle rank IC {market.oracle_ic_horizon:.4f} "
        f"at {market.horizon} sessions"
    )
    t = time.perf_counter()
    dataset = dataset_for(market.data, ModelSetup.of(settings))
    print(
        f"features + labels: {time.perf_counter() - t:.1f} s, {dataset.rows.shape[0]:,} rows x "
        f"{dataset.rows.shape[1]} columns"
    )
    plan = plan_for(dataset, settings.modeling)
    trainer = trainer_for(ModelSetup.of(settings))
    timings: dict[str, float] = {}

    def log(message: str) -> None:
        print(f"  [{time.perf_counter() - start:6.0f} s] {message}", flush=True)

    def run(name, params):
        t = time.perf_counter()
        result = run_candidate(name, dataset, plan, trainer, params, progress=log)
        timings[name] = time.perf_counter() - t
        return result

    with tempfile.TemporaryDirectory() as tmp:

        def tune_step(name):
            t = time.perf_counter()
            result = tune(
                name,
                dataset,
                plan,
                trainer,
                args.trials,
                m.tuning.timeout_seconds,
                f"sqlite:///{Path(tmp) / 'optuna.db'}",
                "bench",
                settings.seed,
                stride=m.tuning.sample_stride,
                progress=log,
            )
            timings[f"{name} (Optuna, {args.trials} trials)"] = time.perf_counter() - t
            return result.to_dict()

        names, members = selection.candidates, selection.ensemble_members
        base = steps.base_candidates(names, members)
        tunings = {name: tune_step(name) for name in steps.tuning_plan(base)}
        trained = steps.with_tuning(
            base, [run(*call) for call in steps.training_calls(base, tunings)], tunings
        )
        inputs = steps.ensemble_inputs(names, members, trained)
        ensemble = combine_ensemble("ensemble", inputs, dataset) if inputs else None
        results = steps.named_results(names, trained, ensemble)
    for step, seconds in timings.items():
        print(f"  {step:<40} {seconds:7.1f} s")
    for r in results:
        print(
            f"  {r.name:<16} test rank IC {r.test_metrics['rank_ic']:+.4f}  "
            f"CV {r.cv_metrics['rank_ic']:+.4f}"
        )
    total = time.perf_counter() - start
    print(
        f"total {total:.0f} s ({total / 600:.0%} of the 10-minute budget); "
        f"peak RSS {peak_rss_mib():,.0f} MiB (budget 3,072)"
    )


if __name__ == "__main__":
    main()
