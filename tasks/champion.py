"""Model tasks: saving a training run's candidates, and finding the model a daily run scores with.

The champion is the promoted production model; before any promotion the latest training run's
best candidate stands in, and before any training a LightGBM is fitted on the spot. Every
fallback is said in the report (`ModelInfo.warnings`).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import get_run_logger

from tasks.options import step
from tasks.research import provenance, trainer_for
from tasks.sections import ModelSetup
from trading_core.data.market import MarketData
from trading_core.features.library import feature_set, skipped
from trading_core.home import Home
from trading_core.io import atomic_write_text, replace_directory, to_csv
from trading_core.ml.champion_choice import choose_model
from trading_core.ml.dataset import Dataset
from trading_core.ml.model_info import ModelInfo
from trading_core.ml.registry import load_model, read_metadata, save_model
from trading_core.ml.research import (
    CandidateResult,
    ResearchPlan,
    fit_history,
    fit_on,
    require_history,
)
from trading_core.ml.scorer import Scorer
from trading_core.reporting.factor_report import (
    TRAINING_FACTOR_FILE,
    FactorEvidence,
    training_factor_html,
)
from trading_core.selection.champion import comparison_table
from trading_core.selection.production import CHAMPION_METADATA


def has_champion(home: Home) -> bool:
    """Whether a production model has been promoted in this home."""
    return (home.production / CHAMPION_METADATA).exists()


def candidate_records(home: Home) -> Iterator[tuple[Path, dict[str, Any]]]:
    """(folder, metadata) of every saved candidate, read as the choice asks for them."""
    for path in sorted(home.candidates.glob("*/metadata.json")):
        yield path.parent, read_metadata(path)


@step("save-candidates")
def save_candidates(
    results: list[CandidateResult],
    research: ResearchPlan,
    dataset: Dataset,
    data: MarketData,
    factors: FactorEvidence,
    setup: ModelSetup,
    home: Home,
) -> Path:
    """Each candidate in its own folder under `home`'s models/candidates/, the comparison table
    (with each candidate's factor figures) and the factor tear sheet page beside it."""
    missing = skipped(feature_set(**setup.features.model_dump()), data)
    for r in results:
        target = home.candidates / r.name
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{r.name}."))
        try:
            save_model(
                r.model,
                staging,
                {
                    **provenance(data, dataset, setup, research.pre_test, missing),
                    "research_plan": research.describe(),
                    "params": r.params,
                    "test_metrics": r.test_metrics,
                    "cv_metrics": r.cv_metrics,
                    "tuning": r.tuning,
                },
            )
            staging.chmod(0o755)
            replace_directory(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    table = with_factor_columns(comparison_table(results), factors)
    path = home.selection_reports / "training_comparison.csv"
    atomic_write_text(path, to_csv(table))
    page = home.selection_reports / TRAINING_FACTOR_FILE
    atomic_write_text(page, training_factor_html(factors, data.last_date))
    get_run_logger().info(
        "candidates saved under %s; comparison in %s; factor tear sheet of %s in %s",
        home.candidates,
        path,
        factors.featured,
        page,
    )
    return path


# the compact factor row's other figures, the mean rank IC and its t-statistic, are the
# comparison's rank_ic and rank_ic_t_stat already (every label transform keeps each day's ranks)
FACTOR_COLUMNS = ("annualized_spread", "rank_autocorrelation")


def with_factor_columns(table: pd.DataFrame, factors: FactorEvidence) -> pd.DataFrame:
    """The comparison table with each model's FACTOR_COLUMNS appended."""
    extra = {c: [factors.rows[model][c] for model in table["model"]] for c in FACTOR_COLUMNS}
    return table.assign(**extra)


@step("load-champion")
def load_champion(
    dataset: Dataset,
    data: MarketData,
    setup: ModelSetup,
    home: Home,
    session: date | None = None,
) -> tuple[Scorer, ModelInfo]:
    """The production model; else the latest candidate; else a LightGBM trained on the spot.

    Which one, and the warning a fallback reports, is `choose_model`'s decision; this step reads
    the records, loads or fits the model and logs the choice. With `session` (the first of a
    replay of past sessions), a model whose training labels reach `session` or later is not used.
    """
    logger = get_run_logger()
    champion = None
    if (home.production / CHAMPION_METADATA).exists():
        champion = load_model(home.production, CHAMPION_METADATA)
    choice = choose_model(champion.metadata if champion else None, candidate_records(home), session)
    if choice.source == "champion":
        assert champion is not None
        trained_through = champion.metadata["trained_through"]
        logger.info("scoring with champion %s trained through %s", champion.name, trained_through)
        return champion, ModelInfo.from_record(champion.metadata)
    assert choice.warning is not None  # every fallback says why (ModelChoice)
    logger.warning(choice.warning)
    if choice.source == "candidate":
        assert choice.folder is not None
        model = load_model(choice.folder)
        return model, ModelInfo.from_record(model.metadata, [choice.warning])
    known = fit_history(dataset.horizon, dataset.known_after - dataset.horizon)
    require_history(data.dates, known, "a model trained on the spot")
    dates = dataset.labeled_dates
    fitted = fit_on(trainer_for(setup), "lightgbm", dataset, dates, setup.modeling.sample_stride)
    missing = skipped(feature_set(**setup.features.model_dump()), data)
    record = {
        **provenance(data, dataset, setup, dates, missing),
        "model_name": fitted.name,
        "features": fitted.features,
    }
    return fitted, ModelInfo.from_record(record, [choice.warning])
