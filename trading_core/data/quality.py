"""How healthy a market dataset is, and the gap policy that decides what is imported.

Real vendor files have holes: a name with no row on a session inside its history, sometimes many
names on one session. A hole of up to `data.max_gap_sessions` sessions is imported as it is (the
features that need those sessions are NaN for the windows that cross it; valuations carry the
last close), a longer one is refused naming the symbol and dates. Every update writes what it saw
to `<home>/data/quality.json`: per symbol its span, gaps, stale runs, jumps and adjustments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from trading_core.data.adjust import RawHistory
from trading_core.data.market import MarketData
from trading_core.errors import DataError

BENCHMARK = "benchmark"  # the name the benchmark's gaps are reported under
SESSION_HOLE_SHARE = 0.05  # a session on which this share of the listed names has no row


@dataclass(frozen=True)
class QualityPolicy:
    """What an import tolerates (the `data.*` settings of the same names)."""

    max_gap_sessions: int = 3
    max_stale_sessions: int = 5
    max_daily_jump: float = 10.0


@dataclass(frozen=True)
class Gap:
    """Sessions `start`..`end` (inclusive) with no close inside `symbol`'s history."""

    symbol: str
    start: str
    end: str
    sessions: int

    @property
    def when(self) -> str:
        """`2024-03-15`, or `2024-03-13..2024-03-15 (3 sessions)`."""
        if self.sessions == 1:
            return self.start
        return f"{self.start}..{self.end} ({self.sessions} sessions)"


@dataclass(frozen=True)
class Jump:
    """A close moving by `ratio` (either way) in one session, beyond `data.max_daily_jump`."""

    symbol: str
    date: str
    ratio: float
    before: float
    after: float
    verdict: str  # "refused", or "accepted: <why>"


@dataclass(frozen=True)
class QualityReport:
    """What an import found, by symbol and by session; `refusal` is the one-line reason the
    data was refused, or None when it was imported."""

    source: str
    first_date: str
    last_date: str
    sessions: int
    symbols: int
    max_gap_sessions: int
    max_daily_jump: float
    gaps: list[Gap] = field(default_factory=list)
    session_holes: list[dict[str, Any]] = field(default_factory=list)
    stale_runs: list[dict[str, Any]] = field(default_factory=list)
    jumps: list[Jump] = field(default_factory=list)
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    missing_last_session: list[str] = field(default_factory=list)
    per_symbol: list[dict[str, Any]] = field(default_factory=list)
    refusal: str | None = None

    @property
    def long_gaps(self) -> list[Gap]:
        """The gaps the policy refuses."""
        return [gap for gap in self.gaps if gap.sessions > self.max_gap_sessions]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One line for the console and the log."""
        holes = ", ".join(
            f"{h['date']} ({h['missing']} of {h['listed']})" for h in self.session_holes
        )
        parts = [
            f"{self.symbols} symbols x {self.sessions} sessions",
            f"{len(self.gaps)} gap(s) imported (at most {self.max_gap_sessions} sessions)"
            if not self.long_gaps
            else f"{len(self.long_gaps)} gap(s) longer than {self.max_gap_sessions} sessions",
            f"session holes: {holes}" if holes else "no session holes",
            f"{len(self.stale_runs)} stale run(s)",
            f"{len(self.jumps)} jump(s)",
            f"{len(self.adjustments)} adjustment(s)",
        ]
        if self.missing_last_session:
            parts.append(f"{len(self.missing_last_session)} name(s) without a last close")
        return "; ".join(parts)


def find_gaps(close: pd.DataFrame) -> list[Gap]:
    """Runs of sessions without a close between a symbol's first and last close, by symbol."""
    listed = close.notna().to_numpy()
    alive = (
        np.maximum.accumulate(listed, axis=0) & np.maximum.accumulate(listed[::-1], axis=0)[::-1]
    )
    holes = alive & ~listed
    gaps: list[Gap] = []
    dates = close.index
    for j in np.flatnonzero(holes.any(axis=0)):
        rows = np.flatnonzero(holes[:, j])
        runs = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)
        gaps += [
            Gap(
                str(close.columns[j]), f"{dates[r[0]]:%Y-%m-%d}", f"{dates[r[-1]]:%Y-%m-%d}", len(r)
            )
            for r in runs
        ]
    return gaps


def session_holes(close: pd.DataFrame, share: float = SESSION_HOLE_SHARE) -> list[dict[str, Any]]:
    """Sessions on which at least `share` of the names inside their history (and two or more)
    have no row: a vendor's hole in the whole session rather than a name's own."""
    listed = close.notna().to_numpy()
    alive = (
        np.maximum.accumulate(listed, axis=0) & np.maximum.accumulate(listed[::-1], axis=0)[::-1]
    )
    missing = (alive & ~listed).sum(axis=1)
    counted = alive.sum(axis=1)
    hit = (missing >= 2) & (missing >= share * np.maximum(counted, 1))
    return [
        {
            "date": f"{close.index[i]:%Y-%m-%d}",
            "missing": int(missing[i]),
            "listed": int(counted[i]),
        }
        for i in np.flatnonzero(hit)
    ]


