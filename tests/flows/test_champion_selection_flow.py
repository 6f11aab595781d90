"""Champion selection end to end on a small synthetic grid: promote, refuse, alert, roll back."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from alert_endpoints import Webhook
from homes import SELECTION

from trading_core.data.folder import write_folder
from trading_core.data.synthetic import generate_synthetic_market

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]


def production(home: Path) -> dict[str, bytes]:
    """The champion's files (not the history) with their bytes."""
    folder = home / "production"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def selected(tmp_path_factory):
    """A synthetic home after one permissive selection, and its config."""
    from flows.champion_selection import champion_selection
    from flows.data_update import data_update

    root = tmp_path_factory.mktemp("selection")
    market = generate_synthetic_market(symbols=10, years=3, seed=5, ic=0.1)
    write_folder(market.data, root / "data")
    config = root / "fast.yaml"
    config.write_text(SELECTION)
    home = root / "home"
    data_update(provider="folder", path=str(root / "data"), home=str(home))
    result = champion_selection(home=str(home), config=str(config))
    return home, config, result


def test_the_best_passing_combination_is_promoted_with_its_optimizer(selected):
    home, _, result = selected
    reports = home / "reports" / "model_selection"
    matrix = pd.read_csv(reports / "backtest_comparison_matrix.csv").set_index("model")
    details = json.loads((reports / "backtest_detailed_results.json").read_text())
    metadata = json.loads((home / "production" / "champion_metadata.json").read_text())

    assert list(matrix.index) == ["lightgbm", "random_forest"]
    assert list(matrix.columns) == ["equal_weight", "inverse_vol"]
    assert matrix.notna().all().all()
    best = max(details["combinations"], key=lambda c: c["score"]["total"])
    assert metadata["combination"] == best["key"] == result["champion"]["combination"]
    assert (metadata["model"], metadata["optimizer"]) == (best["model"], best["optimizer"])
    assert metadata["trials"] == 4
    assert metadata["thresholds"]["sharpe_min"] == -10
    assert {"sharpe", "max_drawdown", "calmar", "avg_turnover"} <= set(metadata["backtest_metrics"])
    assert all(len(m["sha256"]) == 64 for m in metadata["members"])
    assert metadata["data_fingerprint"] and metadata["selected_on"]


def test_when_nothing_passes_the_champion_stays_and_one_alert_says_why(
    selected, tmp_path, monkeypatch
):
    import shutil

    from flows.champion_selection import champion_selection

    base, config, _ = selected
    home = tmp_path / "home"
    shutil.copytree(base, home)
    before = production(home)
    strict = tmp_path / "strict.yaml"
    strict.write_text(config.read_text().replace("sharpe_min: -10", "sharpe_min: 50.0"))
    server = Webhook((200,))
    try:
        monkeypatch.setenv("ALPHAPILOT__NOTIFICATIONS__SLACK_WEBHOOK_URL", server.url)
        result = champion_selection(home=str(home), config=str(strict))
    finally:
        server.close()

    assert result["champion"] is None
    assert production(home) == before
    assert len(server.texts) == 1
    assert "no new champion" in server.texts[0].lower()
    assert "Sharpe" in server.texts[0] and "&lt; 50.00" in server.texts[0]
    report = (home / "reports" / "model_selection" / "model_selection_report.md").read_text()
    assert "No new champion" in report and "50.00" in report


def test_rollback_from_the_command_line_restores_the_previous_champion_exactly(selected, tmp_path):
    import shutil

    from typer.testing import CliRunner

    from app.cli import app
    from flows.champion_selection import champion_selection

    base, config, _ = selected
    home = tmp_path / "home"
    shutil.copytree(base, home)
    first = production(home)
    other = tmp_path / "other.yaml"
    other.write_text(
        config.read_text().replace("optimizers: [equal_weight, inverse_vol]", "optimizers: [hrp]")
    )
    champion_selection(home=str(home), config=str(other))
    assert (
        json.loads((home / "production" / "champion_metadata.json").read_text())["optimizer"]
        == "hrp"
    )

    outcome = CliRunner().invoke(app, ["rollback", "--home", str(home)])

    assert outcome.exit_code == 0, outcome.output
    assert "champion restored" in outcome.output
    current = production(home)
    assert {k: current[k] for k in first} == first
    metadata = json.loads(current["champion_metadata.json"])
    assert metadata["optimizer"] != "hrp"
    again = CliRunner().invoke(app, ["rollback", "--home", str(home)])
    assert again.exit_code == 3 and "no earlier champion" in again.output
