"""SIGKILL at every step: the daily run, `approve` and a champion promotion lose nothing.

Each case runs the real command in a subprocess with ALPHAPILOT_KILL_AT naming one crash point
(trading_core.faults), checks the process died there, then checks what a person finds: a ledger
that verifies, no trade applied twice, and after re-running the same command, outputs identical
to a run that was never interrupted.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from homes import SmallHome, build_small_home

from trading_core.faults import KILL_AT
from trading_core.home import Home
from trading_core.live.ledger import Ledger
from trading_core.ml.registry import load_model
from trading_core.selection.production import CHAMPION_METADATA, ProductionStore

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

DAILY_POINTS = [
    *(
        f"task:{name}"
        for name in (
            "preflight",
            "load-market-data",
            "build-features",
            "load-champion",
            "score-universe",
            "detect-regime",
            "build-portfolio",
            "load-positions",
            "split-guard",
            "close-delisted",
            "account-equity",
            "generate-trades",
            "kill-switch",
            "run-safety-checks",
            "monitor-model",
            "record-in-ledger",
            "publish-daily-report",
        )
    ),
    "ledger:before-commit",
    "write:current_positions.csv",
    "write:performance_history.csv",
    "write:????-??-??",  # the day folder, written and synced, not yet renamed into place
    "replace:????-??-??",  # between moving an earlier version aside and the new one in
]
APPROVE_POINTS = [
    "ledger:before-commit",
    "write:current_positions.csv",
    "write:performance_history.csv",
]
PROMOTION_POINTS = [
    "production:archived",
    "write:champion-*",
    "write:champion_metadata.json",
]


SUPPORT = Path(__file__).resolve().parents[1] / "support"  # homes.py, for the promotion script
PRELOAD = ["app.cli", "flows.daily_live", "trading_core.selection.production", "homes"]


def cli(small: SmallHome, *args: str) -> list[str]:
    return [*args, "--home", str(small.home), "--config", str(small.config)]


def _child(command: list[str] | str, env: dict[str, str]) -> None:
    """In the child: the environment, then the CLI (a list) or a script (a string)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    os.environ.clear()
    os.environ.update(env)
    if isinstance(command, str):
        exec(compile(command, "<script>", "exec"), {"__name__": "__main__"})
        return
    from app.cli import app

    # Prefect read its settings when the server imported it: point it at the test server now
    with temporary_settings(updates={PREFECT_API_URL: env["PREFECT_API_URL"]}):
        app(command, prog_name="alphapilot")


@pytest.fixture(scope="module")
def processes():
    """Child processes forked from a server that has imported alphapilot (a second, not eight)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


@dataclass(frozen=True)
class Ended:
    returncode: int
    stdout: str
    stderr: str


def run(processes, command: list[str] | str, kill_at: str | None = None) -> Ended:
    """`command` in a child process on the test's Prefect server, killed at `kill_at` if given."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    env.pop(KILL_AT, None)
    if kill_at:
        env[KILL_AT] = kill_at
    with tempfile.TemporaryDirectory() as tmp:
        out, err = Path(tmp, "out"), Path(tmp, "err")
        child = processes.Process(target=_redirected, args=(command, env, str(out), str(err)))
        child.start()
        child.join(300)
        assert child.exitcode is not None, f"{command} did not end in 300 s"
        return Ended(child.exitcode, out.read_text(), err.read_text())


def _redirected(command: list[str] | str, env: dict[str, str], out: str, err: str) -> None:
    with open(out, "w") as stdout, open(err, "w") as stderr:
        os.dup2(stdout.fileno(), 1)
        os.dup2(stderr.fileno(), 2)
        sys.stdout, sys.stderr = stdout, stderr
        _child(command, env)


def killed(result: Ended) -> bool:
    return result.returncode == -signal.SIGKILL


def outputs(home: Path) -> dict[str, object]:
    """Every file under live/ (the ledger as its applied trades), the history without timestamps."""
    live = home / "live"
    files: dict[str, object] = {
        str(p.relative_to(live)): p.read_bytes()
        for p in sorted(live.rglob("*"))
        if p.is_file() and p.name != "ledger.sqlite"
    }
    history = pd.read_csv(live / "performance_history.csv")
    files["performance_history.csv"] = history.drop(columns=history.filter(like="_at").columns)
    files["applied trades"] = applied_trades(home)
    return files


def applied_trades(home: Path) -> pd.DataFrame:
    trades = Ledger.at_home(Home(home), 1.0).trades()
    return trades[trades["run_status"] == "applied"].drop(columns=["recorded_at"], errors="ignore")


def same(a: dict[str, object], b: dict[str, object]) -> list[str]:
    """The names whose content differs (empty when the two are identical)."""
    differ = sorted(set(a) ^ set(b))
    for key in set(a) & set(b):
        x, y = a[key], b[key]
        if not (x.equals(y) if isinstance(x, pd.DataFrame) else x == y):
            differ.append(key)
    return differ


def copy_home(small: SmallHome, root: Path, config: str | None = None) -> SmallHome:
    shutil.copytree(small.home, root / "home")
    (root / "fast.yaml").write_text(config or small.config.read_text())
    return SmallHome(root / "home", root / "fast.yaml", small.data, small.first, small.day)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> SmallHome:
    return build_small_home(tmp_path_factory.mktemp("crash"))


@pytest.fixture(scope="module")
def uninterrupted(base: SmallHome, processes, tmp_path_factory) -> dict[str, object]:
    """The outputs of the last day run once, without a crash."""
    small = copy_home(base, tmp_path_factory.mktemp("clean"))
    result = run(processes, cli(small, "daily", "--date", small.day))
    assert result.returncode == 0, result.stderr
    return outputs(small.home)


