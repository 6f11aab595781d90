"""Flow: bring the local market-data store up to date from the configured provider."""

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
    home: str | None = None,
    config: str | None = None,
) -> UpdateResult:
    """Update <home>/data from a provider (bundled, synthetic or folder); idempotent.

    Args:
        provider: overrides `data.provider` from the settings.
        path: data folder for the folder provider (overrides `data.path`).
        home: alphapilot home directory (default $ALPHAPILOT_HOME or ./alphapilot_home).
        config: a YAML settings file layered over the defaults.
    """
    overrides = {}
    if provider or path:
        overrides["data"] = {k: v for k, v in (("provider", provider), ("path", path)) if v}
    settings = load_settings(config, home, **overrides)
    with home_lock(settings, f"data-update {settings.data.provider}", get_run_logger().info):
        return update_market_data(settings)
