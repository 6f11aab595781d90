"""LivePortfolioManager: the account side of a daily run: which session, what is held, where it goes.

Pre-flight decides whether a date is a trading session with data; published scores are read back
for monitoring; a day's outputs are written all at once (staged, then swapped in), so a re-run
of the same date replaces them whole and a crash leaves the previous version.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from trading_core.data.calendar import is_trading_day
from trading_core.errors import DataError
from trading_core.home import Home
from trading_core.io import replace_directory


@dataclass(frozen=True)
class Session:
    """The session a daily run is for; `market_closed` runs do nothing."""

    date: date
    market_closed: bool
    reason: str = ""


class LivePortfolioManager:
    """Decides whether a session runs, reads published scores, writes a day's outputs."""

    def __init__(self, home: Home) -> None:
        self.home = home

    @staticmethod
    def preflight(
        run_date: date, first_date: pd.Timestamp, last_date: pd.Timestamp, today: date
    ) -> Session:
        """Decide whether `run_date` can run: a session, not in the future, covered by the data."""
        if run_date > today:
            raise DataError(f"--date {run_date} is in the future (today is {today})")
        if pd.Timestamp(run_date) < first_date:  # even a holiday: a date the data cannot cover
            raise DataError(
                f"{run_date} is before the data starts (the store holds "
                f"{first_date:%Y-%m-%d}..{last_date:%Y-%m-%d})"
            )
        if not is_trading_day(run_date):
            return Session(run_date, True, f"market closed on {run_date} ({run_date:%A})")
        if pd.Timestamp(run_date) > last_date:
            raise DataError(
                f"no market data for {run_date}: the store ends on {last_date:%Y-%m-%d}; "
                "run `alphapilot data update` first"
            )
        return Session(run_date, False)

    def published_scores(self, before: date, days: int) -> pd.Series:
        """Scores published by the last `days` daily runs before `before`, by (date, symbol)."""
        folders = sorted(
            p for p in self.home.live.glob("????-??-??") if p.name < f"{before:%Y-%m-%d}"
        )[-days:]
        parts = []
        for folder in folders:
            try:
                scores = json.loads((folder / "signals.json").read_text())["scores"]
            except (OSError, ValueError, KeyError):
                continue  # a day without readable signals simply has no track record
            index = pd.MultiIndex.from_product(
                [[pd.Timestamp(folder.name)], list(scores)], names=["date", "symbol"]
            )
            parts.append(pd.Series(list(scores.values()), index=index, dtype="float64"))
        return pd.concat(parts).rename("score") if parts else pd.Series(dtype="float64")

    def write_day(self, session: date, files: dict[str, bytes]) -> Path:
        """Write all of a day's files together; returns the day folder.

        Staging folders a killed run left for this day are removed first.
        """
        target = self.home.day(session)
        target.parent.mkdir(parents=True, exist_ok=True)
        for leftover in target.parent.glob(f".{target.name}.*"):
            shutil.rmtree(leftover, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
        try:
            for name, payload in files.items():
                (staging / name).write_bytes(payload)
            staging.chmod(0o755)
            replace_directory(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target