@dataclass
class Recovery:
    """What one crash-and-rerun of the daily run left behind."""

    crashed: Ended
    inconsistency: str | None = None  # LedgerInconsistent after the crash, if any
    applied_after_crash: int = 0
    rerun: Ended | None = None
    outputs: dict[str, object] | None = None


def crash_then_rerun(processes, small: SmallHome, point: str) -> Recovery:
    command = cli(small, "daily", "--date", small.day)
    recovery = Recovery(run(processes, command, kill_at=point))
    try:
        Ledger.at_home(Home(small.home), 1.0).verify()  # reads only: the re-run catches up
    except Exception as exc:
        recovery.inconsistency = str(exc)
    recovery.applied_after_crash = len(applied_trades(small.home))
    recovery.rerun = run(processes, command)
    Ledger.at_home(Home(small.home), 1.0).verify()
    recovery.outputs = outputs(small.home)
    return recovery


@pytest.fixture(scope="module")
def recoveries(base: SmallHome, processes, tmp_path_factory) -> dict[str, Recovery]:
    """Every daily crash point, two at a time (each in its own home): the children are separate
    processes, so the two cores run two scenarios at once."""
    homes = {p: copy_home(base, tmp_path_factory.mktemp("point")) for p in DAILY_POINTS}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {p: pool.submit(crash_then_rerun, processes, homes[p], p) for p in DAILY_POINTS}
        return {p: future.result() for p, future in futures.items()}


@pytest.mark.parametrize("point", DAILY_POINTS)
def test_a_daily_run_killed_at_any_point_recovers_on_a_rerun(
    base: SmallHome, uninterrupted: dict, recoveries: dict[str, Recovery], point: str
):
    recovery = recoveries[point]
    crashed = recovery.crashed
    assert killed(crashed), f"never reached {point}: exit {crashed.returncode}\n{crashed.stderr}"
    assert recovery.inconsistency is None
    before = len(applied_trades(base.home))
    assert recovery.applied_after_crash in (before, len(uninterrupted["applied trades"]))
    assert recovery.rerun.returncode == 0, recovery.rerun.stderr
    assert same(recovery.outputs, uninterrupted) == []


@pytest.fixture(scope="module")
def proposed(base: SmallHome, processes, tmp_path_factory) -> tuple[SmallHome, dict[str, object]]:
    """The last day proposed (manual approval), and the outputs of approving it without a crash."""
    approval = base.config.read_text() + "live: {require_manual_approval: true}\n"
    small = copy_home(base, tmp_path_factory.mktemp("proposed"), approval)
    result = run(processes, cli(small, "daily", "--date", small.day))
    assert result.returncode == 0 and "awaiting approval" in result.stdout, result.stderr
    clean = copy_home(small, tmp_path_factory.mktemp("approved"))
    assert run(processes, cli(clean, "approve", "--date", clean.day)).returncode == 0
    return small, outputs(clean.home)


@pytest.mark.parametrize("point", APPROVE_POINTS)
def test_approve_killed_at_any_point_applies_the_trades_exactly_once(
    proposed: tuple[SmallHome, dict], processes, point: str, tmp_path: Path
):
    small = copy_home(proposed[0], tmp_path)
    before = applied_trades(small.home)

    crashed = run(processes, cli(small, "approve", "--date", small.day), kill_at=point)

    assert killed(crashed), f"never reached {point}: exit {crashed.returncode}\n{crashed.stderr}"
    Ledger.at_home(Home(small.home), 1.0).verify()
    now = applied_trades(small.home)
    committed = len(now) > len(before)
    assert committed == (point != "ledger:before-commit")
    again = run(processes, cli(small, "approve", "--date", small.day))
    if committed:  # applied once already: a second approval is refused, nothing applied twice
        assert again.returncode == 4 and "already applied" in again.stderr
    else:
        assert again.returncode == 0, again.stderr
    Ledger.at_home(Home(small.home), 1.0).verify()
    assert same(outputs(small.home), proposed[1]) == []  # lagging exports were rewritten


PROMOTE = """
import sys
from dataclasses import dataclass
from pathlib import Path
sys.path.insert(0, {support!r})
from homes import champion_model
from trading_core.selection.production import ProductionStore
from trading_core.data.synthetic import generate_synthetic_market
market = generate_synthetic_market(symbols=12, years=2, seed=11, ic=0.1)
model, meta = champion_model(market.data, Path({config!r}), Path({home!r}))
ProductionStore(Path({home!r}) / "production").promote(model, {{**meta, "selected_on": "next"}})
"""


def champion_files(production: Path) -> dict[str, bytes]:
    meta = load_model(production, CHAMPION_METADATA).metadata
    names = [m["file"] for m in meta["members"]] + [CHAMPION_METADATA]
    return {name: (production / name).read_bytes() for name in names}


@pytest.mark.parametrize("point", PROMOTION_POINTS)
def test_a_promotion_killed_at_any_point_leaves_the_old_champion_loadable(
    base: SmallHome, processes, point: str, tmp_path: Path
):
    small = copy_home(base, tmp_path)
    production = small.home / "production"
    old = champion_files(production)
    script = PROMOTE.format(support=str(SUPPORT), config=str(small.config), home=str(small.home))

    crashed = run(processes, script, kill_at=point)

    assert killed(crashed), f"never reached {point}: exit {crashed.returncode}\n{crashed.stderr}"
    assert champion_files(production) == old  # the metadata still names the old, whole champion
    assert run(processes, script).returncode == 0
    new = champion_files(production)
    assert (
        new != old and load_model(production, CHAMPION_METADATA).metadata["selected_on"] == "next"
    )
    restored = ProductionStore(production).rollback()
    assert champion_files(production) == old and restored.get("selected_on") != "next"
