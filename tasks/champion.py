"""Model tasks: saving a training run's candidates, and finding the model a daily run scores with.

The champion is the promoted production model; before any promotion the latest training run's
best candidate stands in, and before any training a LightGBM is fitted on the spot. Every
fallback is said in the report (`ModelInfo.warnings`).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

import pandas as pd
from prefect import get_run_logger

from settings import Settings
from tasks.options import step
from tasks.research import provenance, trainer_for
from trading_core.data.market import MarketData
from trading_core.features.library import feature_set, skipped
from trading_core.home import Home
from trading_core.io import atomic_write_text, replace_directory, to_csv
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


def _known_before(trained_through: str, before: date | None) -> bool:
    """Whether labels through `trained_through` end before `before` (always, without `before`)."""
    return before is None or pd.Timestamp(trained_through) < pd.Timestamp(before)


def latest_candidate(home: Home, before: date | None = None) -> Path | None:
    """The folder of the best candidate (test rank IC) of the latest training run, if any."""
    found = []
    for path in sorted(home.candidates.glob("*/metadata.json")):
        meta = read_metadata(path)
        if _known_before(meta["trained_through"], before):
            rank_ic = meta.get("test_metrics", {}).get("rank_ic")
            score = rank_ic if rank_ic is not None and rank_ic == rank_ic else float("-inf")
            found.append((meta["trained_through"], score, path.parent))
    return max(found, key=lambda item: item[:2])[2] if found else None


def has_champion(settings: Settings) -> bool:
    """Whether a production model has been promoted in this home."""
    return (Home(settings.home).production / CHAMPION_METADATA).exists()


@step("save-candidates")
def save_candidates(
    results: list[CandidateResult],
    research: ResearchPlan,
    dataset: Dataset,
    data: MarketData,
    factors: FactorEvidence,
    settings: Settings,
) -> Path:
    """Each candidate in its own folder under models/candidates/, the comparison table (with
    each candidate's factor figures) and the factor tear sheet page beside it."""
    home = Home(settings.home)
    missing = skipped(feature_set(**settings.features.model_dump()), data)
    for r in results:
        target = home.candidates / r.name
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{r.name}."))
        try:
            save_model(
                r.model,
                staging,
                {
                    **provenance(data, dataset, settings, research.pre_test, missing),
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
    dataset: Dataset, data: MarketData, settings: Settings, before: date | None = None
) -> tuple[Scorer, ModelInfo]:
    """The production model; else the latest candidate; else a LightGBM trained on the spot.

    Every fallback is said in the report: the warnings of the returned `ModelInfo`. With `before`
    (a replay of past sessions), a model whose training labels reach `before` or later has seen
    the replayed period and is not used.
    """
    logger = get_run_logger()
    home = Home(settings.home)
    warning = (
        "no production model yet: a LightGBM was trained on the spot for this run and not "
        "promoted (run `alphapilot select`)"
    )
    if (home.production / CHAMPION_METADATA).exists():
        model = load_model(home.production, CHAMPION_METADATA)
        trained_through = model.metadata["trained_through"]
        if _known_before(trained_through, before):
            logger.info("scoring with champion %s trained through %s", model.name, trained_through)
            return model, ModelInfo.from_record(model.metadata)
        warning = (
            f"the production model was trained through {trained_through}, after {before}: a "
            "LightGBM was trained on the spot on the labels known by then, so the replay never "
            "scores with a model that saw its future"
        )
    elif (latest := latest_candidate(home, before)) is not None:
        model = load_model(latest)
        note = (
            f"no production model yet: scoring with candidate {model.name} (trained through "
            f"{model.metadata['trained_through']}, the latest training run's best test rank IC), "
            "not promoted (run `alphapilot select`)"
        )
        logger.warning(note)
        return model, ModelInfo.from_record(model.metadata, [note])
    logger.warning(warning)
    known = fit_history(dataset.horizon, dataset.known_after - dataset.horizon)
    require_history(data.dates, known, "a model trained on the spot")
    dates = dataset.labeled_dates
    model = fit_on(
        trainer_for(settings), "lightgbm", dataset, dates, settings.modeling.sample_stride
    )
    missing = skipped(feature_set(**settings.features.model_dump()), data)
    record = {
        **provenance(data, dataset, settings, dates, missing),
        "model_name": model.name,
        "features": model.features,
    }
    return model, ModelInfo.from_record(record, [warning])
