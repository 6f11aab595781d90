"""Typed settings: defaults from settings/config.yaml, a user YAML file on top, then environment.

Precedence (last wins): packaged defaults < user file (--config / ALPHAPILOT_CONFIG) <
environment (ALPHAPILOT__SECTION__FIELD) < explicit overrides. Unknown keys and invalid values fail
at load with the offending field named.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

DEFAULT_CONFIG = Path(__file__).with_name("config.yaml")

OptimizerName = Literal["max_sharpe", "min_volatility", "hrp", "inverse_vol", "equal_weight"]
SolverName = Literal["CLARABEL", "OSQP", "SCS"]
CandidateName = Literal["lightgbm", "xgboost_default", "xgboost_tuned", "random_forest", "ensemble"]


class Section(BaseModel):
    """A settings section: unknown keys are errors, not silently ignored typos."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def fraction(default: float) -> float:
    """A field holding a fraction in [0, 1]."""
    return Field(default, ge=0.0, le=1.0)


class SyntheticSettings(Section):
    """The synthetic market; `drift` is the market's mean return per session (0: no beta premium,
    so the planted signal's oracle IC is a ceiling)."""

    symbols: int = Field(50, ge=2)
    years: float = Field(8, gt=0)
    ic: float = Field(0.05, gt=-0.5, lt=0.5)
    seed: int = 7
    drift: float = 0.0003


class VendorSettings(Section):
    """What the network vendors (yfinance, tiingo) fetch and how gently (docs/reference/data.md)."""

    symbols: list[str] = Field(default_factory=list)
    universe: Path | None = None  # universe.csv (symbol,start,end): symbols and their membership
    sectors: Path | None = None  # sectors.csv (symbol,sector), as in a data folder
    benchmark: str = "SPY"  # fetched with the symbols; its adjusted close is the benchmark
    history_start: date = date(2015, 1, 2)  # the first session a first fetch asks for
    overlap_sessions: int = Field(5, ge=0)  # sessions fetched again before the store's last
    batch_size: int = Field(50, ge=1)
    pause_seconds: float = Field(1.0, ge=0.0)  # between batches
    timeout_seconds: float = Field(30.0, gt=0.0)  # per request
    max_delay_seconds: float = Field(300.0, gt=0.0)  # the longest backoff between retries


class TiingoSettings(Section):
    """The Tiingo key: set ALPHAPILOT__DATA__TIINGO__API_KEY (never in a committed file)."""

    api_key: SecretStr | None = None
    base_url: str = "https://api.tiingo.com"


class DataSettings(Section):
    provider: Literal["bundled", "synthetic", "folder", "yfinance", "tiingo"] = "bundled"
    path: Path | None = None
    start_date: date | None = None
    max_gap_sessions: int = Field(3, ge=0)
    max_stale_sessions: int = Field(5, ge=1)
    max_daily_jump: float = Field(10.0, gt=1.0)
    synthetic: SyntheticSettings = SyntheticSettings()
    vendor: VendorSettings = VendorSettings()
    tiingo: TiingoSettings = TiingoSettings()

    @model_validator(mode="after")
    def _folder_needs_path(self) -> DataSettings:
        if self.provider == "folder" and self.path is None:
            raise ValueError("data.path is required when data.provider is 'folder'")
        return self


def windows(*default: int) -> Any:
    """A non-empty list of window lengths in sessions."""
    return Field(default_factory=lambda: list(default), min_length=1)


Window = Annotated[int, Field(ge=1)]
Window2 = Annotated[int, Field(ge=2)]
Window3 = Annotated[int, Field(ge=3)]


class FeatureSettings(Section):
    """Windows (in sessions) of the feature library; see trading_core.features.library."""

    momentum_windows: list[Window] = windows(1, 5, 10, 20, 60, 120, 250)
    reversal_window: int = Field(5, ge=1)
    volatility_windows: list[Window2] = windows(5, 10, 20, 60, 120)
    skew_windows: list[Window3] = windows(20, 60, 120)
    range_windows: list[Window] = windows(20, 60, 120, 250)
    ma_windows: list[Window] = windows(5, 10, 20, 60, 120, 250)
    ma_pairs: list[tuple[Window, Window]] = Field(
        default_factory=lambda: [(5, 20), (20, 60), (50, 200)]
    )
    beta_windows: list[Window2] = windows(60, 120)
    volume_window: int = Field(20, ge=2)
    bar_window: int = Field(20, ge=1)


class CVSettings(Section):
    """Walk-forward validation on the sessions before the test period."""

    folds: int = Field(5, ge=1)
    validation_sessions: int = Field(126, ge=5)
    window: Literal["expanding", "rolling"] = "expanding"
    train_sessions: int = Field(2520, ge=20)
    embargo_sessions: int = Field(0, ge=0)


