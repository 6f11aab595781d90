"""The model x optimizer backtest grid: every combination's walk-forward result, or why it failed."""

from __future__ import annotations

from dataclasses import dataclass, field

from trading_core.backtest.walk_forward import WalkForwardResult


@dataclass
class BacktestGrid:
    """Walk-forward results keyed by (model, optimizer), and the combinations that failed."""

    models: list[str]
    optimizers: list[str]
    results: dict[tuple[str, str], WalkForwardResult] = field(default_factory=dict)
    failures: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, model: str, optimizer: str, outcome: WalkForwardResult | BaseException) -> None:
        """Record one combination's result, or its error as one line."""
        if isinstance(outcome, BaseException):
            self.failures[(model, optimizer)] = f"{type(outcome).__name__}: {outcome}"
        else:
            self.results[(model, optimizer)] = outcome
