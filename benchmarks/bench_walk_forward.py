"""Time one model x optimizer walk-forward backtest: 500 stocks x 10 years, weekly, top-50 max-Sharpe.

Run: `.venv/bin/python benchmarks/bench_walk_forward.py [--symbols 500] [--years 10]
[--optimizer max_sharpe] [--retrain folds|months]`. The issue's budget: under 60 s on 2 cores for
the walk-forward part (model refits on the schedule, scoring, one portfolio solve per rebalance,
the backtest), printed step by step; feature computation is printed separately. Runs the core
directly (no Prefect server).
"""

from __future__ import annotations

import argparse
import time
from types import SimpleNamespace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--years", type=float, default=10)
    parser.add_argument("--top-k", type=int, default=50)
    parser.add_argument("--optimizer", default="max_sharpe")
    parser.add_argument("--model", default="lightgbm")
    parser.add_argument("--retrain", choices=["folds", "months"], default="folds")
    parser.add_argument(
        "--trees",
        type=int,
        default=None,
        help="LightGBM/XGBoost trees per fit (default: the configured upper bound; after research "
        "a candidate refits with its early-stopped count, usually fewer)",
    )
    args = parser.parse_args()

    from settings import load_settings
    from tasks.backtest import walk_forward_candidate
    from tasks.research import dataset_for, trainer_for
    from tasks.sections import ModelSetup, TradingRules
    from trading_core.data.synthetic import generate_synthetic_market

    trees = {} if args.trees is None else {"n_estimators": args.trees}
    settings = load_settings(
        portfolio={"top_k": args.top_k, "max_weight": 0.05},
        backtest={"rebalance_sessions": 5, "retrain": args.retrain},
        modeling={"lightgbm": trees, "xgboost": trees},
    )
    market = generate_synthetic_market(symbols=args.symbols, years=args.years, seed=7)
    t = time.perf_counter()
    dataset = dataset_for(market.data, ModelSetup.of(settings))
    print(f"features + labels: {time.perf_counter() - t:.1f} s (not part of the budget)")

    # fit_like needs only the candidate's name and parameters
    template = SimpleNamespace(
        name=args.model, params=trainer_for(ModelSetup.of(settings)).params(args.model)
    )
    start = time.perf_counter()

    def log(message: str) -> None:
        print(f"  [{time.perf_counter() - start:5.1f} s] {message}", flush=True)

    result = walk_forward_candidate(
        template,
        dataset,
        market.data,
        ModelSetup.of(settings),
        TradingRules.of(settings),
        settings.backtest,
        [args.optimizer],
        progress=log,
    )[args.optimizer]
    total = time.perf_counter() - start
    metrics, bench = result.backtest.metrics, result.backtest.benchmark_metrics
    print(
        f"walk-forward {args.model} x {args.optimizer}: {total:.1f} s for {len(result.models)} "
        f"models and {len(result.weights)} rebalances "
        f"({result.weights.index[0]:%Y-%m-%d}..{result.backtest.equity.index[-1]:%Y-%m-%d}); "
        f"budget 60 s: {'met' if total < 60 else 'MISSED'}"
    )
    print(
        f"Sharpe {metrics['sharpe']:.2f} vs equal weight {bench['sharpe']:.2f}; CAGR "
        f"{100 * metrics['cagr']:.1f}% vs {100 * bench['cagr']:.1f}%; fallbacks "
        f"{len(result.fallbacks)}"
    )


if __name__ == "__main__":
    main()
