"""The words both selection reports use, so the markdown and the HTML page say the same thing.

Implements:

- `number`: a figure to a format spec, `n/a` when missing (None or NaN).
- `matrix_sharpe`: a comparison-matrix cell to two decimals, or its word as it is.
- `CRITERION_TITLES`, `RAW_FORMATS`: the score criteria as the ranking shows them.
- `threshold_rules`: what a champion needs, in one clause.
- `against_baseline`: the champion's Sharpe beside the equal-weight baseline's.
- `fills`, `same_targets`: when every backtest trades, and the shown combination's Sharpe under
  each fill convention with what trading after the signal's close costs.
- `deflated_facts`, `DSR_MEANING`: the deflated Sharpe ratio's figures and what they mean.
- `scored_lower`: why a combination that passed every threshold was still not chosen.

Only numbers and fixed words pass through here, but for the combination names `same_targets` and
`scored_lower` take: each report escapes untrusted text its own way (markdown_text before the
call, jinja2 autoescape after it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from trading_core.features.labels import EXECUTION_MEANING, EXECUTIONS
from trading_core.selection.scoring import Thresholds
from trading_core.selection.sharpe_stats import DeflatedSharpe

CRITERION_TITLES = {
    "sharpe": "Sharpe",
    "max_drawdown": "Max drawdown",
    "calmar": "Calmar",
    "turnover": "Turnover",
    "regime_consistency": "Regime consistency",
}
RAW_FORMATS = {
    "sharpe": ".2f",
    "max_drawdown": ".1%",
    "calmar": ".2f",
    "turnover": ".1%",
    "regime_consistency": ".2f",
}
DSR_MEANING = (
    "The DSR is the probability that the winner's true Sharpe ratio beats the best Sharpe that "
    "{trials} strategies without skill would reach by luck (the PSR: that it beats zero); near 1 "
    "the edge survives the search, near 0.5 or below it may be the luck of picking the best of "
    "{trials}."
)


def number(value: object, spec: str) -> str:
    """A number formatted with `spec`; None and NaN show as n/a."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return format(value, spec)


def matrix_sharpe(cell: str) -> str:
    """A matrix Sharpe to two decimals; a word (failed, undefined, missing) stays as it is."""
    try:
        return number(float(cell), ".2f")
    except ValueError:
        return cell


def threshold_rules(
    t: Thresholds, baseline_sharpe: float, min_deflated_sharpe: float | None
) -> str:
    """Every threshold a champion must pass, as one clause (no final full stop)."""
    rules = (
        f"Sharpe at least {t.sharpe_min:.2f}, max drawdown no worse than {t.max_drawdown_max:.1%}, "
        f"Calmar at least {t.calmar_min:.2f}, one-way turnover per rebalance at most "
        f"{t.turnover_max:.1%}"
    )
    if t.beat_baseline:
        rules += (
            f", and a Sharpe above the equal-weight baseline's {number(baseline_sharpe, '.2f')}"
        )
    if min_deflated_sharpe is not None:
        rules += f", and a deflated Sharpe of at least {min_deflated_sharpe:.3f}"
    return rules


def against_baseline(sharpe: object, baseline_sharpe: float) -> str:
    """The champion's Sharpe beside the equal-weight baseline's, as one sentence."""
    return (
        f"Its Sharpe is {number(sharpe, '.2f')} against {number(baseline_sharpe, '.2f')} "
        "for the equal-weight baseline."
    )


def fills(execution: str) -> str:
    """When every backtest trades, as a sentence to follow "Fills:"."""
    return f"every backtest trades {EXECUTION_MEANING[execution]} ({execution})."


def same_targets(name: str, sharpes: Mapping[str, float], execution: str) -> str:
    """The Sharpe of combination `name`'s targets under every fill, and the cost of the delay."""
    return (
        f"The same targets of {name} have Sharpe {_execution_sharpes(sharpes)}"
        f"{_delay_cost(sharpes, execution)}."
    )


def _execution_sharpes(sharpes: Mapping[str, float]) -> str:
    """`1.10 next_open, 0.90 next_close, 1.40 same_close`: the Sharpe under every convention."""
    return ", ".join(f"{number(sharpes.get(name, math.nan), '.2f')} {name}" for name in EXECUTIONS)


def _delay_cost(sharpes: Mapping[str, float], execution: str) -> str:
    """What trading after the signal's close costs, in words ("" when it cannot be said).

    A change below rounding size (0.005) is no cost; the same-close fill is the reference.
    """
    same, chosen = sharpes.get("same_close", math.nan), sharpes.get(execution, math.nan)
    if execution == "same_close" or not (math.isfinite(same) and math.isfinite(chosen)):
        return ""
    lost = same - chosen
    if lost >= 0.005:
        return f": trading after the signal's close costs {lost:.2f} of Sharpe"
    if lost <= -0.005:
        return f": here the later fill does better, by {-lost:.2f} of Sharpe"
    return ": trading after the signal's close costs no measurable Sharpe"


def deflated_facts(d: DeflatedSharpe) -> list[str]:
    """The deflated Sharpe ratio's figures, one fact per line."""
    return [
        f"Sharpe {number(d.sharpe_annual, '.2f')} annualized ({number(d.sharpe_per_period, '.4f')} "
        f"per session) over {d.observations} sessions; skewness {number(d.skewness, '.2f')}, "
        f"kurtosis {number(d.kurtosis, '.2f')}",
        f"Trials: {d.trials} completed combinations, variance of their annualized Sharpes "
        f"{number(d.trial_sharpe_variance_annual, '.3f')}",
        f"Expected best Sharpe of {d.trials} unskilled trials (SR0): "
        f"{number(d.expected_max_sharpe_annual, '.2f')} annualized "
        f"({number(d.expected_max_sharpe_per_period, '.4f')} per session)",
        f"Probabilistic Sharpe ratio (PSR, against 0): {number(d.psr, '.3f')}",
        f"Deflated Sharpe ratio (DSR, against SR0): {number(d.dsr, '.3f')}",
    ]


def scored_lower(champion: str) -> str:
    """Why a passing combination is not the champion (`champion`: its name, not escaped)."""
    return f"passed every threshold but scored lower than {champion}"
