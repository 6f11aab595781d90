"""Data settings: the provider, the synthetic market, the network vendors and the quality limits."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from settings.section import Section


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
