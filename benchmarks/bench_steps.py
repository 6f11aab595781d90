"""Time small steps whose speed the correctness suite used to assert: a wall-clock bound fails at
random on a loaded 2-core machine, so the figures live here, each printed next to its goal.

Run: `.venv/bin/python benchmarks/bench_steps.py [--repeats 5]`. Prints the best of `repeats`
warm runs (the first run of each step, which loads fonts, calendars or templates, is not counted):
- the regime history of the whole bundled S&P 500 index (about 8,300 sessions), goal 0.25 s;
- a synthetic market of 500 stocks x 10 years, goal 10 s.
The daily report's rendering is inside the daily run's work, which `bench_daily.py` times.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from settings import load_settings  # noqa: E402
from trading_core.data.providers import make_provider  # noqa: E402
from trading_core.data.synthetic import generate_synthetic_market  # noqa: E402
from trading_core.regime import RegimeDetector  # noqa: E402


def best_seconds(step: Callable[[], object], repeats: int) -> float:
    """The fastest of `repeats` runs of `step` after one warm-up run."""
    step()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        step()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    detector = RegimeDetector(**load_settings().regime.model_dump(exclude={"exposure"}))
    index, _ = detector.index_of(make_provider("bundled").fetch())
    regime = best_seconds(lambda: detector.history(index), args.repeats)
    synthetic = best_seconds(
        lambda: generate_synthetic_market(symbols=500, years=10, seed=5), max(1, args.repeats // 2)
    )
    print(f"regime history, {len(index)} sessions: {regime * 1000:.0f} ms (goal 250 ms)")
    print(f"synthetic market, 500 x 10 years: {synthetic:.2f} s (goal 10 s)")


if __name__ == "__main__":
    main()