def stale_runs(close: pd.DataFrame, min_sessions: int) -> list[dict[str, Any]]:
    """Runs over which a symbol's close stayed the same for at least `min_sessions` sessions in
    a row (a hole ends a run)."""
    values = close.to_numpy()
    same = (values[1:] == values[:-1]).T  # symbols x sessions: unchanged from the session before
    edges = np.diff(np.pad(same.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    starts, ends = np.argwhere(edges == 1), np.argwhere(edges == -1)  # paired, by symbol then time
    runs = []
    for (j, first), (_, stop) in zip(starts, ends, strict=True):
        if stop - first >= min_sessions:
            runs.append(
                {
                    "symbol": str(close.columns[j]),
                    "start": f"{close.index[first]:%Y-%m-%d}",
                    "end": f"{close.index[stop]:%Y-%m-%d}",
                    "sessions": int(stop - first),
                    "close": float(values[first, j]),
                }
            )
    return runs


def find_jumps(
    close: pd.DataFrame, max_daily_jump: float, splits: pd.DataFrame | None = None
) -> list[Jump]:
    """Closes moving more than `max_daily_jump` times from the last known close (across a gap
    too), each `refused`; with `splits` (long `date, symbol, split`: the close is then the raw one)
    only the moves a split of about that ratio on that date explains, each `accepted`."""
    last_known = close.ffill().shift()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = close / last_known
        size = np.maximum(ratio, 1.0 / ratio)
    hits = size.stack()
    hits = hits[hits > max_daily_jump]
    known = {}
    if splits is not None:
        known = {
            (pd.Timestamp(d), str(s)): float(r)
            for d, s, r in zip(splits["date"], splits["symbol"], splits["split"], strict=True)
        }
    jumps = []
    for day, symbol in hits.index:
        moved = float(ratio.at[day, symbol])
        split = known.get((pd.Timestamp(day), str(symbol)))
        explained = split is not None and 0.5 < moved * split < 2.0
        if splits is not None and not explained:
            continue
        verdict = f"accepted: split {split:g} applied" if explained else "refused"
        before = float(last_known.at[day, symbol])
        after = float(close.at[day, symbol])
        jumps.append(Jump(str(symbol), f"{day:%Y-%m-%d}", moved, before, after, verdict))
    return jumps


def adjustments(actions: pd.DataFrame | None) -> list[dict[str, Any]]:
    """The splits and dividends applied to derive the adjusted series, one entry per event."""
    if actions is None or actions.empty:
        return []
    rows = actions.sort_values(["symbol", "date"])
    return [
        {
            "symbol": str(row.symbol),
            "date": f"{pd.Timestamp(row.date):%Y-%m-%d}",
            **({"split": float(row.split)} if row.split != 1.0 else {}),
            **({"dividend": float(row.dividend)} if row.dividend else {}),
        }
        for row in rows.itertuples(index=False)
    ]


class QualityRefusal(DataError):
    """Data the gap policy or the jump check refuses; `report` says everything that was found."""

    def __init__(self, report: QualityReport) -> None:
        super().__init__(report.refusal)
        self.report = report


def assess(data: MarketData, policy: QualityPolicy, raw: RawHistory | None = None) -> QualityReport:
    """The quality report of `data`, with `refusal` set when the gap policy or a jump of the
    (adjusted) closes refuses it. `raw`: the vendor's bars as traded and events, from which
    `data` was derived: its jumps that a split explains are listed as accepted."""
    close = data.close
    gaps = find_gaps(close)
    if data.benchmark is not None:  # the index on the prices' sessions inside its own span
        gaps += find_gaps(data.benchmark.reindex(close.index).to_frame(BENCHMARK))
    jumps = find_jumps(close, policy.max_daily_jump)
    actions = None if raw is None else raw.actions
    if raw is not None and len(raw.bars):
        raw_close = raw.bars.pivot(index="date", columns="symbol", values="close")
        splits = raw.actions[raw.actions["split"] != 1.0]
        jumps += find_jumps(raw_close, policy.max_daily_jump, splits)
    last = close.iloc[-1]
    report = QualityReport(
        source=data.source,
        first_date=f"{data.first_date:%Y-%m-%d}",
        last_date=f"{data.last_date:%Y-%m-%d}",
        sessions=len(close),
        symbols=close.shape[1],
        max_gap_sessions=policy.max_gap_sessions,
        max_daily_jump=policy.max_daily_jump,
        gaps=gaps,
        session_holes=session_holes(close),
        stale_runs=stale_runs(close, policy.max_stale_sessions),
        jumps=jumps,
        adjustments=adjustments(actions),
        missing_last_session=sorted(map(str, last[last.isna()].index)),
        per_symbol=_per_symbol(close, gaps),
    )
    return QualityReport(**{**_fields(report), "refusal": _refusal(report)})


def recent_gaps(close: pd.DataFrame, symbols: Iterable[str], sessions: int = 20) -> list[str]:
    """One line per gap of `symbols` (the names a run holds or targets) and per session hole in
    the last `sessions` sessions: their features over windows crossing it are missing."""
    recent = close.iloc[-sessions:]
    lines = [
        f"data gap: {gap.symbol} has no close on {gap.when}; its features over windows "
        "crossing it are missing"
        for gap in find_gaps(close.loc[:, close.columns.intersection(list(symbols))])
        if gap.end >= f"{recent.index[0]:%Y-%m-%d}"
    ]
    lines += [
        f"session hole on {hole['date']}: {hole['missing']} of {hole['listed']} names have no close"
        for hole in session_holes(close)
        if hole["date"] >= f"{recent.index[0]:%Y-%m-%d}"
    ]
    return lines


def symbol_rows(report: QualityReport) -> list[dict[str, Any]]:
    """One row per symbol with something to say (a gap, a stale run, a jump, an adjustment, no
    last close): the table a person reads first."""
    counts: dict[str, dict[str, Any]] = {}
    for kind, items in (
        ("gap sessions", [(g.symbol, g.sessions) for g in report.gaps]),
        ("stale runs", [(r["symbol"], 1) for r in report.stale_runs]),
        ("jumps", [(j.symbol, 1) for j in report.jumps]),
        ("adjustments", [(a["symbol"], 1) for a in report.adjustments]),
    ):
        for symbol, n in items:
            row = counts.setdefault(symbol, {})
            row[kind] = row.get(kind, 0) + n
    for symbol in report.missing_last_session:
        counts.setdefault(symbol, {})["no last close"] = "yes"
    spans = {row["symbol"]: row for row in report.per_symbol}
    kinds = ("gap sessions", "stale runs", "jumps", "adjustments", "no last close")
    return [
        {
            "symbol": symbol,
            "first": spans.get(symbol, {}).get("first_date"),
            "last": spans.get(symbol, {}).get("last_date"),
            **{
                kind: counts[symbol].get(kind, 0 if kind != "no last close" else "")
                for kind in kinds
            },
        }
        for symbol in sorted(counts)
    ]


def enforce(report: QualityReport) -> None:
    """Raise the report's refusal (one line; the report file has the rest)."""
    if report.refusal is not None:
        raise QualityRefusal(report)


def _refusal(report: QualityReport) -> str | None:
    long_gaps = report.long_gaps
    if long_gaps:
        gap = max(long_gaps, key=lambda g: g.sessions)
        others = f"; {len(long_gaps) - 1} other gap(s) too long" if len(long_gaps) > 1 else ""
        return (
            f"close of {gap.symbol} is missing for {gap.sessions} sessions, {gap.start}..{gap.end}, "
            f"inside its history: beyond data.max_gap_sessions {report.max_gap_sessions}"
            f"{others} ({report.source} data)"
        )
    refused = [jump for jump in report.jumps if jump.verdict == "refused"]
    if refused:
        jump = refused[0]
        return (
            f"close of {jump.symbol} moves x{jump.ratio:.4g} on {jump.date} (from {jump.before:g} "
            f"to {jump.after:g}), beyond data.max_daily_jump {report.max_daily_jump:g}: a bad tick "
            f"or an unadjusted split ({report.source} data)"
        )
    return None


def _per_symbol(close: pd.DataFrame, gaps: list[Gap]) -> list[dict[str, Any]]:
    first = close.apply(pd.Series.first_valid_index)
    last = close.apply(pd.Series.last_valid_index)
    sessions = close.notna().sum()
    gap_count = pd.Series([g.symbol for g in gaps], dtype="str").value_counts()
    return [
        {
            "symbol": str(symbol),
            "first_date": None if pd.isna(first[symbol]) else f"{first[symbol]:%Y-%m-%d}",
            "last_date": None if pd.isna(last[symbol]) else f"{last[symbol]:%Y-%m-%d}",
            "sessions": int(sessions[symbol]),
            "gaps": int(gap_count.get(str(symbol), 0)),
        }
        for symbol in close.columns
    ]


def _fields(report: QualityReport) -> dict[str, Any]:
    return {name: getattr(report, name) for name in report.__dataclass_fields__}