class LightGBMSettings(Section):
    n_estimators: int = Field(500, ge=1)
    learning_rate: float = Field(0.03, gt=0.0, le=1.0)
    num_leaves: int = Field(31, ge=2)
    min_child_samples: int = Field(200, ge=1)
    subsample: float = Field(0.8, gt=0.0, le=1.0)
    colsample_bytree: float = Field(0.8, gt=0.0, le=1.0)
    early_stopping_rounds: int = Field(50, ge=1)


class XGBoostSettings(Section):
    n_estimators: int = Field(300, ge=1)
    learning_rate: float = Field(0.05, gt=0.0, le=1.0)
    max_depth: int = Field(4, ge=1, le=16)
    min_child_weight: float = Field(1.0, ge=0.0)
    subsample: float = Field(0.8, gt=0.0, le=1.0)
    colsample_bytree: float = Field(0.8, gt=0.0, le=1.0)
    gamma: float = Field(0.0, ge=0.0)


class RandomForestSettings(Section):
    """The forest in scikit-learn's terms; `engine: lightgbm` grows the same forest with LightGBM's
    histogram splits (several times faster; bagging draws without replacement), `sklearn` with
    scikit-learn's RandomForestRegressor."""

    engine: Literal["lightgbm", "sklearn"] = "lightgbm"
    n_estimators: int = Field(100, ge=1)
    max_depth: int = Field(6, ge=1)
    min_samples_leaf: int = Field(100, ge=1)
    max_features: float = Field(0.3, gt=0.0, le=1.0)
    max_samples: float = Field(0.2, gt=0.0, le=1.0)


class TuningSettings(Section):
    """Optuna search for `xgboost_tuned`: scored on the walk-forward folds, never the test period."""

    trials: int = Field(30, ge=1)
    timeout_seconds: float = Field(600.0, gt=0.0)
    sample_stride: int = Field(10, ge=1)
    storage: SecretStr | None = None  # an RDB URL may hold a password
    study_name: str | None = None


class ModelingSettings(Section):
    label_horizon: int = Field(5, ge=1)
    label_transform: Literal["raw", "excess", "zscore", "rank"] = "zscore"
    inputs: list[Literal["raw", "rank", "z"]] = Field(default_factory=lambda: ["z"], min_length=1)
    sample_stride: int = Field(5, ge=1)
    test_sessions: int = Field(252, ge=20)
    n_jobs: int = Field(2, ge=1)
    cv: CVSettings = CVSettings()
    lightgbm: LightGBMSettings = LightGBMSettings()
    xgboost: XGBoostSettings = XGBoostSettings()
    random_forest: RandomForestSettings = RandomForestSettings()
    tuning: TuningSettings = TuningSettings()


class TopKByRegime(Section):
    """Names held per regime; None keeps `portfolio.top_k`."""

    risk_off: int | None = Field(None, ge=1)
    normal: int | None = Field(None, ge=1)
    risk_on: int | None = Field(None, ge=1)


class PortfolioSettings(Section):
    optimizer: OptimizerName = "equal_weight"
    top_k: int = Field(10, ge=1)
    top_k_by_regime: TopKByRegime = TopKByRegime()
    max_weight: float = Field(0.15, gt=0.0, le=1.0)
    costs_bps: float = Field(5.0, ge=0.0)
    slippage_bps: float = Field(5.0, ge=0.0)
    max_turnover: float = Field(0.5, gt=0.0, le=1.0)  # one-way: a full switch of names is 1.0
    volatility_window: int = Field(60, ge=2)
    covariance_window: int = Field(252, ge=20)
    score_ic: float = Field(0.05, gt=0.0, lt=1.0)
    risk_free_rate: float = Field(0.0, ge=0.0, lt=1.0)
    solver: SolverName = "CLARABEL"
    rank_buffer: int = Field(5, ge=0)  # a held name stays while it ranks within top_k + this
    turnover_penalty: float = Field(0.05, ge=0.0)  # annual return per unit of one-way turnover

    def top_k_for(self, regime_key: str) -> int:
        """Names to hold in the regime `regime_key` (risk_off | normal | risk_on)."""
        override = getattr(self.top_k_by_regime, regime_key)
        return self.top_k if override is None else override


class RegimeExposure(Section):
    risk_off: float = fraction(0.6)
    normal: float = fraction(1.0)
    risk_on: float = fraction(1.0)


