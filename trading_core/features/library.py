"""The feature library: about 60 daily features in the spirit of qlib's Alpha158, on wide frames.

Implements:

- `Feature`: a name, the sessions of history it needs (t included), the fields it needs beyond
  the close, and how to compute it.
- `feature_set`: the configured features in a fixed order (the settings section `features`).
- `available` / `skipped`: which features the data supports, and the names of those it does not
  (volume features without volume, bar features without open/high/low): skipped, never faked.
- `compute_features`: the long frame the models read, each raw feature with its cross-sectional
  percentile rank (`<name>_rank`) and z-score (`<name>_z`).

The families (the formulas live in `price`, `volume`, `ohlc`; the window engine in `windows`):

- closes only: returns `ret_<w>`, momentum `mom_12_1` and `mom_6_1` (skipping the last month),
  residual short-term reversal `rev_<w>`, volatility `vol_<w>`, downside volatility
  `downvol_<w>`, skewness `skew_<w>`, maximum drawdown `mdd_<w>`, distance from the window's
  high and low `high_dist_<w>` / `low_dist_<w>`, close over its moving average `ma_dist_<w>`,
  moving-average crosses `ma_cross_<short>_<long>`, market beta `beta_<w>` and residual
  volatility `resvol_<w>`. The market is the benchmark when the data has one, otherwise the
  equal-weight mean of the universe's daily returns on each date (same-date data only).
- volume: `volume_change_1`, `volume_ratio_<w>`, `volume_vol_<w>`, `volume_price_corr_<w>`,
  `amihud_<w>`, `dollar_volume_<w>`.
- bars: `hl_range`, `close_loc`, `gap`, `intraday_ret`, `park_vol_<w>`.

Every feature's value at date t uses data up to and including t only, and is NaN until the
symbol has `lookback` sessions of history: rolling windows need every session of the window, are
never centred and nothing is filled from later dates.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from trading_core.data.market import MarketData
from trading_core.errors import ConfigError
from trading_core.features import ohlc, price, volume
from trading_core.features.cross_section import rank_rows, zscore_rows

FEATURE_DTYPE = "float32"

REVERSAL_BETA_WINDOW = 60  # sessions of the beta that `rev_<w>` removes the market with
TRANSFORMS = ("", "_rank", "_z")  # column suffixes per feature: raw, percentile rank, z-score


class Inputs:
    """What a feature's `compute` receives: the MarketData, plus shared derived frames.

    Attribute access falls through to the MarketData (`close`, `volume`, `benchmark`, ...).
    `returns` and `market` are computed once per `compute_features` call and shared.
    """

    def __init__(self, data: MarketData, members: pd.DataFrame | None = None) -> None:
        self.data = data
        self.members = members  # a point-in-time universe: the equal-weight market's names

    def __getattr__(self, name: str) -> Any:
        if name == "data":  # not set yet (copying, unpickling): no MarketData to ask
            raise AttributeError(name)
        return getattr(self.data, name)

    @cached_property
    def returns(self) -> pd.DataFrame:
        """Daily simple returns of each symbol (NaN on its first session and across gaps)."""
        return price.daily_returns(self.data.close)

    @cached_property
    def market(self) -> pd.Series:
        """Daily market returns: the benchmark's, or without one the equal-weight universe's
        (its members on each date, with a point-in-time universe)."""
        returns = self.returns if self.members is None else self.returns.where(self.members)
        return price.market_returns(self.data.benchmark, returns)


@dataclass(frozen=True)
class Feature:
    """A named feature, the sessions of history it needs (t included) and how to compute it.

    `needs` lists the optional MarketData fields (open, high, low, volume) it reads; without
    them the feature is skipped.
    """

    name: str
    lookback: int
    # called with the Inputs alone; `...` as the lambdas bind their window as a default argument
    compute: Callable[..., pd.DataFrame]
    needs: tuple[str, ...] = ()

    @property
    def needs_volume(self) -> bool:
        return "volume" in self.needs


def _check_windows(name: str, windows: Sequence[int], least: int) -> list[int]:
    """The distinct windows in the given order; each must be at least `least` sessions."""
    for window in windows:
        if int(window) != window or window < least:
            raise ConfigError(
                f"features.{name}: windows must be whole numbers >= {least}, got {window}"
            )
    return list(dict.fromkeys(int(w) for w in windows))


def _price_features(
    momentum_windows: list[int],
    reversal_window: int,
    volatility_windows: list[int],
    skew_windows: list[int],
    range_windows: list[int],
    ma_windows: list[int],
    ma_pairs: list[tuple[int, int]],
    beta_windows: list[int],
) -> list[Feature]:
    """The close-only features, family by family."""
    features = [
        Feature(f"ret_{w}", w + 1, lambda d, w=w: price.momentum(d.close, w))
        for w in momentum_windows
    ]
    features += [
        Feature("mom_12_1", 253, lambda d: price.momentum(d.close, 252, skip=21)),
        Feature("mom_6_1", 127, lambda d: price.momentum(d.close, 126, skip=21)),
        Feature(
            f"rev_{reversal_window}",
            max(reversal_window, REVERSAL_BETA_WINDOW) + 1,
            lambda d: price.residual_reversal(
                d.returns, d.market, reversal_window, REVERSAL_BETA_WINDOW
            ),
        ),
    ]
    features += [
        Feature(f"vol_{w}", w + 1, lambda d, w=w: price.volatility(d.returns, w))
        for w in volatility_windows
    ]
    features += [
        Feature(f"downvol_{w}", w + 1, lambda d, w=w: price.downside_volatility(d.returns, w))
        for w in volatility_windows
    ]
    features += [
        Feature(f"skew_{w}", w + 1, lambda d, w=w: price.skewness(d.returns, w))
        for w in skew_windows
    ]
    for family, function in (
        ("mdd", price.max_drawdown),
        ("high_dist", price.distance_from_high),
        ("low_dist", price.distance_from_low),
    ):
        features += [
            Feature(f"{family}_{w}", w, lambda d, w=w, f=function: f(d.close, w))
            for w in range_windows
        ]
    features += [
        Feature(f"ma_dist_{w}", w, lambda d, w=w: price.ma_distance(d.close, w)) for w in ma_windows
    ]
    features += [
        Feature(
            f"ma_cross_{short}_{long}",
            max(short, long),
            lambda d, s=short, n=long: price.ma_cross(d.close, s, n),
        )
        for short, long in ma_pairs
    ]
    features += [
        Feature(f"beta_{w}", w + 1, lambda d, w=w: price.market_beta(d.returns, d.market, w))
        for w in beta_windows
    ]
    features += [
        Feature(
            f"resvol_{w}", w + 1, lambda d, w=w: price.residual_volatility(d.returns, d.market, w)
        )
        for w in beta_windows
    ]
    return features


def _volume_features(w: int) -> list[Feature]:
    """The volume features over a `w`-session window."""
    needs = ("volume",)
    return [
        Feature("volume_change_1", 2, lambda d: volume.volume_change(d.volume, 1), needs),
        Feature(f"volume_ratio_{w}", w, lambda d: volume.volume_ratio(d.volume, w), needs),
        Feature(f"volume_vol_{w}", w, lambda d: volume.volume_volatility(d.volume, w), needs),
        Feature(
            f"volume_price_corr_{w}",
            w + 1,
            lambda d: volume.volume_price_corr(d.returns, d.volume, w),
            needs,
        ),
        Feature(
            f"amihud_{w}",
            w + 1,
            lambda d: volume.amihud_illiquidity(d.returns, d.close, d.volume, w),
            needs,
        ),
        Feature(
            f"dollar_volume_{w}", w, lambda d: volume.dollar_volume(d.close, d.volume, w), needs
        ),
    ]


def _bar_features(w: int) -> list[Feature]:
    """The open/high/low features; the Parkinson volatility over a `w`-session window."""
    range_needs, open_needs = ("high", "low"), ("open",)
    return [
        Feature("hl_range", 1, lambda d: ohlc.intraday_range(d.high, d.low, d.close), range_needs),
        Feature("close_loc", 1, lambda d: ohlc.close_location(d.high, d.low, d.close), range_needs),
        Feature("gap", 2, lambda d: ohlc.overnight_gap(d.open, d.close), open_needs),
        Feature("intraday_ret", 1, lambda d: ohlc.intraday_return(d.open, d.close), open_needs),
        Feature(
            f"park_vol_{w}", w, lambda d: ohlc.parkinson_volatility(d.high, d.low, w), range_needs
        ),
    ]


def feature_set(
    momentum_windows: Sequence[int] = (1, 5, 10, 20, 60, 120, 250),
    reversal_window: int = 5,
    volatility_windows: Sequence[int] = (5, 10, 20, 60, 120),
    skew_windows: Sequence[int] = (20, 60, 120),
    range_windows: Sequence[int] = (20, 60, 120, 250),
    ma_windows: Sequence[int] = (5, 10, 20, 60, 120, 250),
    ma_pairs: Sequence[Sequence[int]] = ((5, 20), (20, 60), (50, 200)),
    beta_windows: Sequence[int] = (60, 120),
    volume_window: int = 20,
    bar_window: int = 20,
) -> list[Feature]:
    """The configured features, in a fixed order (closes only, then volume, then bars).

    Windows are in sessions: `momentum_windows` for `ret_<w>`; `reversal_window` for `rev_<w>`;
    `volatility_windows` for `vol_<w>` and `downvol_<w>`; `skew_windows` for `skew_<w>`;
    `range_windows` for `mdd_<w>`, `high_dist_<w>`, `low_dist_<w>`; `ma_windows` for
    `ma_dist_<w>`; `ma_pairs` (short, long) for `ma_cross_<short>_<long>`; `beta_windows` for
    `beta_<w>` and `resvol_<w>`; `volume_window` for every windowed volume feature; `bar_window`
    for `park_vol_<w>`. The defaults give 48 close-only features, 6 volume and 5 bar features.
    """
    pairs = []
    for pair in ma_pairs:
        if len(pair) != 2:
            raise ConfigError(f"features.ma_pairs: each must be a (short, long) pair, got {pair}")
        _check_windows("ma_pairs", pair, 1)
        pairs.append((int(pair[0]), int(pair[1])))
    features = _price_features(
        _check_windows("momentum_windows", momentum_windows, 1),
        _check_windows("reversal_window", [reversal_window], 1)[0],
        _check_windows("volatility_windows", volatility_windows, 2),
        _check_windows("skew_windows", skew_windows, 3),
        _check_windows("range_windows", range_windows, 1),
        _check_windows("ma_windows", ma_windows, 1),
        list(dict.fromkeys(pairs)),
        _check_windows("beta_windows", beta_windows, 2),
    )
    features += _volume_features(_check_windows("volume_window", [volume_window], 2)[0])
    features += _bar_features(_check_windows("bar_window", [bar_window], 1)[0])
    return features


def _supported(feature: Feature, data: MarketData) -> bool:
    return all(getattr(data, field) is not None for field in feature.needs)


def available(features: list[Feature], data: MarketData) -> list[Feature]:
    """The features this data can support: those needing a field the data lacks drop out."""
    return [f for f in features if _supported(f, data)]


def skipped(features: list[Feature], data: MarketData) -> list[str]:
    """Names of the features left out for lack of volume or open/high/low, in feature order."""
    return [f.name for f in features if not _supported(f, data)]


def column_names(features: list[Feature], transforms: Sequence[str] = TRANSFORMS) -> list[str]:
    """The columns `compute_features` gives for these features: per feature, one per transform
    suffix in `TRANSFORMS` order (raw, `_rank`, `_z` by default)."""
    return [f"{f.name}{suffix}" for f in features for suffix in TRANSFORMS if suffix in transforms]


def _wide_values(
    feature: Feature, inputs: Inputs, close: pd.DataFrame, dates: int | None = None
) -> np.ndarray:
    """The feature as a writable C-ordered float64 (dates x symbols) array aligned with the
    closes: on their last `dates` dates when given, computed from all of them."""
    wide = feature.compute(inputs)
    if not isinstance(wide, pd.DataFrame):
        raise TypeError(f"feature {feature.name} returned {type(wide).__name__}, not a DataFrame")
    if not (wide.index.equals(close.index) and wide.columns.equals(close.columns)):
        wide = wide.reindex(index=close.index, columns=close.columns)
    values = wide.to_numpy(dtype="float64")
    return np.array(values if dates is None else values[len(values) - dates :], order="C")


def _transformed(values: np.ndarray, suffix: str, out: np.ndarray | None = None) -> np.ndarray:
    """The raw values (suffix ""), their cross-sectional ranks or z-scores; into `out` if given."""
    if suffix == "_rank":
        return rank_rows(values, out=out)
    if suffix == "_z":
        return zscore_rows(values, out=out)
    if out is None:
        return values
    np.copyto(out, values)
    return out


def _fill_columns(
    feature: Feature,
    inputs: Inputs,
    listed: np.ndarray,
    rows: np.ndarray,
    transforms: list[str],
    out: list[np.ndarray],
) -> None:
    """Write the feature's `transforms` (raw, ranks, z-scores) on the listed rows into `out`
    (`listed`: the last dates of the closes, or all of them)."""
    values = _wide_values(feature, inputs, inputs.close, dates=len(listed))
    values[~(listed & np.isfinite(values))] = np.nan
    for suffix, column in zip(transforms, out, strict=True):
        if len(rows) == values.size:  # every (date, symbol) listed: the column is the wide array
            _transformed(values, suffix, out=column.reshape(values.shape))
            continue
        with np.errstate(invalid="ignore"):  # NaN cast to float32 warns spuriously on this path
            # mode "raise" would buffer `out`
            np.take(_transformed(values, suffix).ravel(), rows, out=column, mode="clip")


def compute_features(
    data: MarketData,
    features: list[Feature],
    n_jobs: int | None = None,
    dtype: str = FEATURE_DTYPE,
    members: pd.DataFrame | None = None,
    transforms: Sequence[str] = TRANSFORMS,
    last: int | None = None,
) -> pd.DataFrame:
    """Long frame indexed by (date, symbol): each raw feature, its `_rank` and its `_z`.

    Rows are the (date, symbol) pairs with a close, by date then in the closes' symbol order;
    with `members` (dates x symbols, True inside the point-in-time universe: see
    `trading_core.data.universe.membership`), only those of members, so ranks and z-scores compare
    a date's members. Raw values still use every price, including those before a name joined.
    Columns follow the features' order, three per feature: the raw value (inf becomes NaN), the
    percentile rank in (0, 1] among the symbols priced that date, and the z-score across them
    (population std) clipped to [-5, 5]. Ranks and z-scores use only the same date's values.
    Features the data cannot support (see `skipped`) are left out. Columns are `dtype`: float32 by default (ample for features, half the memory).
    `transforms` (suffixes of `TRANSFORMS`) keeps only those columns of each feature, and only
    they are computed: a model that reads z-scores alone needs a third of the memory.
    With `last`, only the rows of the last that many dates: the earlier ones only feed the
    features' windows (a daily run scores one date and monitors a few weeks).

    Features are computed `n_jobs` at a time on threads (numpy releases the GIL; default: up to
    2, the CPUs available); the result does not depend on it.
    """
    unknown = set(transforms) - set(TRANSFORMS)
    if unknown or not transforms:
        raise ValueError(
            f"compute_features: transforms must be among {TRANSFORMS}, got {tuple(transforms)}"
        )
    suffixes = [suffix for suffix in TRANSFORMS if suffix in transforms]
    chosen = available(features, data)
    names = [f.name for f in chosen]
    if len(set(names)) != len(names):
        duplicated = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"compute_features: duplicate feature names {', '.join(duplicated)}")
    close = data.close
    n_symbols = close.shape[1]
    dates = close.index if last is None else close.index[max(0, len(close.index) - last) :]
    listed = close.loc[dates].notna()
    if members is not None:
        listed &= members.reindex(index=dates, columns=close.columns, fill_value=False)
    listed = np.ascontiguousarray(listed.to_numpy())
    rows = np.flatnonzero(listed.ravel())
    width = len(suffixes)
    # one column-major block: each output column is contiguous and becomes the frame as it is
    out = np.empty((len(rows), width * len(chosen)), order="F", dtype=dtype)
    inputs = Inputs(data, members)
    inputs.returns, inputs.market  # noqa: B018 (shared inputs, computed before any thread)

    def fill(j: int) -> None:
        columns = [out[:, width * j + k] for k in range(width)]
        _fill_columns(chosen[j], inputs, listed, rows, suffixes, columns)

    workers = n_jobs or min(2, os.cpu_count() or 1)
    if workers > 1 and len(chosen) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(fill, range(len(chosen))))
    else:
        for j in range(len(chosen)):
            fill(j)
    index = pd.MultiIndex(
        levels=[pd.DatetimeIndex(dates), close.columns],
        codes=[rows // n_symbols, rows % n_symbols],
        names=["date", "symbol"],
    )
    return pd.DataFrame(out, index=index, columns=column_names(chosen, suffixes), copy=False)
