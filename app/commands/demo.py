"""`alphapilot demo`: the whole job on the bundled S&P 500 data, in three steps."""

from __future__ import annotations

import os

import typer

from app.commands.champion import RESEARCH_LIBRARIES, print_champion
from app.commands.daily import print_daily
from app.options import ConfigOption, HomeOption, path_str
from app.steps import check_settings, run_flow, start_prefect_early

DEMO_TUNING_TRIALS = 8


def demo_cmd(home: HomeOption = None, config: ConfigOption = None) -> None:
    """The whole job on the bundled S&P 500 data: data update, champion selection, daily run."""
    # A demo-sized tuning budget, unless the user set one: the full search is `alphapilot train`.
    os.environ.setdefault("ALPHAPILOT__MODELING__TUNING__TRIALS", str(DEMO_TUNING_TRIALS))
    settings = check_settings(config, home)
    start_prefect_early("skfolio", *RESEARCH_LIBRARIES)
    from app.logfile import log_to
    from flows.champion_selection import champion_selection
    from flows.daily_live import daily_live
    from flows.data_update import data_update
    from trading_core.data.store import MarketStore
    from trading_core.home import Home

    typer.echo(f"[1/3] data update (bundled S&P 500) into {settings.home}")
    run_flow(
        lambda: data_update(provider="bundled", home=str(settings.home), config=path_str(config))
    )
    log_to(settings.home)  # the home exists now
    dates = MarketStore(Home(settings.home).data).load().dates
    last = dates[-1].date()
    # Select on data that ends before the monitoring window, so the daily run can show live IC.
    cutoff = dates[-(settings.ops.ic_lookback_days + settings.modeling.label_horizon + 1)].date()
    typer.echo(
        f"[2/3] champion selection on data up to {cutoff} (the daily run then monitors the "
        f"model on the {settings.ops.ic_lookback_days} sessions it has not seen); "
        f"{settings.modeling.tuning.trials} Optuna trials for xgboost_tuned"
    )
    champion = run_flow(
        lambda: champion_selection(as_of=cutoff, home=str(settings.home), config=path_str(config))
    )
    print_champion(champion)
    typer.echo(f"[3/3] daily run for {last}, the last session in the data")
    result = run_flow(
        lambda: daily_live(run_date=last, home=str(settings.home), config=path_str(config))
    )
    print_daily(result)
