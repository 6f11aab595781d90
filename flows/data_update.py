"""Flow: bring the local market-data store up to date from its source (given, set or recorded)."""

from prefect import flow, get_run_logger

from settings import load_settings
from tasks.components import home_lock
from tasks.data import update_market_data
from tasks.notify import alert_on_failure
from trading_core.data.store import UpdateResult


@flow(
    name="data-update",
    log_prints=True,
    on_failure=[alert_on_failure],
    on_crashed=[alert_on_failure],
)
def data_update(
    provider: str | None = None,
    path: str | None = None,
    replace: bool = False,
    home: str | None = None,
    config: str | None = None,
) -> UpdateResult:
    """Update <home>/data from a provider (bundled, synthetic or folder); idempotent.

    The home records the source of its data. An update with no provider uses `data.provider`
    when your settings set it, else the recorded source, else bundled (docs/reference/data.md,
    "Where the data comes from"); another source than the recorded one is refused unless `replace`.

    Args:
        provider: data provider to use: bundled, synthetic or folder (default: see above).
        path: data folder for the folder provider (a path alone means the folder provider).
        replace: replace the store's data when this source differs from the recorded one.
        home: alphapilot home directory (default $ALPHAPILOT_HOME or ./alphapilot_home).
        config: a YAML settings file layered over the defaults.
    """
    settings = load_settings(config, home)
    with home_lock(settings.home, settings.orchestration, "data-update", get_run_logger().info):
        return update_market_data(settings, provider, path, replace)
