"""Data tasks: update the local store from a provider, check the session, load data as of a date."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import get_run_logger
from pydantic_settings import EnvSettingsSource, YamlConfigSettingsSource

from settings import Settings
from settings.model import DEFAULT_CONFIG
from tasks.options import cached, outside_world, step
from trading_core.data.calendar import market_today
from trading_core.data.market import MarketData
from trading_core.data.providers import DataProvider, make_provider
from trading_core.data.source import DataSource, choose_source
from trading_core.data.store import MarketStore, UpdateResult
from trading_core.data.validation import validate_universe
from trading_core.errors import ConfigError, DataError
from trading_core.home import Home
from trading_core.io import digest
from trading_core.live.operations import LivePortfolioManager, Session

ASKED_BY_UPDATE = "--provider/--path"
ASKED_BY_SETTINGS = "data.* in your config file or environment"


def provider_for(source: DataSource) -> DataProvider:
    """The data provider that reads `source`."""
    return make_provider(source.provider, **source.params)


def configured_source(settings: Settings) -> dict[str, Any]:
    """The source fields (provider, path, synthetic.*) the user's config file or environment set.

    The packaged defaults (settings/config.yaml) set every field too, so the settings object
    cannot tell the two apart (`model_fields_set` holds them all): this reads the user's layers
    themselves, and takes the values from the validated settings.
    """
    cls = type(settings)
    files = [f for f in cls.model_config.get("yaml_file") or [] if Path(f) != DEFAULT_CONFIG]
    configured: dict[str, Any] = {}
    for layer in (YamlConfigSettingsSource(cls, yaml_file=files)(), EnvSettingsSource(cls)()):
        data = layer.get("data") or {}
        configured.update({k: getattr(settings.data, k) for k in ("provider", "path") if k in data})
        synthetic = data.get("synthetic") or {}
        configured.update({k: getattr(settings.data.synthetic, k) for k in synthetic})
    return configured


def choose_data_source(
    settings: Settings,
    recorded: DataSource | None,
    provider: str | None = None,
    path: str | None = None,
) -> tuple[DataSource, str]:
    """The source an update uses and where that choice came from (docs/data.md, "Where the data
    comes from"): the provider/path given to the update, else those the user's settings set,
    else the source recorded in the home, else the default provider (bundled). A provider's
    fields (folder path, synthetic size and seed) are taken in the same order."""
    layers = {
        ASKED_BY_UPDATE: {"provider": provider, "path": path},
        ASKED_BY_SETTINGS: configured_source(settings),
        "the home's record": {"provider": recorded.provider, **recorded.params} if recorded else {},
        "the defaults": settings.data.synthetic.model_dump(),
    }
    name, arguments, origin = choose_source(layers, default_provider=settings.data.provider)
    if arguments.get("path") is not None:
        arguments["path"] = Path(arguments["path"]).expanduser().resolve()
    try:
        return DataSource.of(make_provider(name, **arguments)), origin
    except ValueError as exc:  # an unknown provider, a folder without a path
        raise ConfigError(f"{exc} (the provider comes from {origin})") from None


def fetch_key(parameters: dict) -> str:
    """A fetch is reused for the same source, its revision, start date and New York date."""
    source: DataSource = parameters["source"]
    settings: Settings = parameters["settings"]
    identity = digest(sorted(source.to_record().items()), settings.data.start_date)
    return f"fetch-{provider_for(source).revision()}-{identity}-{market_today()}"


@step("fetch-market-data")
def fetch_market_data(source: DataSource, settings: Settings) -> MarketData:
    """The source's validated history (from `data.start_date` when set).

    The one step that talks to a vendor: the flows retry it (`tasks.options.outside_world`) and
    cache it (`tasks.options.cached` on `fetch_key`), both from settings.
    """
    get_run_logger().info("fetching market data from %s", source.describe())
    data = provider_for(source).fetch()
    start = settings.data.start_date
    return data if start is None else data.since(start)


@step("store-market-data")
def store_market_data(
    data: MarketData, source: DataSource, replace: bool, settings: Settings
) -> UpdateResult:
    """Merge fetched data into the store and record its source (idempotent: unchanged data from
    the recorded source writes nothing); with `replace`, data of another source replaces it."""
    result = MarketStore(Home(settings.home).data).update(
        data, settings.data.max_daily_jump, source, replace
    )
    get_run_logger().info(
        "store %s from %s: %d symbols, %s..%s, fingerprint %s, %d rows added%s",
        "replaced" if result.replaced else "updated" if result.changed else "unchanged",
        result.source,
        result.symbols,
        result.first_date,
        result.last_date,
        result.fingerprint,
        result.rows_added,
        " (history revised: store rewritten)" if result.history_revised else "",
    )
    return result


def update_market_data(
    settings: Settings, provider: str | None = None, path: str | None = None, replace: bool = False
) -> UpdateResult:
    """Choose the source, refuse a change of source unless `replace` (before any fetch), fetch
    (retried, cached) and store: the data-update step of every flow that needs it."""
    store = MarketStore(Home(settings.home).data)
    recorded = store.source()
    source, origin = choose_data_source(settings, recorded, provider, path)
    logger = get_run_logger()
    logger.info("data source: %s, from %s", source.describe(), origin)
    if store.check_source(source, replace, asked_by=origin):
        logger.warning(
            "replacing the store's data from %s with %s (replace requested)",
            recorded.describe(),
            source.describe(),
        )
    elif store.exists() and (recorded is None or recorded.inferred):
        logger.info("the store predates recorded sources: recording %s", source.describe())
    fetch = cached(outside_world(fetch_market_data, settings), settings, fetch_key)
    return store_market_data(fetch(source, settings), source, replace, settings)


@step("preflight")
def preflight(settings: Settings, run_date: date, today: date) -> Session:
    """Is `run_date` a trading session the stored data covers?"""
    manifest = MarketStore(Home(settings.home).data).manifest()
    return LivePortfolioManager.preflight(
        run_date, pd.Timestamp(manifest["first_date"]), pd.Timestamp(manifest["last_date"]), today
    )


@step("load-market-data")
def load_market_data(settings: Settings, as_of: date | None = None) -> MarketData:
    """The stored data as a person had it at the close of `as_of` (every later row removed)."""
    data = MarketStore(Home(settings.home).data).load(as_of)
    if as_of is not None and data.last_date.date() != as_of:
        raise DataError(f"the market data has no prices for {as_of}")
    validate_universe(data)
    get_run_logger().info(
        "loaded %d symbols x %d sessions up to %s (%s)",
        len(data.symbols),
        len(data.dates),
        f"{data.last_date:%Y-%m-%d}",
        data.source,
    )
    return data
