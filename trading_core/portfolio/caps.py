"""Position caps: the most one name and one sector may hold, applied exactly and verified.

- `Caps`: a cap per name and, optionally, a cap per sector over a symbol -> sector map.
- `Caps.apply` / `cap_weights`: water-filling of raw weights to a gross exposure under both caps.
- `Caps.check`: the verification every portfolio passes before it is returned.

A symbol with no known sector (absent from the map, or no map at all) has no sector cap; only the
name cap binds on it. A missing sectors.csv then leaves the portfolio invested as before instead
of piling every name into one capped "unknown" bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

TOLERANCE = 1e-9  # how far a returned weight, sector or total may sit past its bound
NEGLIGIBLE = 1e-12  # raw weights below this share of the largest are treated as zero


@dataclass(frozen=True, eq=False)
class Caps:
    """No name above `max_weight`; no known sector above `max_sector_weight` (None: no sector cap)."""

    max_weight: float
    sectors: pd.Series | None = None
    max_sector_weight: float | None = None

    @cached_property
    def _sector_of(self) -> dict[str, str]:
        """symbol -> sector for the names under a sector cap (empty without one)."""
        if self.sectors is None or self.max_sector_weight is None:
            return {}
        pairs = zip(self.sectors.index.tolist(), self.sectors.tolist(), strict=True)
        return {symbol: str(sector) for symbol, sector in pairs if not pd.isna(sector)}

    def sector_codes(self, symbols: Sequence[str]) -> tuple[np.ndarray, list[str]]:
        """Sector code per symbol (-1: no sector cap on it) and the sector label of each code."""
        labels: dict[str, int] = {}
        codes = [
            labels.setdefault(self._sector_of[symbol], len(labels))
            if symbol in self._sector_of
            else -1
            for symbol in symbols
        ]
        return np.array(codes, dtype=np.intp), list(labels)

    def capacity(self, symbols: Sequence[str]) -> float:
        """The most `symbols` can hold together: every name and every sector filled to its cap."""
        codes, labels = self.sector_codes(symbols)
        return float(_capacity(codes, len(labels), self.max_weight, self.max_sector_weight))

    def apply(self, raw: pd.Series, exposure: float) -> pd.Series:
        """Scale positive `raw` weights to sum to `exposure` with every name and sector within its cap.

        Water-filling: all names share the total in proportion to `raw` at one common level; a name
        whose share would pass the name cap is held at it, and a sector whose names would together
        pass the sector cap is held at the sector cap and split among its names by the same rule.
        The level rises until the total is met or every name and sector is full (the rest is cash).
        Non-positive raw weights get zero. Exact (no iteration tolerance) and deterministic.
        """
        values = np.clip(raw.to_numpy(dtype="float64"), 0.0, None)
        codes, labels = self.sector_codes(raw.index.tolist())
        weights = _water_fill(
            values, codes, len(labels), exposure, self.max_weight, self.max_sector_weight
        )
        return pd.Series(weights, index=raw.index)

    def check(self, weights: pd.Series, total: float, tolerance: float = TOLERANCE) -> None:
        """Raise ValueError naming the first broken rule: finite, long-only, name, sector, total."""
        values = weights.to_numpy(dtype="float64")
        symbols = weights.index
        if not np.isfinite(values).all():
            raise ValueError(f"weight is not finite for {_names(symbols, ~np.isfinite(values))}")
        if (values < -tolerance).any():
            raise ValueError(f"negative weight for {_names(symbols, values < -tolerance)}")
        over = values > self.max_weight + tolerance
        if over.any():
            raise ValueError(
                f"weight above the cap {self.max_weight:g} for {_names(symbols, over)}"
            )
        self._check_sectors(values, symbols, tolerance)
        if abs(values.sum() - total) > tolerance:
            raise ValueError(f"weights sum to {values.sum():.6f}, expected {total:.6f}")

    def _check_sectors(self, values: np.ndarray, symbols: pd.Index, tolerance: float) -> None:
        """Raise ValueError naming a sector whose weights add up to more than the sector cap."""
        cap = self.max_sector_weight
        if cap is None:  # no sector cap: sector_codes gives no labels to check
            return
        codes, labels = self.sector_codes(symbols.tolist())
        totals = _sector_sums(values, codes, len(labels))
        for label, held in zip(labels, totals, strict=True):
            if held > cap + tolerance:
                raise ValueError(
                    f"sector {label} holds {held:.6f}, above its cap {self.max_sector_weight:g}"
                )


def cap_weights(
    raw: pd.Series,
    exposure: float,
    max_weight: float,
    sectors: pd.Series | None = None,
    max_sector_weight: float | None = None,
) -> pd.Series:
    """Scale positive `raw` weights to sum to `exposure` under name and sector caps (see Caps.apply)."""
    return Caps(max_weight, sectors, max_sector_weight).apply(raw, exposure)


def _water_fill(
    raw: np.ndarray,
    codes: np.ndarray,
    n_sectors: int,
    exposure: float,
    cap: float,
    sector_cap: float | None,
) -> np.ndarray:
    """Weights min(cap, level * raw) per free name, sectors held at their cap, summing to the target.

    Each pass fixes every name or sector that overflows at the current level; the level only rises
    as parts are fixed, so whatever overflows now overflows at the final level too. At most one pass
    per name and sector.
    """
    if (
        raw > 0
    ).any():  # the solution is scale-free: rescale so subnormal raw weights cannot overflow
        raw = np.where(raw > 0, raw / raw[raw > 0].max(), 0.0)
    live = raw > NEGLIGIBLE  # a trillionth of the largest is no position; its level would overflow
    raw = np.where(live, raw, 0.0)
    target = min(exposure, _capacity(np.where(live, codes, -2), n_sectors, cap, sector_cap))
    limit = np.inf if sector_cap is None else sector_cap
    at_cap = np.zeros(len(raw), dtype=bool)
    full = np.zeros(n_sectors + 1, dtype=bool)  # by code; the last slot (code -1) stays False
    level = 0.0  # no positive raw weight: nothing is held
    while True:
        free = live & ~at_cap & ~full[codes]
        if not free.any():
            break
        held = cap * at_cap.sum() + (limit * full.sum() if full.any() else 0.0)
        level = (target - held) / raw[free].sum()
        demand = np.minimum(cap, level * raw)
        overflow = np.append(_sector_sums(demand, codes, n_sectors) > limit, False) & ~full
        over_cap = free & (level * raw > cap) & ~overflow[codes]
        if not overflow.any() and not over_cap.any():
            break
        full |= overflow
        at_cap = (at_cap | over_cap) & ~full[codes]
    weights = np.where(at_cap, cap, np.where(free, level * raw, 0.0))
    for sector in np.flatnonzero(full):
        members = codes == sector
        no_sectors = np.full(members.sum(), -1)
        weights[members] = _water_fill(raw[members], no_sectors, 0, limit, cap, None)
    return weights


def _capacity(codes: np.ndarray, n_sectors: int, cap: float, sector_cap: float | None) -> float:
    """Sum over sectors of min(sector cap, names x cap), plus cap for each name without a sector.

    Codes below -1 mark names that hold nothing (they add no capacity).
    """
    counts = np.bincount(codes[codes >= 0], minlength=n_sectors)
    in_sectors = np.minimum(counts * cap, sector_cap if sector_cap is not None else np.inf).sum()
    return float(in_sectors + cap * (codes == -1).sum())


def _sector_sums(values: np.ndarray, codes: np.ndarray, n_sectors: int) -> np.ndarray:
    """Total of `values` per sector code (names without a sector are left out)."""
    known = codes >= 0
    return np.bincount(codes[known], weights=values[known], minlength=n_sectors)


def _names(symbols: pd.Index, mask: np.ndarray) -> str:
    return ", ".join(map(str, symbols[mask]))
