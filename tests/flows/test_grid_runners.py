"""Training and the model x optimizer grid fan out through the task runner named in settings.

The same 2 x 2 grid on a 2-worker local Dask cluster and on threads gives identical backtests.
"""

from __future__ import annotations

import pandas as pd
import pytest
from homes import SELECTION

from trading_core.data.folder import write_folder
from trading_core.data.synthetic import generate_synthetic_market

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

FAST = SELECTION + "backtest: {min_train_sessions: 126}\n"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    from flows.data_update import data_update

    root = tmp_path_factory.mktemp("grid")
    write_folder(generate_synthetic_market(symbols=10, years=3, seed=5, ic=0.1).data, root / "d")
    (root / "fast.yaml").write_text(FAST)
    data_update(provider="folder", path=str(root / "d"), home=str(root / "home"))
    return root / "home", str(root / "fast.yaml")


def grid_with(runner_name: str, home, config):
    """Train the candidates and run the grid, both through the named task runner."""
    from prefect import flow

    from flows.champion_selection import backtest_grid
    from flows.training import train_all
    from settings import load_settings
    from tasks.runners import task_runner_for
    from tasks.sections import TradingRules

    settings = load_settings(config, home, orchestration={"task_runner": runner_name})

    @flow(name=f"grid-{runner_name}")
    def run_grid():
        with task_runner_for(settings.orchestration, settings.modeling.n_jobs) as runner:
            run = train_all(settings, None, runner)
            rules = TradingRules.of(settings)
            optimizers = settings.model_selection.optimizers
            return backtest_grid(run, optimizers, rules, settings.backtest, runner)

    return run_grid()


def test_threads_are_the_default_and_never_oversubscribe_the_cores():
    import os

    from prefect.task_runners import ThreadPoolTaskRunner

    from settings import load_settings
    from tasks.runners import task_runner_for

    default = load_settings().orchestration
    runner = task_runner_for(default, 1)
    assert isinstance(runner, ThreadPoolTaskRunner)
    assert runner._max_workers == os.cpu_count()
    assert task_runner_for(default, 64)._max_workers == 1
    chosen = load_settings(orchestration={"max_workers": 3})
    assert task_runner_for(chosen.orchestration, chosen.modeling.n_jobs)._max_workers == 3


def test_dask_runner_joins_a_scheduler_address_or_starts_a_local_cluster():
    from prefect_dask import DaskTaskRunner

    from settings import load_settings
    from tasks.runners import task_runner_for

    local = task_runner_for(load_settings(orchestration={"task_runner": "dask"}).orchestration, 2)
    assert isinstance(local, DaskTaskRunner)
    assert local.cluster_kwargs["n_workers"] == 2
    assert local.cluster_kwargs["dashboard_address"] == ":0"
    remote = task_runner_for(
        load_settings(
            orchestration={"task_runner": "dask", "dask": {"address": "tcp://10.0.0.5:8786"}}
        ).orchestration,
        2,
    )
    assert remote.address == "tcp://10.0.0.5:8786"


def test_the_grid_on_a_local_dask_cluster_equals_the_grid_on_threads(home):
    threads = grid_with("threads", *home)
    dask = grid_with("dask", *home)

    assert not threads.failures and not dask.failures
    assert threads.results.keys() == dask.results.keys()
    assert len(threads.results) == 4
    assert list(threads.results) == [
        (model, optimizer)
        for model in ("lightgbm", "random_forest")
        for optimizer in ("equal_weight", "inverse_vol")
    ]
    for key, result in threads.results.items():
        pd.testing.assert_frame_equal(result.weights, dask.results[key].weights)
        pd.testing.assert_series_equal(result.backtest.equity, dask.results[key].backtest.equity)
