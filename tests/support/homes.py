"""A small synthetic alphapilot home for the hardening tests: data, a champion, one applied day."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from app.cli import app
from trading_core.data.folder import write_folder
from trading_core.data.market import MarketData
from trading_core.data.synthetic import generate_synthetic_market

# a 12-name universe holding 10: without the rank buffer every run re-ranks the names, so each
# day has trades for the approval, safety and crash cases to act on
FAST = "modeling:\n  lightgbm: {n_estimators: 40}\nportfolio:\n  rank_buffer: 0\n"
# a champion selection of a few seconds: two candidates, two optimizers, thresholds all pass
SELECTION = """
modeling:
  test_sessions: 126
  cv: {folds: 2, validation_sessions: 63}
  lightgbm: {n_estimators: 30}
  random_forest: {n_estimators: 10}
model_selection:
  candidates: [lightgbm, random_forest]
  optimizers: [equal_weight, inverse_vol]
  thresholds: {sharpe_min: -10, max_drawdown_max: -1.0, calmar_min: -10, turnover_max: 10}
portfolio: {top_k: 4, max_weight: 0.3}
live: {max_position_pct: 0.3}
risk: {max_sector_weight: 0.6}
"""


@dataclass(frozen=True)
class SmallHome:
    """The home, its config file, the market, the applied day and the next session (not run)."""

    home: Path
    config: Path
    data: MarketData
    first: str
    day: str


def champion_model(data: MarketData, config: Path, home: Path):
    """A small LightGBM fitted on `data` up to a month before its end, and its champion metadata."""
    from settings import load_settings
    from tasks.research import dataset_for, provenance, trainer_for
    from tasks.sections import ModelSetup
    from trading_core.ml.research import fit_on

    settings = load_settings(str(config), str(home))
    history = data.as_of(data.dates[-30])
    setup = ModelSetup.of(settings)
    dataset = dataset_for(history, setup)
    model = fit_on(trainer_for(setup), "lightgbm", dataset, dataset.labeled_dates, 5)
    metadata = provenance(history, dataset, setup, dataset.labeled_dates, [])
    return model, {**metadata, "model": "lightgbm", "optimizer": "inverse_vol"}


def build_small_home(root: Path) -> SmallHome:
    """12 synthetic stocks over 2 years through the CLI: stored, a champion promoted, the
    second-to-last session run and applied; the last session is left for the test."""
    from trading_core.selection.production import ProductionStore

    market = generate_synthetic_market(symbols=12, years=2, seed=9, ic=0.1)
    config = root / "fast.yaml"
    config.write_text(FAST)
    home = root / "home"
    write_folder(market.data, root / "source")
    runner = CliRunner()
    cli = ["--home", str(home), "--config", str(config)]
    update = ["data", "update", "--provider", "folder", "--path", str(root / "source"), *cli]
    result = runner.invoke(app, update)
    assert result.exit_code == 0, result.output
    model, metadata = champion_model(market.data, config, home)
    ProductionStore(home / "production").promote(model, metadata)
    first, day = (f"{d:%Y-%m-%d}" for d in market.data.dates[-2:])
    result = runner.invoke(app, ["daily", "--date", first, *cli])
    assert result.exit_code == 0, result.output
    return SmallHome(home, config, market.data, first, day)
