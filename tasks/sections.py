"""The settings a task reads, where it needs several sections: small typed bundles.

A task receives the sections it depends on (`settings.portfolio`, `settings.live`, ...), not the
whole `Settings`, so its signature says what changes its result. Where one step genuinely reads
several sections, it takes one of these bundles, built by the flow with `of(settings)`:

- `ModelSetup`: what building features and fitting or describing a model read;
- `TradingRules`: the portfolio, regime, risk, live and kill-switch rules of the daily run and
  of the backtests' portfolios;
- `Alerting`: where alerts go, how delivery is retried, and which secrets no message may show.

Each is frozen and picklable, as task parameters must be (served runs and Dask workers).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from settings import Settings
from settings.portfolio import PortfolioSettings, RegimeSettings, RiskSettings
from settings.research import FeatureSettings, ModelingSettings
from settings.runtime import NotificationSettings, OrchestrationSettings
from settings.trading import KillSwitchSettings, LiveSettings


@dataclass(frozen=True)
class ModelSetup:
    """Features, modeling and the fill convention the labels follow, the seed, and the two
    fingerprints a model's provenance, the feature cache and a tuning study are named by."""

    features: FeatureSettings
    modeling: ModelingSettings
    execution: str  # backtest.execution: when a decision fills, so where labels start
    seed: int
    fingerprint: str  # Settings.fingerprint(): every setting that can change a result
    research_fingerprint: str  # Settings.research_fingerprint(): what a tuning objective reads

    @classmethod
    def of(cls, settings: Settings) -> ModelSetup:
        return cls(
            settings.features,
            settings.modeling,
            settings.backtest.execution,
            settings.seed,
            settings.fingerprint(),
            settings.research_fingerprint(),
        )


@dataclass(frozen=True)
class TradingRules:
    """The rules a portfolio, its trades and their safety checks follow, live and backtested."""

    portfolio: PortfolioSettings
    regime: RegimeSettings
    risk: RiskSettings
    live: LiveSettings
    kill_switch: KillSwitchSettings
    max_stale_sessions: int  # data.max_stale_sessions: how old a price may be to trade on

    @classmethod
    def of(cls, settings: Settings) -> TradingRules:
        return cls(
            settings.portfolio,
            settings.regime,
            settings.risk,
            settings.live,
            settings.ops.kill_switch,
            settings.data.max_stale_sessions,
        )


@dataclass(frozen=True)
class Alerting:
    """The alert channels, the retries of their delivery, and the configured secrets no log line
    or alert may show (the webhook URL, the SMTP password, the Optuna storage URL)."""

    notifications: NotificationSettings
    orchestration: OrchestrationSettings
    secrets: tuple[SecretStr, ...] = ()

    @classmethod
    def of(cls, settings: Settings) -> Alerting:
        n = settings.notifications
        configured = (n.slack_webhook_url, n.email.password, settings.modeling.tuning.storage)
        return cls(n, settings.orchestration, tuple(s for s in configured if s is not None))
