"""SafetyValidator: the last gate before any trade list is published as ready.

Checks the target portfolio (long-only, per-name cap, gross exposure at most 100%) and the trade
list (every traded or held symbol has a valid, fresh price on the run date). Any failure blocks
every trade; the verdict lists each check with its detail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trading_core.data.validation import stale_symbols

TOLERANCE = 1e-9


@dataclass(frozen=True)
class Check:
    """One named rule, whether it held, and a sentence saying why."""

    name: str
    passed: bool
    detail: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "passed", bool(self.passed))


@dataclass(frozen=True)
class SafetyVerdict:
    """All checks of one run; `passed` only when every check passed."""

    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def violations(self) -> list[str]:
        return [f"{c.name}: {c.detail}" for c in self.checks if not c.passed]

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "violations": self.violations,
            "checks": [
                {"name": c.name, "passed": c.passed, "detail": c.detail} for c in self.checks
            ],
        }


class SafetyValidator:
    """Validates target weights and trades against the configured caps and price sanity."""

    def __init__(self, max_weight: float, max_stale_sessions: int = 5) -> None:
        self.max_weight = max_weight
        self.max_stale_sessions = max_stale_sessions

    def validate_portfolio(self, weights: pd.Series) -> list[Check]:
        """Long-only, no name above the cap, gross exposure at most 100%."""
        undefined = weights[~np.isfinite(weights.to_numpy(dtype="float64"))]
        total = float(weights.sum(skipna=False))
        short = weights[weights < -TOLERANCE]
        over = weights[weights > self.max_weight + TOLERANCE]
        return [
            Check(
                "weights_defined",
                undefined.empty,
                "every weight is a number"
                if undefined.empty
                else f"undefined weights: {', '.join(map(str, undefined.index))}",
            ),
            Check(
                "long_only",
                short.empty,
                "no negative weights"
                if short.empty
                else f"short weights: {', '.join(short.index)}",
            ),
            Check(
                "position_cap",
                over.empty,
                f"every weight <= {self.max_weight:.2%}"
                if over.empty
                else "above cap: " + ", ".join(f"{s} {w:.2%}" for s, w in over.items()),
            ),
            Check(
                "gross_exposure",
                total <= 1 + TOLERANCE and np.isfinite(total),
                f"weights sum to {total:.4f} (must be <= 1)",
            ),
        ]

    def validate_prices(self, close: pd.DataFrame, symbols: list[str]) -> list[Check]:
        """Every symbol has a positive close on the last date, unchanged for fewer than N sessions."""
        last = close.iloc[-1].reindex(symbols)
        invalid = last[~(last > 0)].index.tolist()
        stale = [
            s
            for s in stale_symbols(
                close[close.columns.intersection(symbols)], self.max_stale_sessions
            )
            if s not in invalid
        ]
        day = f"{close.index[-1]:%Y-%m-%d}"
        return [
            Check(
                "prices_valid",
                not invalid,
                f"every symbol priced on {day}"
                if not invalid
                else f"no valid close on {day} for {', '.join(invalid)}",
            ),
            Check(
                "prices_fresh",
                not stale,
                f"no close unchanged for {self.max_stale_sessions} sessions"
                if not stale
                else f"close unchanged for {self.max_stale_sessions} sessions: {', '.join(stale)}",
            ),
        ]

    def validate(
        self, weights: pd.Series, trades: pd.DataFrame, close: pd.DataFrame, held: list[str]
    ) -> SafetyVerdict:
        """The full verdict for one run."""
        symbols = sorted(set(weights[weights > 0].index) | set(trades["symbol"]) | set(held))
        return SafetyVerdict(
            self.validate_portfolio(weights) + self.validate_prices(close, symbols)
        )
