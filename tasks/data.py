"""Data tasks: update the local store from a provider, check the session, load data as of a date."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import get_run_logger
from prefect.artifacts import create_table_artifact
from pydantic_settings import EnvSettingsSource, YamlConfigSettingsSource

from settings import Settings
from settings.data import DataSettings
from settings.model import DEFAULT_CONFIG
from settings.runtime import OrchestrationSettings
from tasks.options import cached, outside_world, step
from trading_core.data.adjust import RawHistory
from trading_core.data.calendar import last_closed_session, market_today
from trading_core.data.folder import read_sectors
from trading_core.data.market import MarketData
from trading_core.data.providers import DataProvider, make_provider
from trading_core.data.quality import QualityPolicy, QualityRefusal, QualityReport, symbol_rows
from trading_core.data.source import DataSource, choose_source
from trading_core.data.store import MarketStore, UpdateResult
from trading_core.data.universe import coverage_notes, read_universe, validate_members
from trading_core.data.validation import validate_universe
from trading_core.data.vendors.base import Vendor
from trading_core.data.vendors.fetching import RetryPolicy
from trading_core.data.vendors.provider import VENDORS, Fetched, VendorProvider, VendorUpdate
from trading_core.errors import ConfigError, DataError
from trading_core.home import Home
from trading_core.io import atomic_write_text, digest
from trading_core.live.operations import LivePortfolioManager, Session

ASKED_BY_UPDATE = "--provider/--path"
ASKED_BY_SETTINGS = "data.* in your config file or environment"
QUALITY_FILE = "quality.json"


def provider_for(source: DataSource) -> DataProvider:
    """The data provider that reads `source`."""
    return make_provider(source.provider, **source.params)


def config_files(settings_cls: type[Settings]) -> list[Path]:
    """The YAML files `settings_cls` reads, which settings.loader names as a list of paths
    (pydantic-settings would also take one path, or a packaged resource)."""
    named = settings_cls.model_config.get("yaml_file") or []
    if isinstance(named, list):
        paths = [Path(f) for f in named if isinstance(f, str | Path)]
        if len(paths) == len(named):
            return paths
    raise ConfigError(f"the settings' yaml_file is not a list of paths: {named!r}")


def configured_source(settings: Settings) -> dict[str, Any]:
    """The source fields (provider, path, synthetic.*) the user's config file or environment set.

    The packaged defaults (settings/config.yaml) set every field too, so the settings object
    cannot tell the two apart (`model_fields_set` holds them all): this reads the user's layers
    themselves, and takes the values from the validated settings.
    """
    cls = type(settings)
    files = [f for f in config_files(cls) if f != DEFAULT_CONFIG]
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
    """The source an update uses and where that choice came from (docs/reference/data.md, "Where
    the data comes from"): the provider/path given to the update, else those the user's settings
    set, else the source recorded in the home, else the default provider (bundled). A provider's
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
    identity = digest(sorted(source.to_record().items()), parameters["start_date"])
    return f"fetch-{provider_for(source).revision()}-{identity}-{market_today()}"


@step("fetch-market-data")
def fetch_market_data(source: DataSource, start_date: date | None) -> MarketData:
    """The validated history of a bundled, synthetic or folder source (from `start_date`,
    `data.start_date`, when set): the flows retry it (`tasks.options.outside_world`) and cache it
    (`tasks.options.cached` on `fetch_key`), both from settings. Network vendors go through
    `vendor_update` instead, which retries each symbol.
    """
    logger = get_run_logger()
    logger.info("fetching market data from %s", source.describe())
    data = provider_for(source).fetch()
    log_universe(data)
    return data if start_date is None else data.since(start_date)


def log_universe(data: MarketData) -> None:
    """Say whether the data has a point-in-time universe, and which names it leaves unpriced or
    unlisted."""
    logger = get_run_logger()
    if data.universe is None:
        logger.info(
            "no point-in-time universe given: every priced name counts as a member on every date"
        )
        return
    logger.info("universe: %d membership span(s)", len(data.universe))
    for note in coverage_notes(data.universe, data.symbols):
        logger.warning("universe: %s", note)


def make_vendor(name: str, data: DataSettings, home: Home) -> Vendor:
    """The configured client of vendor `name` (the key from the secret settings)."""
    timeout = data.vendor.timeout_seconds
    if name == "tiingo":
        from trading_core.data.vendors.tiingo import TiingoVendor

        tiingo = data.tiingo
        return TiingoVendor(
            api_key=tiingo.api_key, base_url=tiingo.base_url, timeout_seconds=timeout
        )
    from trading_core.data.vendors.yahoo import YahooVendor

    return YahooVendor(timeout_seconds=timeout, cache_dir=home.cache / "yfinance")


def vendor_provider(
    name: str, data: DataSettings, orchestration: OrchestrationSettings, home: Home
) -> VendorProvider:
    """Vendor `name` set up from `data.vendor` (what to fetch, how gently) and the retries of
    `orchestration`."""
    v, o = data.vendor, orchestration
    return VendorProvider(
        name,
        vendor=make_vendor(name, data, home),
        symbols=tuple(v.symbols),
        universe=read_universe(v.universe) if v.universe is not None else None,
        sectors=read_sectors(v.sectors) if v.sectors is not None else None,
        benchmark=v.benchmark or None,
        history_start=v.history_start,
        overlap_sessions=v.overlap_sessions,
        batch_size=v.batch_size,
        pause_seconds=v.pause_seconds,
        retry=RetryPolicy(o.retries, o.retry_delay_seconds, v.max_delay_seconds),
    )


def vendor_fetch_key(parameters: dict[str, Any]) -> str:
    """A vendor fetch is reused for the same vendor, windows and last session, on the same New
    York date: an update run again after a refusal asks the vendor nothing."""
    provider: VendorProvider = parameters["provider"]
    windows = sorted(
        (symbol, f"{start:%Y-%m-%d}") for symbol, start in parameters["starts"].items()
    )
    last = f"{parameters['end']:%Y-%m-%d}"
    return f"vendor-{provider.name}-{digest(windows, last)}-{market_today()}"


@step("fetch-vendor-data")
def fetch_vendor_data(
    provider: VendorProvider, starts: dict[str, pd.Timestamp], end: pd.Timestamp
) -> Fetched:
    """Each symbol's sessions from its start (the store's last, less a few to see revisions) to
    `end` from a network vendor; per-symbol retries with backoff inside (the step itself is not
    retried: that would ask again for what already came)."""
    logger = get_run_logger()

    def progress(done: int, total: int) -> None:
        logger.info("%s: %d of %d symbols fetched", provider.name, done, total)

    fetched = provider.fetch_new(starts, end, progress=progress)
    logger.info(
        "%s: %d symbols fetched up to %s, %d rate-limit answer(s) waited out",
        provider.name,
        fetched.symbols,
        f"{end:%Y-%m-%d}",
        fetched.rate_limited,
    )
    return fetched


def vendor_update(
    provider: VendorProvider,
    stored: RawHistory | None,
    orchestration: OrchestrationSettings,
    home: Home,
) -> VendorUpdate:
    """Fetch (cached for the day) what the store lacks and merge it into the stored history,
    saying which symbols the vendor revised or no longer knows."""
    end = last_closed_session()
    fetch = cached(fetch_vendor_data, orchestration, home, vendor_fetch_key)
    update = provider.merge(stored, fetch(provider, provider.starts(stored, end), end))
    log_universe(update.data)
    logger = get_run_logger()
    if update.revised:
        logger.warning(
            "%s revised stored history of %s: adjusted series derived again",
            provider.name,
            ", ".join(update.revised),
        )
    if update.vanished:
        logger.warning(
            "%s no longer knows %s: stored history kept; if delisted, end its membership in "
            "universe.csv",
            provider.name,
            ", ".join(update.vanished),
        )
    return update


@step("store-market-data")
def store_market_data(
    data: MarketData,
    source: DataSource,
    replace: bool,
    policy: QualityPolicy,
    home: Home,
    raw: RawHistory | None = None,
) -> UpdateResult:
    """Merge fetched data into the store and record its source (idempotent: unchanged data from
    the recorded source writes nothing); with `replace`, data of another source replaces it.

    What the gap policy and the jump check found is written to `<home>/data/quality.json` and a
    Prefect table artifact, whether the data was imported or refused.
    """
    try:
        result = MarketStore(home.data).update(data, policy, source, replace, raw)
    except QualityRefusal as refusal:
        path = publish_quality(refusal.report, home)
        raise DataError(f"{refusal} (data-quality report: {path})") from None
    if result.quality is not None:  # always: MarketStore.update assesses what it stores
        publish_quality(result.quality, home)
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


def quality_policy(data: DataSettings) -> QualityPolicy:
    """What an import tolerates, from `data.*`."""
    d = data
    return QualityPolicy(d.max_gap_sessions, d.max_stale_sessions, d.max_daily_jump)


def publish_quality(report: QualityReport, home: Home) -> Path:
    """Write the quality report to `<home>/data/quality.json`, log its summary and attach it as
    the `data-quality` table artifact (one row per symbol with something to say)."""
    path = home.data / QUALITY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(report.to_dict(), indent=2))
    logger = get_run_logger()
    logger.info("data quality: %s (%s)", report.summary(), path)
    for hole in report.session_holes:
        logger.warning(
            "session hole on %s: %d of %d names have no row",
            hole["date"],
            hole["missing"],
            hole["listed"],
        )
    create_table_artifact(
        key="data-quality",
        table=symbol_rows(report) or [{"symbol": "(none)", "note": "nothing to report"}],
        description=f"Data quality: {report.summary()}"
        + (f". Refused: {report.refusal}" if report.refusal else ""),
    )
    return path


