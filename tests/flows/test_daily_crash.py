"""A daily run that fails at any step leaves the ledger and the day's outputs as they were.

Each task of the daily flow is made to raise in turn; the ledger file, the exported CSVs and the
day folder must then be byte-for-byte what they were before the run, and a clean re-run must give
exactly the outputs of a run that never failed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from trading_core.data.folder import write_folder
from trading_core.data.synthetic import generate_synthetic_market

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

STEPS = [
    "load_market_data",
    "build_features",
    "load_champion",
    "score_universe",
    "detect_regime",
    "build_portfolio",
    "load_positions",
    "generate_trades",
    "account_equity",
    "apply_kill_switch",
    "run_safety_checks",
    "monitor_model",
    "record_in_ledger",
    "publish_daily",
]
FAST = "modeling:\n  lightgbm: {n_estimators: 40}\n"


class Injected(RuntimeError):
    """The failure a test plants in one step."""


def snapshot(live: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(live)): p.read_bytes() for p in sorted(live.rglob("*")) if p.is_file()
    }


def outputs(live: Path) -> dict[str, object]:
    """Every output but the ledger file, with the wall-clock stamps of the history left out."""
    files: dict[str, object] = {k: v for k, v in snapshot(live).items() if k != "ledger.sqlite"}
    history = pd.read_csv(live / "performance_history.csv")
    files["performance_history.csv"] = history.drop(columns=history.filter(like="_at").columns)
    return files


def same(a: dict[str, object], b: dict[str, object]) -> bool:
    return a.keys() == b.keys() and all(
        a[k].equals(b[k]) if isinstance(a[k], pd.DataFrame) else a[k] == b[k] for k in a
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A synthetic home after one applied day, and the next day to run."""
    from flows.daily_live import daily_live
    from flows.data_update import data_update

    root = tmp_path_factory.mktemp("crash")
    market = generate_synthetic_market(symbols=12, years=2, seed=9, ic=0.1)
    write_folder(market.data, root / "data")
    config = root / "fast.yaml"
    config.write_text(FAST)
    home = root / "home"
    data_update(provider="folder", path=str(root / "data"), home=str(home), config=str(config))
    first, second = (d.date() for d in market.data.dates[-2:])
    daily_live(run_date=first, home=str(home), config=str(config))
    return home, str(config), second


@pytest.fixture(scope="module")
def uninterrupted(setup, tmp_path_factory):
    """The outputs of the second day run without any failure, in a copy of the home."""
    import shutil

    from flows.daily_live import daily_live

    home, config, day = setup
    copy = tmp_path_factory.mktemp("clean") / "home"
    shutil.copytree(home, copy)
    daily_live(run_date=day, home=str(copy), config=config)
    return outputs(copy / "live")


@pytest.mark.parametrize("step", STEPS)
def test_a_failure_at_any_step_changes_nothing_and_a_rerun_matches_a_clean_run(
    setup, uninterrupted, step, monkeypatch, tmp_path
):
    import shutil

    import flows.daily_live as daily

    base, config, day = setup
    home = tmp_path / "home"
    shutil.copytree(base, home)
    before = snapshot(home / "live")

    def fail(*args, **kwargs):
        raise Injected(f"injected failure in {step}")

    monkeypatch.setattr(daily, step, fail)
    with pytest.raises(Injected):
        daily.daily_live(run_date=day, home=str(home), config=config)
    monkeypatch.undo()

    after = snapshot(home / "live")
    if step == "publish_daily":  # the ledger committed first (source of truth); no day files yet
        changed = {k for k in after if before.get(k) != after[k]}
        assert changed <= {"ledger.sqlite", "current_positions.csv", "performance_history.csv"}
        assert not (home / "live" / f"{day}").exists()
    else:
        assert after == before
    daily.daily_live(run_date=day, home=str(home), config=config)
    assert same(outputs(home / "live"), uninterrupted)