class RegimeSettings(Section):
    fast_window: int = Field(50, ge=2)
    slow_window: int = Field(200, ge=3)
    volatility_window: int = Field(20, ge=2)
    volatility_history: int = Field(252, ge=20)
    high_volatility_quantile: float = Field(0.8, gt=0.0, lt=1.0)
    low_volatility_quantile: float = Field(0.5, gt=0.0, lt=1.0)
    confirm_sessions: int = Field(3, ge=1)
    exposure: RegimeExposure = RegimeExposure()

    @model_validator(mode="after")
    def _fast_before_slow(self) -> RegimeSettings:
        if self.fast_window >= self.slow_window:
            raise ValueError("regime.fast_window must be shorter than regime.slow_window")
        if self.low_volatility_quantile >= self.high_volatility_quantile:
            raise ValueError(
                "regime.low_volatility_quantile must be below regime.high_volatility_quantile"
            )
        return self


class BacktestSettings(Section):
    """Walk-forward backtests: execution convention, rebalance cadence, retraining, cash rate.

    `execution` is when a target decided at the close of t fills, and where labels start:
    next_open (what the daily run, after the close, can get), next_close, or same_close (the
    signal's own close, for comparison only: no live run can trade there).
    """

    execution: Literal["next_open", "next_close", "same_close"] = "next_open"
    participation: bool = True
    rebalance_sessions: int = Field(5, ge=1)
    retrain: Literal["folds", "months"] = "folds"
    retrain_months: int = Field(12, ge=1)
    min_train_sessions: int = Field(504, ge=20)
    cash_rate: float = Field(0.0, ge=0.0, lt=1.0)


class LiveSettings(Section):
    dry_run: bool = True
    initial_capital: float = Field(1_000_000.0, gt=0.0)
    min_trade_size: float = fraction(0.005)
    max_position_pct: float = Field(0.15, gt=0.0, le=1.0)
    max_volume_pct: float = Field(0.05, gt=0.0, le=1.0)
    max_daily_trades: int = Field(50, ge=1)
    max_trade_pct: float = Field(0.10, gt=0.0, le=1.0)
    max_cost_pct: float = Field(0.005, gt=0.0, le=1.0)
    require_manual_approval: bool = False
    fractional_shares: bool = False
    split_guard_tolerance: float = Field(0.05, ge=0.0, le=0.1)
    delisted_symbols: list[str] = Field(default_factory=list)


class KillSwitchSettings(Section):
    max_daily_loss_pct: float = Field(0.03, gt=0.0, le=1.0)
    min_live_sharpe_threshold: float = -3.0
    lookback_weeks: int = Field(6, ge=1)


class OpsSettings(Section):
    kill_switch: KillSwitchSettings = KillSwitchSettings()
    ic_lookback_days: int = Field(60, ge=5)
    ic_alert_threshold: float = Field(0.0, ge=-1.0, le=1.0)


class RiskSettings(Section):
    max_sector_weight: float = Field(0.30, gt=0.0, le=1.0)
    rebalance_threshold: float = fraction(0.0)  # no-trade band, fraction of portfolio value


class SelectionWeights(Section):
    sharpe: float = fraction(0.35)
    max_drawdown: float = fraction(0.20)
    calmar: float = fraction(0.20)
    turnover: float = fraction(0.10)
    regime_consistency: float = fraction(0.15)

    @model_validator(mode="after")
    def _sum_to_one(self) -> SelectionWeights:
        total = sum(self.model_dump().values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"model_selection.selection_weights must sum to 1, got {total:.4f}")
        return self


class SelectionThresholds(Section):
    sharpe_min: float = 1.0
    max_drawdown_max: float = Field(-0.20, le=0.0)
    calmar_min: float = 0.5
    turnover_max: float = Field(0.60, gt=0.0)
    beat_baseline: bool = True


class ModelSelectionSettings(Section):
    candidates: list[CandidateName] = Field(
        default_factory=lambda: [
            "lightgbm",
            "xgboost_default",
            "xgboost_tuned",
            "random_forest",
            "ensemble",
        ],
        min_length=1,
    )
    ensemble_members: list[CandidateName] = Field(
        default_factory=lambda: ["lightgbm", "xgboost_default", "random_forest"], min_length=2
    )
    optimizers: list[OptimizerName] = Field(
        default_factory=lambda: [
            "max_sharpe",
            "min_volatility",
            "hrp",
            "inverse_vol",
            "equal_weight",
        ],
        min_length=1,
    )
    selection_weights: SelectionWeights = SelectionWeights()
    thresholds: SelectionThresholds = SelectionThresholds()

    @model_validator(mode="after")
    def _ensemble_of_single_models(self) -> ModelSelectionSettings:
        if "ensemble" in self.ensemble_members:
            raise ValueError("model_selection.ensemble_members cannot include the ensemble itself")
        return self

    min_deflated_sharpe: float | None = None


