"""`alphapilot data update | synth`: the home's market-data store, synthetic data folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from app.answers import reply
from app.invocation import Invocation
from app.options import ConfigOption, HomeOption, JsonOption, path_str
from app.steps import check_settings, run, run_flow, start_prefect_early


def data_update_cmd(
    provider: Annotated[
        Optional[str],
        typer.Option(
            help="bundled | synthetic | folder | yfinance | tiingo (default: data.provider if "
            "your settings set it, else the source recorded in the home, else bundled)."
        ),
    ] = None,
    path: Annotated[
        Optional[Path], typer.Option(help="Data folder for the folder provider.")
    ] = None,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Replace the store's data if it comes from another source."),
    ] = False,
    home: HomeOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Update the local market-data store (incremental and idempotent) from its source."""
    Invocation.json = as_json
    settings = check_settings(config, home)
    start_prefect_early()
    from dataclasses import asdict

    from flows.data_update import data_update
    from trading_core.home import Home

    result = run_flow(
        lambda: data_update(
            provider=provider,
            path=path_str(path),
            replace=replace,
            home=path_str(home),
            config=path_str(config),
        )
    )
    state = "replaced" if result.replaced else "updated" if result.changed else "unchanged"
    quality_file = Home(settings.home).data / "quality.json"
    summary = result.quality.summary() if result.quality else "not assessed"
    reply(
        {
            "status": "ok",
            **asdict(result),
            "quality": {"summary": summary, "file": quality_file},
            "store": Home(settings.home).data,
        },
        lambda: typer.echo(
            f"market data {state} from {result.source}: {result.symbols} symbols, "
            f"{result.first_date}..{result.last_date}, fingerprint {result.fingerprint}\n"
            f"data quality: {summary} ({quality_file})"
        ),
    )


def data_synth_cmd(
    out: Annotated[Path, typer.Option(help="Folder to write the dataset to.")],
    symbols: Annotated[int, typer.Option(help="Number of stocks.")] = 50,
    years: Annotated[float, typer.Option(help="Years of daily sessions.")] = 8,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    ic: Annotated[
        float, typer.Option(help="Oracle information coefficient of the planted signal.")
    ] = 0.05,
    drift: Annotated[
        float,
        typer.Option(
            help="Market drift per session; 0 leaves no premium for beta (the oracle is a ceiling)."
        ),
    ] = 0.0003,
    fmt: Annotated[str, typer.Option("--format", help="csv | csv.gz | parquet")] = "csv",
) -> None:
    """Write a synthetic data folder with a planted signal of known IC."""
    from trading_core.data.folder import write_folder
    from trading_core.data.synthetic import generate_synthetic_market

    def make():
        market = generate_synthetic_market(
            symbols=symbols, years=years, seed=seed, ic=ic, market_drift=drift
        )
        return market, write_folder(market.data, out, fmt=fmt)

    market, path = run(make)
    by_execution = ", ".join(f"{e} {v:.4f}" for e, v in market.oracle_ic_by_execution.items())
    typer.echo(
        f"wrote {path} ({symbols} symbols x {len(market.data.dates)} sessions); "
        f"oracle IC {market.oracle_ic:.4f} (1 day), {market.oracle_ic_horizon:.4f} "
        f"({market.horizon} days; {by_execution})"
    )
