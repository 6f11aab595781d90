"""Prefect caching of the data fetch and the feature build: reused for the same inputs only.

The cache key is the data fingerprint (or the source revision), the as-of date, the settings hash
and the task's source; results live under `<home>/cache`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trading_core.data.folder import write_folder
from trading_core.data.synthetic import generate_synthetic_market

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]


def task_states(flow_run_id) -> dict[str, str]:
    """Task name -> final state name of every task run of one flow run."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return {run.name.rsplit("-", 1)[0]: run.state.name for run in runs}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("market")
    write_folder(generate_synthetic_market(symbols=8, years=2, seed=3).data, path)
    return path


def run_update(folder: Path, home: Path, config: Path | None = None) -> dict[str, str]:
    from flows.data_update import data_update

    state = data_update(
        provider="folder",
        path=str(folder),
        home=str(home),
        config=str(config) if config else None,
        return_state=True,
    )
    assert state.is_completed(), state.message
    return task_states(state.state_details.flow_run_id)


def test_second_data_update_reuses_the_fetch_and_a_changed_setting_or_source_misses(
    folder, tmp_path
):
    home = tmp_path / "home"
    assert run_update(folder, home)["fetch-market-data"] == "Completed"
    assert run_update(folder, home)["fetch-market-data"] == "Cached"
    assert any((home / "cache").iterdir())

    changed = tmp_path / "changed.yaml"
    changed.write_text("data:\n  start_date: 2001-06-01\n")
    assert run_update(folder, home, changed)["fetch-market-data"] == "Completed"

    prices = folder / "prices.csv"
    prices.write_bytes(prices.read_bytes())  # the source was rewritten: fetch again
    assert run_update(folder, home)["fetch-market-data"] == "Completed"


def test_a_deleted_store_is_rebuilt_from_the_cached_fetch(folder, tmp_path):
    import shutil

    from trading_core.data.store import MarketStore

    home = tmp_path / "home"
    run_update(folder, home)
    before = MarketStore(home / "data").manifest()["fingerprint"]
    shutil.rmtree(home / "data")
    states = run_update(folder, home)
    assert states["fetch-market-data"] == "Cached"
    assert states["store-market-data"] == "Completed"
    assert MarketStore(home / "data").manifest()["fingerprint"] == before


def test_features_are_reused_for_the_same_data_and_settings_only(folder, tmp_path):
    from prefect import flow

    from settings import load_settings
    from tasks.data import load_market_data
    from tasks.research import build_features
    from tasks.sections import ModelSetup
    from trading_core.home import Home

    home = tmp_path / "home"
    run_update(folder, home)

    @flow
    def features(as_of=None, **overrides):
        settings = load_settings(None, home, **overrides)
        at = Home(settings.home)
        setup = ModelSetup.of(settings)
        return build_features(load_market_data(at, as_of), setup, settings.orchestration, at, 30)

    def run(**kwargs):
        state = features(return_state=True, **kwargs)
        return state.result(), task_states(state.state_details.flow_run_id)["build-features"]

    fetched = set((home / "cache").iterdir())
    first, state = run()
    assert state == "Completed"
    # the dataset is saved as an Arrow file; Prefect's record holds only its path
    (saved,) = (home / "cache" / "features").glob("*.arrow")
    (record,) = [p for p in (home / "cache").iterdir() if p.is_file() and p not in fetched]
    assert record.stat().st_size < 10_000 < saved.stat().st_size
    again, state = run()
    assert state == "Cached"
    assert again.rows.equals(first.rows) and again.labels.equals(first.labels)
    saved.unlink()  # a lost file: its cached record is useless, so the features are rebuilt
    rebuilt, _ = run()
    assert saved.exists() and rebuilt.rows.equals(first.rows)
    assert run()[1] == "Cached"
    _, state = run(modeling={"label_horizon": 3})  # a setting the features depend on
    assert state == "Completed"
    _, state = run(ops={"ic_lookback_days": 30})  # any result setting is in the hash
    assert state == "Completed"
    earlier = first.dates.unique().sort_values()[-5].date()
    _, state = run(as_of=earlier)  # other data (an earlier as-of date)
    assert state == "Completed"
    _, state = run(orchestration={"cache": False})
    assert state == "Completed"
