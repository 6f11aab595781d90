"""What a session's run tells a person beyond its figures: its warnings and its one alert.

- `day_warnings`: the report's warnings, in order: why this model (its fallbacks), a halted kill
  switch, a liquidity check skipped for lack of volume, an optimizer fallback, each forced exit,
  and the recent data gaps of the names held or targeted;
- `day_alert`: the session's one message, if any: the kill switch engaged that session, trades
  blocked, or (when asked for) the summary.

Pure: the daily flow passes the results of its steps and, for the alert, the run's page in the
Prefect UI as a plain link.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from trading_core.alerts import Alert, daily_summary_alert, kill_switch_alert, safety_block_alert
from trading_core.data.market import MarketData
from trading_core.data.quality import recent_gaps
from trading_core.live.kill_switch import KillSwitchStatus
from trading_core.live.positions import Positions
from trading_core.live.safety_checks import SafetyVerdict
from trading_core.portfolio.construct import PortfolioResult

BLOCK_FIGURES = ("turnover", "estimated_cost", "exposure", "portfolio_value")


def day_warnings(
    model_warnings: Sequence[str],
    kill: KillSwitchStatus,
    data: MarketData,
    target: PortfolioResult,
    positions: Positions,
    forced_exits: Mapping[str, str],
) -> list[str]:
    """The session's warnings for its report, the model's own (why this model) first.

    `forced_exits` maps each name sold whatever the limits to the reason; the data gaps are
    those of the names held before the session or targeted by it.
    """
    warnings = list(model_warnings)
    if kill.halted:
        warnings.append(kill.message)
    if not data.has_volume:
        warnings.append("liquidity check skipped: no volume in the data")
    if target.fallback_reason:
        warnings.append(f"optimizer fallback: {target.fallback_reason}")
    warnings += [f"forced exit of {name}: {why}" for name, why in forced_exits.items()]
    involved = positions.shares[positions.shares != 0].index.union(
        target.weights[target.weights > 0].index
    )
    return [*warnings, *recent_gaps(data.close, involved)]


def day_alert(
    session: date,
    kill: KillSwitchStatus | None,
    verdict: SafetyVerdict,
    figures: Mapping[str, object],
    report: str,
    summary: bool,
    link: str | None = None,
) -> Alert | None:
    """The session's one message, if any: kill switch engaged, trades blocked, or the summary.

    The kill switch engaging on `session` blocks the day too; its alert lists the violations, so
    one event makes one message. An alert carries the day's `figures` (the run's summary), so no
    summary follows it; `summary` asks for the summary on a quiet day. Every message has the
    report's path and `link`, the run's page in the Prefect UI when there is one.
    """
    if kill is not None and kill.halted and kill.engaged_since == session:
        today = kill.today
        return kill_switch_alert(
            session,
            kill.engaged_reason,
            today.daily_return,
            today.rolling_sharpe,
            today.detail,
            verdict.violations,
            report,
            link,
        )
    if not verdict.passed:
        key = {name: figures[name] for name in BLOCK_FIGURES}
        return safety_block_alert(session, verdict.violations, key, report, link)
    return daily_summary_alert(figures, report, link) if summary else None
