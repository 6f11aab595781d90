"""Data tasks: update the local store from a provider, check the session, load data as of a date."""

from __future__ import annotations

from datetime import date

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from settings import Settings
from trading_core.data.market import MarketData
from trading_core.data.providers import make_provider
from trading_core.data.store import MarketStore, UpdateResult
from trading_core.errors import DataError
from trading_core.home import Home
from trading_core.live.operations import LivePortfolioManager, Session


@task(name="update-market-data", cache_policy=NO_CACHE)
def update_market_data(settings: Settings) -> UpdateResult:
    """Fetch the configured provider's data and merge it into the store (idempotent).

    Retried from settings by the flow (`tasks.options.outside_world`): a vendor can fail.
    """
    logger = get_run_logger()
    cfg = settings.data
    provider = make_provider(
        cfg.provider,
        path=cfg.path,
        symbols=cfg.synthetic.symbols,
        years=cfg.synthetic.years,
        seed=cfg.synthetic.seed,
        ic=cfg.synthetic.ic,
    )
    logger.info("fetching market data from the %s provider", provider.name)
    data = provider.fetch()
    if cfg.start_date is not None:
        data = data.since(cfg.start_date)
    result = MarketStore(Home(settings.home).data).update(data)
    logger.info(
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


@task(name="preflight", cache_policy=NO_CACHE)
def preflight(settings: Settings, run_date: date, today: date) -> Session:
    """Is `run_date` a trading session the stored data covers?"""
    manifest = MarketStore(Home(settings.home).data).manifest()
    return LivePortfolioManager.preflight(
        run_date, pd.Timestamp(manifest["first_date"]), pd.Timestamp(manifest["last_date"]), today
    )


@task(name="load-market-data", cache_policy=NO_CACHE)
def load_market_data(settings: Settings, as_of: date | None = None) -> MarketData:
    """The stored data as a person had it at the close of `as_of` (every later row removed)."""
    data = MarketStore(Home(settings.home).data).load(as_of)
    if as_of is not None and data.last_date.date() != as_of:
        raise DataError(f"the market data has no prices for {as_of}")
    get_run_logger().info(
        "loaded %d symbols x %d sessions up to %s (%s)",
        len(data.symbols),
        len(data.dates),
        f"{data.last_date:%Y-%m-%d}",
        data.source,
    )
    return data
