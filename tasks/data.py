"""Data tasks: update the local store from a provider, check the session, load data as of a date."""

from __future__ import annotations

from datetime import date

import pandas as pd
from prefect import get_run_logger

from settings import Settings
from tasks.options import cached, outside_world, step
from trading_core.data.calendar import market_today
from trading_core.data.market import MarketData
from trading_core.data.providers import DataProvider, make_provider
from trading_core.data.store import MarketStore, UpdateResult
from trading_core.data.validation import validate_universe
from trading_core.errors import DataError
from trading_core.home import Home
from trading_core.io import digest
from trading_core.live.operations import LivePortfolioManager, Session


def provider_for(settings: Settings) -> DataProvider:
    """The data provider the settings name."""
    cfg = settings.data
    return make_provider(
        cfg.provider,
        path=cfg.path,
        symbols=cfg.synthetic.symbols,
        years=cfg.synthetic.years,
        seed=cfg.synthetic.seed,
        ic=cfg.synthetic.ic,
    )


def fetch_key(parameters: dict) -> str:
    """A fetch is reused for the same source revision, data settings and New York date."""
    settings: Settings = parameters["settings"]
    source = digest(settings.data.model_dump_json())
    return f"fetch-{provider_for(settings).revision()}-{source}-{market_today()}"


@step("fetch-market-data")
def fetch_market_data(settings: Settings) -> MarketData:
    """The configured provider's validated history (from `data.start_date` when set).

    The one step that talks to a vendor: the flows retry it (`tasks.options.outside_world`) and
    cache it (`tasks.options.cached` on `fetch_key`), both from settings.
    """
    provider = provider_for(settings)
    get_run_logger().info("fetching market data from the %s provider", provider.name)
    data = provider.fetch()
    start = settings.data.start_date
    return data if start is None else data.since(start)


@step("store-market-data")
def store_market_data(data: MarketData, settings: Settings) -> UpdateResult:
    """Merge fetched data into the store (idempotent: unchanged data writes nothing)."""
    result = MarketStore(Home(settings.home).data).update(data, settings.data.max_daily_jump)
    get_run_logger().info(
        "store %s: %d symbols, %s..%s, fingerprint %s, %d rows added%s",
        "updated" if result.changed else "unchanged",
        result.symbols,
        result.first_date,
        result.last_date,
        result.fingerprint,
        result.rows_added,
        " (history revised: store rewritten)" if result.history_revised else "",
    )
    return result


def update_market_data(settings: Settings) -> UpdateResult:
    """Fetch (retried, cached) then store: the data-update step of every flow that needs it."""
    fetch = cached(outside_world(fetch_market_data, settings), settings, fetch_key)
    return store_market_data(fetch(settings), settings)


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
