"""Fan-outs on a Dask cluster run the way users run one: a shared value crosses the wire once.

A `dask scheduler` and two `dask worker` processes on loopback; tasks fanned out through the
runner `orchestration.dask.address` selects. The payload notes every unpickling (process id) in a
file, so the test sees where and how often it was sent.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from dask_cluster import running_dask_cluster
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from settings import load_settings
from tasks.runners import fan_out, share, task_runner_for

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

TASKS = 6


class Payload:
    """A few MB standing in for the dataset; each unpickling appends this process's id to `log`."""

    def __init__(self, log: Path, size: int = 4_000_000) -> None:
        self.log = log
        self.blob = bytes(range(256)) * (size // 256)

    def __reduce__(self):
        return (_unpickled, (self.log, self.blob))


def _unpickled(log: Path, blob: bytes) -> Payload:
    with open(log, "a") as out:
        out.write(f"{os.getpid()}\n")
    payload = Payload.__new__(Payload)
    payload.log, payload.blob = log, blob
    return payload


@task(cache_policy=NO_CACHE)
def checksum(payload: Payload, i: int) -> tuple[str, int]:
    """What the task received (a Payload, not a future) and a value computed from it."""
    return type(payload).__name__, sum(payload.blob[i::997])


def fan_out_checksums(settings, log: Path, shared: bool) -> list[tuple[str, int]]:
    """`TASKS` checksum tasks of one payload, fanned out through the runner the settings name."""

    @flow(name="checksums")
    def checksums() -> list[tuple[str, int]]:
        payload = Payload(log)
        with task_runner_for(settings.orchestration, settings.modeling.n_jobs) as runner:
            value = share(runner, payload) if shared else payload
            calls = [{"payload": value, "i": i} for i in range(TASKS)]
            return fan_out(runner, checksum, calls, "checksums")

    return checksums()


def on_cluster(address: str):
    """Settings that run the fan-outs on the Dask scheduler at `address`."""
    return load_settings(orchestration={"task_runner": "dask", "dask": {"address": address}})


def unpicklings(log: Path) -> Counter:
    """How many times each process unpickled a payload (and empty the log)."""
    pids = Counter(int(line) for line in log.read_text().split()) if log.exists() else Counter()
    log.unlink(missing_ok=True)
    return pids


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    root = tmp_path_factory.mktemp("dask")
    here = Path(__file__).resolve().parent  # the workers unpickle this module's task and payload,
    support = here.parent / "support"  # and it imports the helpers of tests/support
    path = os.pathsep.join(filter(None, [str(here), str(support), os.environ.get("PYTHONPATH")]))
    with running_dask_cluster(root, env={"PYTHONPATH": path}) as cluster:
        yield cluster


def test_a_shared_value_reaches_each_worker_once_and_tasks_get_the_value(cluster, tmp_path):
    log = tmp_path / "unpickled.log"
    on_threads = fan_out_checksums(load_settings(), log, shared=True)
    assert unpicklings(log) == Counter()  # threads share memory: nothing is pickled

    dask = on_cluster(cluster.address)
    on_dask = fan_out_checksums(dask, log, shared=True)

    assert on_dask == on_threads
    assert {name for name, _ in on_dask} == {"Payload"}
    assert unpicklings(log) == Counter(dict.fromkeys(cluster.worker_pids.values(), 1))


def test_without_sharing_every_task_carries_its_own_copy(cluster, tmp_path):
    log = tmp_path / "unpickled.log"
    dask = on_cluster(cluster.address)

    fan_out_checksums(dask, log, shared=False)

    seen = unpicklings(log)
    on_workers = sum(seen[pid] for pid in cluster.worker_pids.values())
    assert on_workers == TASKS  # once per task, plus copies in the scheduler and this process
    assert sum(seen.values()) > TASKS


def test_sharing_the_same_object_twice_sends_it_once(cluster):
    settings = on_cluster(cluster.address)
    value, other = list(range(1000)), list(range(1000))
    with task_runner_for(settings.orchestration, settings.modeling.n_jobs) as runner:
        first = share(runner, value)
        assert share(runner, value) is first
        assert share(runner, other).key != first.key
        assert set(runner.client.who_has(first)[first.key]) == set(cluster.worker_pids)


def test_under_threads_share_passes_the_value_through():
    value = object()
    settings = load_settings()
    with task_runner_for(settings.orchestration, settings.modeling.n_jobs) as runner:
        assert share(runner, value) is value


def test_a_scheduler_dropping_copies_is_named_with_the_setting_that_stops_it(tmp_path, caplog):
    amm_on = {"DASK_DISTRIBUTED__SCHEDULER__ACTIVE_MEMORY_MANAGER__START": "True"}
    with running_dask_cluster(tmp_path, workers=1, env=amm_on) as cluster:
        settings = on_cluster(cluster.address)
        with task_runner_for(settings.orchestration, settings.modeling.n_jobs) as runner:
            share(runner, "a value")

    [warning] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert cluster.address in warning
    assert "DASK_DISTRIBUTED__SCHEDULER__ACTIVE_MEMORY_MANAGER__START=False" in warning


def test_the_local_cluster_keeps_the_copies_it_broadcasts():
    settings = load_settings(orchestration={"task_runner": "dask", "dask": {"n_workers": 1}})
    with task_runner_for(settings.orchestration, settings.modeling.n_jobs) as runner:
        assert not runner.client.amm.running()
