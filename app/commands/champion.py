"""`alphapilot train | select | rollback`: the candidates, the champion, and going back a champion."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from app.answers import reply
from app.invocation import Invocation
from app.options import AsOfOption, ConfigOption, HomeOption, JsonOption, path_str
from app.steps import check_settings, locked, run, run_flow, start_prefect_early

if TYPE_CHECKING:
    import pandas as pd

# What model selection and training load on first use (4 s of imports on 2 cores).
RESEARCH_LIBRARIES = ("lightgbm", "xgboost", "optuna", "cvxpy", "sklearn.covariance")
# the out-of-sample columns of training_comparison.csv that `train` shows
COMPARED = [
    "rank_ic",
    "ic",
    "rank_icir",
    "rank_ic_t_stat",
    "hit_rate",
    "top_minus_bottom",
    "top_quintile_sharpe",
    "cv_rank_ic",
]


def select_cmd(
    as_of: AsOfOption = None,
    home: HomeOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Champion selection: train the candidates, compare out of sample, promote the best."""
    from flows.champion_selection import champion_selection

    result = _research(champion_selection, as_of, home, config, as_json)
    reply(_selection_outcome(result), lambda: print_champion(result))


def train_cmd(
    as_of: AsOfOption = None,
    home: HomeOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Train, tune and evaluate every candidate out of sample; print the comparison table."""
    from flows.training import train_candidates_flow
    from trading_core.io import read_csv

    path = _research(train_candidates_flow, as_of, home, config, as_json)
    table = read_csv(path).set_index("model")
    reply(
        {"status": "ok", "comparison": path, "models": table[COMPARED].to_dict(orient="index")},
        lambda: _print_comparison(table, path),
    )


def _research(
    flow: Any, as_of: datetime | None, home: Path | None, config: Path | None, as_json: bool
) -> Any:
    """Run a research flow (training or selection) as of `as_of`, its libraries loading early."""
    Invocation.json = as_json
    check_settings(config, home)
    start_prefect_early(*RESEARCH_LIBRARIES)
    return run_flow(
        lambda: flow(
            as_of=as_of.date() if as_of else None, home=path_str(home), config=path_str(config)
        )
    )


def rollback_cmd(home: HomeOption = None, config: ConfigOption = None) -> None:
    """Restore the previous champion (model and optimizer) from production/history/."""
    from tasks.components import production_store
    from trading_core.home import Home

    with locked(config, home, "rollback") as settings:
        store = production_store(Home(settings.home))
        restored = run(store.rollback)
    typer.echo(
        f"champion restored: {restored.get('combination') or restored['model_name']} "
        f"(selected on {restored.get('selected_on', 'unknown')}); the demoted one is kept in "
        f"{store.history_folder}"
    )


def print_champion(result: dict) -> None:
    """The selection for a person: the ranking, the failures, the champion and the report."""
    typer.echo(
        f"{result['trials']} model x optimizer backtests; equal-weight baseline Sharpe "
        f"{result['baseline_sharpe']:.2f}"
    )
    for i, entry in enumerate(result["ranking"][:10], 1):
        verdict = "passes" if not entry["failures"] else "; ".join(entry["failures"])
        typer.echo(f"  {i:>2}. {entry['combination']:<32} score {entry['score']:.3f}  {verdict}")
    for name, error in result["failed"].items():
        typer.echo(f"  failed: {name}: {error}")
    champion = result["champion"]
    if champion is None:
        typer.echo(
            "no combination passed the thresholds: nothing promoted (an existing champion "
            "stays; without one the daily run scores with the latest candidate)"
        )
    else:
        typer.echo(
            f"champion: {champion['combination']} (trained through "
            f"{champion['trained_through']}) -> {champion['metadata_path']}"
        )
    typer.echo(f"report: {_selection_reports(result)['report']}")


def _selection_reports(result: dict) -> dict[str, str]:
    """The selection report to open (HTML) and its Markdown twin, written side by side."""
    from trading_core.reporting.selection_files import HTML_FILE

    markdown = Path(result["report"])
    return {"report": str(markdown.with_name(HTML_FILE)), "report_markdown": str(markdown)}


def _selection_outcome(result: dict) -> dict[str, Any]:
    champion = result["champion"]
    chosen = ("combination", "model", "optimizer", "trained_through", "reason", "metadata_path")
    return {
        "status": "ok",
        "champion": None if champion is None else {k: champion.get(k) for k in chosen},
        "trials": result["trials"],
        "baseline_sharpe": result["baseline_sharpe"],
        "ranking": [{**entry, "passed": not entry["failures"]} for entry in result["ranking"][:10]],
        "failed": result["failed"],
        **_selection_reports(result),
    }


def _print_comparison(table: pd.DataFrame, path: str) -> None:
    typer.echo("test period (never tuned on):")
    typer.echo(table[COMPARED].to_string(float_format=lambda v: f"{v:+.4f}"))
    typer.echo(f"comparison: {path}")
