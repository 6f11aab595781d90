"""Portfolio settings: how scores become target weights (optimizer, caps, regime, sector risk)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from settings.section import Section, fraction

OptimizerName = Literal["max_sharpe", "min_volatility", "hrp", "inverse_vol", "equal_weight"]
SolverName = Literal["CLARABEL", "OSQP", "SCS"]


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


class RiskSettings(Section):
    max_sector_weight: float = Field(0.30, gt=0.0, le=1.0)
    rebalance_threshold: float = fraction(0.0)  # no-trade band, fraction of portfolio value
