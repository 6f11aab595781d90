"""Flow: train the candidates, compare them out of sample, promote the best to production."""

from __future__ import annotations

from datetime import date

import pandas as pd
from prefect import flow

from settings import load_settings
from tasks.data import load_market_data
from tasks.research import build_features, evaluate, promote_champion
from trading_core.home import Home
from trading_core.io import atomic_write_text, to_csv


@flow(name="champion-selection")
def champion_selection(
    as_of: date | None = None, home: str | None = None, config: str | None = None
) -> dict:
    """Pick the production model by holdout rank IC and save it to <home>/production/.

    Args:
        as_of: use data up to the close of this date only (default: all stored data).
        home: alphapilot home directory (default $ALPHAPILOT_HOME or ./alphapilot_home).
        config: a YAML settings file layered over the defaults.
    """
    settings = load_settings(config, home)
    data = load_market_data(settings, as_of)
    dataset = build_features(data, settings)
    results = evaluate(dataset, settings)
    champion = promote_champion(dataset, data, results, settings)
    comparison = pd.DataFrame(
        [
            {
                "model": r.name,
                "holdout_start": f"{r.holdout_start:%Y-%m-%d}",
                "holdout_end": f"{r.holdout_end:%Y-%m-%d}",
                "rank_ic": r.rank_ic["mean"],
                "rank_icir": r.rank_ic["icir"],
                "ic": r.ic["mean"],
                "days": r.rank_ic["days"],
                "champion": r.name == champion["model"],
            }
            for r in results
        ]
    )
    report = Home(settings.home).selection_reports / "training_comparison.csv"
    atomic_write_text(report, to_csv(comparison))
    return {**champion, "comparison": str(report)}
