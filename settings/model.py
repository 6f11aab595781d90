"""Typed settings: defaults from settings/config.yaml, a user YAML file on top, then environment.

Precedence (last wins): packaged defaults < user file (--config / ALPHAPILOT_CONFIG) <
environment (ALPHAPILOT__SECTION__FIELD) < explicit overrides. Unknown keys and invalid values fail
at load with the offending field named.

The sections are defined by group beside this module (data, research, portfolio, trading,
selection, runtime); this module assembles them into `Settings` and checks what spans sections.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from settings.data import DataSettings
from settings.portfolio import PortfolioSettings, RegimeSettings, RiskSettings
from settings.research import FeatureSettings, ModelingSettings
from settings.runtime import NotificationSettings, OrchestrationSettings
from settings.selection import ModelSelectionSettings
from settings.trading import BacktestSettings, LiveSettings, OpsSettings

DEFAULT_CONFIG = Path(__file__).with_name("config.yaml")


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
