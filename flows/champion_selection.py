"""Flow: train the candidates, compare them out of sample, promote the best to production."""

from __future__ import annotations

from datetime import date

from prefect import flow

from flows.training import train_all
from settings import load_settings
from tasks.research import promote_champion


@flow(name="champion-selection")
def champion_selection(
    as_of: date | None = None, home: str | None = None, config: str | None = None
) -> dict:
    """Pick the production model by test-period rank IC and save it to <home>/production/.

    Args:
        as_of: use data up to the close of this date only (default: all stored data).
        home: alphapilot home directory (default $ALPHAPILOT_HOME or ./alphapilot_home).
        config: a YAML settings file layered over the defaults.
    """
    run = train_all(load_settings(config, home), as_of)
    champion = promote_champion(run.results, run.dataset, run.data, run.settings)
    return {**champion, "comparison": run.comparison}
