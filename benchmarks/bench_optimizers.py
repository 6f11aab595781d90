"""Time one portfolio per rebalance for each optimizer: the backtest grid's inner loop, bundled data.

Run: `.venv/bin/python benchmarks/bench_optimizers.py [--years 3] [--repeats 3]`. Builds weekly
portfolios with the configured policy (top 10 of the 20 bundled S&P 500 survivors, rank buffer,
turnover penalty, sector caps) through `target_weights`, as a walk-forward backtest does, and
prints the best of `repeats` warm runs in milliseconds per rebalance for each optimizer, then the
five together against the goal. The scores are 60-session momentum plus seeded noise: the time
does not depend on what ranks the names. The same step took 47 ms for the five before issue 18's
optimizer work (equal weight 1.7, inverse volatility 4.6, HRP 12.9, min volatility 11.9-13.7,
max Sharpe 12.2-15.2); the goal, 15 ms, is a third of that. Compiled cvxpy problems and numpy
estimates brought it to 24.4 ms, cvxpy's per-solve overhead still 5 of max Sharpe's 7 ms; posing
the problems to Clarabel directly, with numpy in place of the rebalance's pandas and
scikit-learn glue, to 14 ms (max Sharpe 3.4, min volatility 3.2, HRP 3.0, inverse volatility
2.2, equal weight 1.9), about a third of it spent in `target_weights` around the portfolios
(pandas lookups per date). Other work on the machine shows in these figures: run it twice and
keep the best.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from settings import load_settings  # noqa: E402
from tasks.components import detector_for, policy_for  # noqa: E402
from tasks.sections import TradingRules
from trading_core.backtest.walk_forward import target_weights  # noqa: E402
from trading_core.data.providers import make_provider  # noqa: E402
from trading_core.portfolio.optimizers import OPTIMIZERS  # noqa: E402

GOAL_MS = 15.0  # the five optimizers together, per rebalance


def weekly_scores(close: pd.DataFrame, years: float, seed: int = 0) -> pd.Series:
    """Scores (index date, symbol) every 5th session of the last `years`: momentum plus noise."""
    dates = close.index[-int(years * 252) :: 5]
    momentum = (close / close.shift(60) - 1).loc[dates]
    noise = np.random.default_rng(seed).normal(0.0, 0.05, momentum.shape)
    scores = (momentum + noise).stack().rename_axis(["date", "symbol"])
    return scores.rename("score")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=float, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    settings = load_settings()
    data = make_provider("bundled").fetch()
    detector = detector_for(settings.regime)
    regimes = detector.history(detector.index_of(data)[0])
    scores = weekly_scores(data.close, args.years)
    rebalances = scores.index.get_level_values("date").nunique()
    warm_up = scores.loc[scores.index.get_level_values("date")[:1]]
    print(f"{rebalances} weekly rebalances of the bundled data, best of {args.repeats} warm runs")

    total = 0.0
    for optimizer in OPTIMIZERS:
        policy = policy_for(TradingRules.of(settings), data.sectors, optimizer)
        target_weights(warm_up, data.close, regimes, policy)  # imports, compiled problems
        best = np.inf
        for _ in range(args.repeats):
            began = time.perf_counter()
            _, log = target_weights(scores, data.close, regimes, policy)
            best = min(best, time.perf_counter() - began)
        milliseconds = 1000 * best / rebalances
        total += milliseconds
        fallbacks = int(log["fallback_reason"].notna().sum())
        print(f"  {optimizer:15s} {milliseconds:6.2f} ms per rebalance ({fallbacks} fallbacks)")
    verdict = "met" if total < GOAL_MS else "MISSED"
    print(f"all five: {total:.1f} ms per rebalance (goal {GOAL_MS:.0f} ms): {verdict}")


if __name__ == "__main__":
    main()