class EmailSettings(Section):
    """SMTP delivery, the second alert channel (off while `host` is unset)."""

    host: str | None = None
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "alphapilot@localhost"
    recipients: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _recipients_when_enabled(self) -> EmailSettings:
        if self.host and not self.recipients:
            raise ValueError("notifications.email.recipients is required when email.host is set")
        return self


class NotificationSettings(Section):
    """Where alerts go: a Slack incoming webhook and/or email; nothing is sent while both are unset."""

    slack_webhook_url: SecretStr | None = None
    slack_webhook_secret: str | None = None
    email: EmailSettings = EmailSettings()
    daily_summary: bool = False
    timeout_seconds: float = Field(10.0, gt=0.0)

    @model_validator(mode="after")
    def _one_webhook_source(self) -> NotificationSettings:
        if self.slack_webhook_url is not None and self.slack_webhook_secret:
            raise ValueError(
                "set notifications.slack_webhook_url or notifications.slack_webhook_secret, not both"
            )
        return self


class DaskSettings(Section):
    """With `orchestration.task_runner: dask`: an existing scheduler, or a local cluster."""

    address: str | None = None
    n_workers: int = Field(2, ge=1)
    threads_per_worker: int = Field(1, ge=1)


class OrchestrationSettings(Section):
    """How Prefect runs the steps: retries of outside-world steps, caching, and the task runner."""

    retries: int = Field(2, ge=0)
    retry_delay_seconds: float = Field(10.0, ge=0.0)
    retry_jitter_factor: float = Field(0.5, ge=0.0)
    cache: bool = True
    cache_expiration_hours: float = Field(12.0, gt=0.0)
    task_runner: Literal["threads", "dask"] = "threads"
    max_workers: int | None = Field(None, ge=1)
    dask: DaskSettings = DaskSettings()
    lock_timeout_seconds: float = Field(60.0, ge=0.0, le=3600.0)
    daily_deadline_minutes: int = Field(90, ge=1, le=1440)


class Settings(BaseSettings):
    """Everything alphapilot can be told; one frozen object passed down the pipeline."""

    model_config = SettingsConfigDict(
        env_prefix="ALPHAPILOT__",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        yaml_file=[DEFAULT_CONFIG],
    )

    home: Path = Path("alphapilot_home")
    seed: int = 42
    data: DataSettings = DataSettings()
    features: FeatureSettings = FeatureSettings()
    modeling: ModelingSettings = ModelingSettings()
    portfolio: PortfolioSettings = PortfolioSettings()
    regime: RegimeSettings = RegimeSettings()
    backtest: BacktestSettings = BacktestSettings()
    live: LiveSettings = LiveSettings()
    ops: OpsSettings = OpsSettings()
    risk: RiskSettings = RiskSettings()
    model_selection: ModelSelectionSettings = ModelSelectionSettings()
    notifications: NotificationSettings = NotificationSettings()
    orchestration: OrchestrationSettings = OrchestrationSettings()

    @field_validator("home")
    @classmethod
    def _home_is_a_usable_folder(cls, home: Path) -> Path:
        """The home, resolved once (symlinks, `..`): never the filesystem root nor a file.

        Everything alphapilot writes goes under this resolved path, so a link to `/` is refused
        before anything is written.
        """
        resolved = home.expanduser().resolve()
        if resolved == Path(resolved.anchor):
            raise ValueError(f"must not be the filesystem root ({home} resolves to {resolved})")
        if resolved.exists() and not resolved.is_dir():
            raise ValueError(f"{home} is not a folder (it resolves to the file {resolved})")
        return resolved

    @model_validator(mode="after")
    def _caps_are_consistent(self) -> Settings:
        if self.portfolio.max_weight > self.live.max_position_pct + 1e-12:
            raise ValueError(
                "portfolio.max_weight must not exceed live.max_position_pct "
                f"({self.portfolio.max_weight} > {self.live.max_position_pct})"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_files = settings_cls.model_config.get("yaml_file")
        return (
            init_settings,
            env_settings,
            YamlConfigSettingsSource(settings_cls, yaml_file=yaml_files, deep_merge=True),
        )

    def research_fingerprint(self) -> str:
        """Hash of what a tuning objective depends on: features, modeling (not the tuning budget)."""
        modeling = self.model_dump(
            mode="json",
            include={"features", "modeling", "seed"},
            exclude={
                "modeling": {"tuning": {"trials", "timeout_seconds", "storage", "study_name"}}
            },
        )
        return hashlib.sha256(json.dumps(modeling, sort_keys=True).encode()).hexdigest()[:16]

    def fingerprint(self) -> str:
        """Stable hash of every setting that can change a result (not home, alerts or how it runs)."""
        payload = self.model_dump(mode="json", exclude={"home", "notifications", "orchestration"})
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
