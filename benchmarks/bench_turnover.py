"""What turnover control and the fill convention do to Sharpe, turnover and costs (500 x 10 synthetic).

Run: `.venv/bin/python benchmarks/bench_turnover.py [--symbols 500] [--years 10] [--top-k 50]
[--noise 1.0]`. Not a timing: it prints, per setting, the annualized Sharpe net of costs, the mean
one-way turnover per weekly rebalance (½ Σ|Δw|), its annual sum, and costs per year as a share of
equity, for

1. the turnover controls, each alone and all three together, filled `next_open`: none, rank
   buffer (`portfolio.rank_buffer`, the default and one as wide as top_k), no-trade band
   (`risk.rebalance_threshold` 0.01), L1 penalty in the optimizer (`portfolio.turnover_penalty`),
   all three (default buffer, band 0.01, default penalty);
2. the three execution conventions (`backtest.execution`) with the product's default controls.

Scores are the synthetic market's planted signal plus Gaussian noise (`--noise` standard
deviations of it; 1.0 roughly halves its rank IC, about what a trained model recovers), so the
figures describe a model-like signal rather than the oracle. Everything else is the product's:
`PortfolioPolicy` and `target_weights` (the same construction as the daily run),
`VectorizedBacktester` with the default 10 bps of costs and the 5% volume cap on 1,000,000 of
capital, the max-Sharpe optimizer under the default caps.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
import pandas as pd

CONTROLS = {  # name: (rank_buffer, rebalance_threshold, turnover_penalty); None: the default
    "none": (0, 0.0, 0.0),
    "buffer": (None, 0.0, 0.0),
    "buffer = top_k": ("top_k", 0.0, 0.0),
    "band": (0, 0.01, 0.0),
    "penalty": (0, 0.0, None),
    "all three": (None, 0.01, None),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--years", type=float, default=10)
    parser.add_argument("--top-k", type=int, default=50)
    parser.add_argument("--noise", type=float, default=1.0)
    parser.add_argument("--optimizer", default="max_sharpe")
    args = parser.parse_args()

    from settings import load_settings
    from tasks.backtest import regimes_for
    from tasks.components import backtester_for, policy_for
    from tasks.sections import TradingRules
    from trading_core.backtest.walk_forward import target_weights
    from trading_core.data.planted_signal import rank_ic
    from trading_core.data.synthetic import generate_synthetic_market
    from trading_core.features.labels import EXECUTIONS, forward_returns

    settings = load_settings(portfolio={"top_k": args.top_k, "max_weight": 0.05})
    started = time.perf_counter()
    market = generate_synthetic_market(symbols=args.symbols, years=args.years, seed=7, ic=0.05)
    data = market.data
    noise = np.random.default_rng(1).normal(0.0, args.noise, market.signal.shape)
    wide = market.signal + noise
    dates = data.dates[260::5]  # weekly, after a year of covariance history
    scores = wide.loc[dates].stack().rename("score").rename_axis(["date", "symbol"])
    label = forward_returns(data.close, 5, open_=data.open, execution="next_open")
    regimes = regimes_for(data, settings.regime)
    policy = policy_for(TradingRules.of(settings), data.sectors, args.optimizer)
    p = settings.portfolio
    print(
        f"synthetic {args.symbols} x {len(data.dates)} sessions, ic 0.05 (seed 7); scores = planted"
        f" signal + N(0, {args.noise:g}): rank IC {rank_ic(wide.loc[dates], label.loc[dates]):.3f}"
        f" (signal alone {rank_ic(market.signal.loc[dates], label.loc[dates]):.3f}); weekly top "
        f"{args.top_k} {args.optimizer}, {len(dates)} rebalances; defaults: rank_buffer "
        f"{p.rank_buffer}, turnover_penalty {p.turnover_penalty:g}, band 0.01 where used"
    )

    def run(policy_used, execution: str) -> dict[str, float]:
        weights, _ = target_weights(scores, data.close, regimes, policy_used)
        backtester = backtester_for(settings.backtest, TradingRules.of(settings)).with_execution(
            execution
        )
        since = data.since(weights.index[0])
        result = backtester.run(weights, since.close, open_=since.open, volume=since.volume).metrics
        return result

    rows = []
    for name, (buffer, band, penalty) in CONTROLS.items():
        chosen = replace(
            policy,
            rank_buffer={None: p.rank_buffer, "top_k": args.top_k}.get(buffer, buffer),
            rebalance_threshold=band,
            turnover_penalty=p.turnover_penalty if penalty is None else penalty,
        )
        rows.append({"setting": f"controls: {name}", **run(chosen, "next_open")})
    defaults = replace(policy, rebalance_threshold=settings.risk.rebalance_threshold)
    for execution in EXECUTIONS:
        rows.append({"setting": f"fill: {execution}", **run(defaults, execution)})
    table = pd.DataFrame(rows).set_index("setting")
    shown = pd.DataFrame(
        {
            "Sharpe": table["sharpe"].map("{:.2f}".format),
            "turnover/rebalance": table["avg_turnover"].map("{:.1%}".format),
            "turnover/year": table["annual_turnover"].map("{:.1f}x".format),
            "costs/year": table["cost_drag"].map("{:.2%}".format),
            "capped": table["capped_share"].map("{:.2%}".format),
        }
    )
    print(shown.to_string())
    print(f"wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