def update_market_data(
    settings: Settings, provider: str | None = None, path: str | None = None, replace: bool = False
) -> UpdateResult:
    """Choose the source, refuse a change of source unless `replace` (before any fetch), fetch
    (retried, cached) and store: the data-update step of every flow that needs it.

    It takes the whole `Settings` because the source choice reads the user's own layers (their
    config file and environment, `configured_source`); the steps it runs receive sections."""
    home, o, policy = Home(settings.home), settings.orchestration, quality_policy(settings.data)
    store = MarketStore(home.data)
    recorded = store.source()
    source, origin = choose_data_source(settings, recorded, provider, path)
    logger = get_run_logger()
    logger.info("data source: %s, from %s", source.describe(), origin)
    if recorded is not None and store.check_source(source, replace, asked_by=origin):
        logger.warning(
            "replacing the store's data from %s with %s (replace requested)",
            recorded.describe(),
            source.describe(),
        )
    elif store.exists() and (recorded is None or recorded.inferred):
        logger.info("the store predates recorded sources: recording %s", source.describe())
    if source.provider in VENDORS:
        stored = None if store.source() != source else store.raw()
        provider_of = vendor_provider(source.provider, settings.data, o, home)
        update = vendor_update(provider_of, stored, o, home)
        start = settings.data.start_date
        data = update.data if start is None else update.data.since(start)
        return store_market_data(data, source, replace, policy, home, update.raw)
    fetch = cached(outside_world(fetch_market_data, o), o, home, fetch_key)
    fetched = fetch(source, settings.data.start_date)
    return store_market_data(fetched, source, replace, policy, home)


@step("preflight")
def preflight(home: Home, session: date, today: date) -> Session:
    """Is `session` a trading session the stored data covers?"""
    manifest = MarketStore(home.data).manifest()
    return LivePortfolioManager.preflight(
        session, pd.Timestamp(manifest["first_date"]), pd.Timestamp(manifest["last_date"]), today
    )


@step("load-market-data")
def load_market_data(home: Home, as_of: date | None = None) -> MarketData:
    """The stored data as a person had it at the close of `as_of` (every later row removed)."""
    data = MarketStore(home.data).load(as_of)
    if as_of is not None and data.last_date.date() != as_of:
        raise DataError(f"the market data has no prices for {as_of}")
    validate_universe(data)
    validate_members(data)
    get_run_logger().info(
        "loaded %d symbols x %d sessions up to %s (%s)",
        len(data.symbols),
        len(data.dates),
        f"{data.last_date:%Y-%m-%d}",
        data.source,
    )
    return data
