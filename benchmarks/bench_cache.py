"""What Prefect caching of the feature build saves (or costs) for a daily run and a full build.

Run: `.venv/bin/python benchmarks/bench_cache.py [--symbols 500] [--years 10]`. On a synthetic
market it times, in one flow each against a temporary Prefect server: the feature build of a daily
run (recent sessions only) and the full build a training run makes, first computed and persisted
to `<home>/cache`, then read back from the cache. Prints seconds, the cache's size on disk and the
ratio cached / computed (below 1: the cache saves time).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if "PREFECT_HOME" not in os.environ:  # a throwaway Prefect home, made only when none is set
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="bench-cache-prefect-")

import tasks  # noqa: E402, F401  (offline Prefect)

RECENT = 60 + 5 + 10  # the daily run's rows: IC lookback + label horizon + margin


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_size_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--years", type=float, default=10)
    args = parser.parse_args()

    from prefect import flow
    from prefect.testing.utilities import prefect_test_harness

    from settings import load_settings
    from tasks.research import build_features
    from tasks.sections import ModelSetup
    from trading_core.data.synthetic import generate_synthetic_market
    from trading_core.home import Home

    data = generate_synthetic_market(symbols=args.symbols, years=args.years, seed=7).data
    home = Path(tempfile.mkdtemp(prefix="bench-cache-home-"))
    settings = load_settings(None, home)
    print(f"synthetic market: {len(data.symbols)} symbols x {len(data.dates)} sessions")

    @flow(name="bench-features")
    def features(sessions: int | None):
        start = time.perf_counter()
        setup, cache = ModelSetup.of(settings), settings.orchestration
        dataset = build_features(data, setup, cache, Home(settings.home), sessions)
        return time.perf_counter() - start, dataset.rows.shape

    with prefect_test_harness(server_startup_timeout=120):
        for label, sessions in (("daily run (recent rows)", RECENT), ("full build", None)):
            before = folder_size_mib(home / "cache") if (home / "cache").exists() else 0.0
            computed, shape = features(sessions)
            cached, _ = features(sessions)
            size = folder_size_mib(home / "cache") - before
            print(
                f"{label:<24} {shape[0]:>9,} x {shape[1]} rows: computed {computed:6.2f} s, "
                f"cached {cached:6.2f} s (ratio {cached / computed:.2f}), {size:,.0f} MiB on disk"
            )
    print(f"peak RSS {peak_rss_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
