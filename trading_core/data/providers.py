"""Data providers: one interface, several sources, the same MarketData out.

- `bundled`: real S&P 500 daily adjusted closes shipped with skfolio (20 survivors, 1990-2022),
  the S&P 500 index as benchmark and a GICS sector map. No volume or OHLC.
- `synthetic`: a seeded market with a planted signal (trading_core.data.synthetic).
- `folder`: the data folder format of docs/reference/data.md.
- `yfinance`, `tiingo`: network vendors fetched incrementally (trading_core.data.vendors); here
  only their identity, the configured client is built from the settings by the data tasks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from importlib import resources
from importlib.metadata import version
from pathlib import Path
from typing import Protocol

import pandas as pd

from trading_core.data.folder import read_folder
from trading_core.data.market import MarketData
from trading_core.data.synthetic import MARKET_DRIFT, generate_synthetic_market
from trading_core.data.validation import validate_market_data
from trading_core.data.vendors.provider import VENDORS, VendorProvider
from trading_core.io import digest

BUNDLED_NOTE = (
    "The bundled S&P 500 set holds 20 companies that survived 1990-2022: an equal-weight portfolio "
    "of them has a Sharpe near 1 against about 0.5 for the index. Backtests on it are flattered "
    "by survivorship bias."
)
SURVIVOR_NOTE = (
    "No point-in-time membership (universe.csv) was given: the symbols may be a survivor set, the "
    "names still listed today, and backtests on them are flattered by survivorship bias."
)


def survivorship_note(data: MarketData) -> str | None:
    """The survivorship caveat reports show for `data`: the bundled set's own note, the general
    one for any other real data without a universe, None with a universe or for synthetic data
    (generated names do not survive by selection)."""
    if data.source.startswith("bundled"):
        return BUNDLED_NOTE
    if data.universe is not None or data.source == "synthetic":
        return None
    return SURVIVOR_NOTE


class DataProvider(Protocol):
    """Anything that can return market data; `name` appears in the store manifest and reports."""

    @property
    def name(self) -> str:
        """The provider's name (bundled, synthetic, folder, or the vendor's)."""
        ...

    def fetch(self) -> MarketData:
        """Return the provider's full validated history."""
        ...

    def revision(self) -> str:
        """What identifies the source's current content without fetching it (a cache key part).

        A vendor returns e.g. its last-update stamp, or "" when it cannot tell: the as-of date
        and the cache expiration then bound how long a fetch is reused.
        """
        ...


@dataclass(frozen=True)
class BundledProvider:
    """The real S&P 500 sample that ships inside skfolio: works offline, no download."""

    name: str = "bundled"

    def fetch(self) -> MarketData:
        from skfolio.datasets import load_sp500_dataset, load_sp500_index

        prices = load_sp500_dataset()
        close = prices.astype("float64")
        close.index = pd.DatetimeIndex(close.index, name="date").as_unit("ns")
        close.columns = pd.Index(close.columns.astype("str"), name="symbol")
        index = load_sp500_index().iloc[:, 0].astype("float64")
        index.index = pd.DatetimeIndex(index.index, name="date").as_unit("ns")
        sectors_file = resources.files("trading_core.data") / "sp500_sectors.csv"
        with resources.as_file(sectors_file) as path:
            table = pd.read_csv(path, dtype="str")
        sectors = pd.Series(
            table["sector"].to_numpy(),
            index=pd.Index(table["symbol"], name="symbol"),
            name="sector",
        )
        data = MarketData(
            close=close,
            sectors=sectors,
            benchmark=index.rename("benchmark"),
            source="bundled S&P 500",
        )
        validate_market_data(data)
        return data

    def revision(self) -> str:
        sectors = resources.files("trading_core.data") / "sp500_sectors.csv"
        return digest(self.name, version("skfolio"), sectors.read_text())


@dataclass(frozen=True)
class SyntheticProvider:
    """A seeded synthetic market with a planted signal of known information coefficient."""

    symbols: int = 50
    years: float = 8
    seed: int = 7
    ic: float = 0.05
    drift: float = MARKET_DRIFT
    name: str = "synthetic"

    def fetch(self) -> MarketData:
        market = generate_synthetic_market(
            symbols=self.symbols,
            years=self.years,
            seed=self.seed,
            ic=self.ic,
            market_drift=self.drift,
        )
        return market.data

    def revision(self) -> str:
        return digest(asdict(self))


@dataclass(frozen=True)
class FolderProvider:
    """A data folder on disk (CSV, CSV.gz or Parquet)."""

    path: Path
    name: str = "folder"

    def fetch(self) -> MarketData:
        return read_folder(self.path)

    def revision(self) -> str:
        """Every file's name, size and modification time: any edit changes it."""
        files = sorted(p for p in Path(self.path).rglob("*") if p.is_file())
        stats = [(p.relative_to(self.path), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
        return digest(self.path.resolve(), stats)


def make_provider(
    kind: str,
    path: Path | str | None = None,
    symbols: int = 50,
    years: float = 8,
    seed: int = 7,
    ic: float = 0.05,
    drift: float = MARKET_DRIFT,
) -> DataProvider:
    """The provider called `kind` (bundled, synthetic, folder, or a vendor: its identity only)."""
    if kind == "bundled":
        return BundledProvider()
    if kind == "synthetic":
        return SyntheticProvider(symbols=symbols, years=years, seed=seed, ic=ic, drift=drift)
    if kind == "folder":
        if path is None:
            raise ValueError("the folder provider needs a path")
        return FolderProvider(Path(path))
    if kind in VENDORS:
        return VendorProvider(kind)
    raise ValueError(
        f"unknown data provider {kind!r}: use bundled, synthetic, folder, {', '.join(VENDORS)}"
    )
