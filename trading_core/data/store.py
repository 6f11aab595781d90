"""The local market-data store under <home>/data/: validated, fingerprinted, written atomically.

Layout: `manifest.json` names the current Parquet files (`prices-<fp>.parquet`, long format;
`sectors-<fp>.parquet`; `benchmark-<fp>.parquet`) and records the data's source (`provider`, see
trading_core.data.source). New files are written first and the manifest is replaced atomically
last, so a crash leaves the previous version readable and nothing partial, and the recorded source
always describes the data beside it.

The manifest also records each file's SHA-256 (`checksums`). Loading checks the files' bytes
against them, which also vouches for the recorded fingerprint (the same bytes parse to the same
content), so the content is not hashed again on every load; a manifest without checksums (written
before they were recorded) is checked by hashing the loaded content against its fingerprint.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd

from trading_core.data.adjust import RawHistory
from trading_core.data.market import MarketData
from trading_core.data.quality import QualityPolicy, QualityReport, assess, enforce
from trading_core.data.source import DataSource
from trading_core.data.validation import validate_market_data, validate_prices
from trading_core.errors import DataError
from trading_core.io import atomic_write_bytes

MANIFEST = "manifest.json"
LOADED = ("prices", "sectors", "benchmark", "universe")  # the files `load` reads
SOURCE_RECORD = "provider"  # the manifest's record of the data's source


@dataclass(frozen=True)
class UpdateResult:
    """What an update did: rows added, whether history was rewritten, the resulting fingerprint,
    the source the data came from and whether it replaced the store's previous source."""

    changed: bool
    rows_added: int
    history_revised: bool
    fingerprint: str
    first_date: str
    last_date: str
    symbols: int
    source: str
    replaced: bool = False
    quality: QualityReport | None = None


def normalized(data: MarketData) -> MarketData:
    """The same data in the store's canonical dtypes, so fingerprints match before and after I/O."""
    benchmark = data.benchmark
    if benchmark is not None:
        benchmark = benchmark.astype("float64").rename("benchmark")
        benchmark.index = pd.DatetimeIndex(benchmark.index, name="date").as_unit("ns")
    sectors = data.sectors.astype("str").rename("sector").rename_axis("symbol").sort_index()
    universe = data.universe
    if universe is not None:
        universe = universe[["symbol", "start", "end"]].astype(
            {"symbol": "str", "start": "datetime64[ns]", "end": "datetime64[ns]"}
        )
        universe = universe.sort_values(["symbol", "start"], kind="stable").reset_index(drop=True)
    return MarketData.from_long(
        data.to_long(), sectors=sectors, benchmark=benchmark, source=data.source, universe=universe
    )


class MarketStore:
    """Market data kept as Parquet under `root`, replaced only by validated, complete versions."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    def exists(self) -> bool:
        return self.manifest_path.exists()

    def manifest(self) -> dict:
        """The current manifest; DataError if the store was never filled or is unreadable."""
        if not self.exists():
            raise DataError(f"no market data in {self.root}: run `alphapilot data update` first")
        try:
            return json.loads(self.manifest_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DataError(
                f"market data manifest {self.manifest_path} is unreadable: {exc}"
            ) from None

    def load(self, as_of: pd.Timestamp | str | None = None) -> MarketData:
        """The stored data (cut at the close of `as_of` when given), checked against its fingerprint."""
        manifest = self.manifest()
        files = manifest["files"]
        try:
            payloads = {k: (self.root / files[k]).read_bytes() for k in LOADED if files.get(k)}
            vouched = self._check_files(payloads, manifest)
            frames = {k: pd.read_parquet(io.BytesIO(payload)) for k, payload in payloads.items()}
        except DataError:
            raise
        except Exception as exc:  # missing or truncated Parquet
            raise DataError(f"market data store {self.root} is damaged: {exc}") from None
        sectors, bench = frames["sectors"], frames.get("benchmark")
        sector_series = pd.Series(  # "str" even when empty, as `normalized` makes it
            sectors["sector"].astype("str").to_numpy(),
            index=pd.Index(sectors["symbol"].astype("str"), name="symbol"),
            name="sector",
            dtype="str",
        )
        benchmark = None
        if bench is not None:
            benchmark = pd.Series(
                bench["close"].to_numpy("float64"),
                index=pd.DatetimeIndex(bench["date"], name="date").as_unit("ns"),
                name="benchmark",
            )
        data = MarketData.from_long(
            frames["prices"],
            sectors=sector_series,
            benchmark=benchmark,
            source=manifest["source"],
            universe=frames.get("universe"),
        )
        if vouched:
            data = data.with_fingerprint(manifest["fingerprint"])
        elif data.fingerprint() != manifest["fingerprint"]:
            raise DataError(
                f"market data in {self.root} does not match its manifest fingerprint "
                f"({manifest['fingerprint']}): the store was modified outside alphapilot"
            )
        if as_of is None:
            return data
        if pd.Timestamp(as_of) < data.first_date:
            raise DataError(
                f"no market data on or before {pd.Timestamp(as_of):%Y-%m-%d}: the store holds "
                f"{data.first_date:%Y-%m-%d}..{data.last_date:%Y-%m-%d}"
            )
        return data.as_of(as_of)

    def _check_files(self, payloads: dict[str, bytes], manifest: dict) -> bool:
        """Whether the manifest's checksums vouch for `payloads` (False: it records none);
        DataError naming the first file whose bytes differ from the recorded ones."""
        checksums = manifest.get("checksums")
        if not checksums:
            return False
        for kind, payload in payloads.items():
            if hashlib.sha256(payload).hexdigest() != checksums.get(kind):
                raise DataError(
                    f"market data file {self.root / manifest['files'][kind]} does not match its "
                    "manifest checksum (and so its fingerprint): the store was modified outside "
                    "alphapilot"
                )
        return True

    def raw(self) -> RawHistory | None:
        """The vendor's bars as traded and its corporate actions, when the source gave them."""
        files = self.manifest()["files"] if self.exists() else {}
        if not files.get("raw"):
            return None
        try:
            bars = pd.read_parquet(self.root / files["raw"])
            actions = pd.read_parquet(self.root / files["actions"])
        except Exception as exc:  # missing or truncated Parquet
            raise DataError(f"market data store {self.root} is damaged: {exc}") from None
        return RawHistory(bars, actions)

    def span(self) -> tuple[str, str]:
        """The first and last stored sessions (`YYYY-MM-DD`), from the manifest."""
        manifest = self.manifest()
        return manifest["first_date"], manifest["last_date"]

    def source(self) -> DataSource | None:
        """The source of the stored data: as recorded, or as far as the label of a store that
        predates recorded sources tells; None for an empty store or an unknown old label."""
        if not self.exists():
            return None
        manifest = self.manifest()
        record = manifest.get(SOURCE_RECORD)
        return (
            DataSource.from_record(record) if record else DataSource.from_label(manifest["source"])
        )

    def check_source(self, source: DataSource, replace: bool = False, asked_by: str = "") -> bool:
        """Whether an update from `source` replaces the data of another source (with `replace`).

        DataError naming both sources, and `asked_by` (where the request came from), when the store
        holds another source's data and `replace` is False: a store is never rewritten silently.
        """
        recorded = self.source()
        if recorded is None or recorded.covers(source):
            return False
        if not replace:
            asker = asked_by or "this update"
            raise DataError(
                f"the market data in {self.root} comes from {recorded.describe()}, but {asker} "
                f"asks for {source.describe()}: to replace the store with it, run the update with "
                "--replace (flow parameter replace=true)"
            )
        return True

    def update(
        self,
        incoming: MarketData,
        policy: QualityPolicy = QualityPolicy(),
        source: DataSource | None = None,
        replace: bool = False,
        raw: RawHistory | None = None,
    ) -> UpdateResult:
        """Merge a provider's data into the store; a no-op when nothing changed (idempotent).

        New sessions are appended. If the provider revised history the store already holds (for
        example re-adjusted closes after a dividend), the provider's full history replaces it.
        The merged history is judged by `policy` (trading_core.data.quality: gaps, jumps, across
        the seam between stored and new sessions too) and refused with a QualityRefusal, which
        carries the quality report; an accepted update returns it.

        `raw`: the vendor's bars as traded and its corporate actions, from which `incoming` was
        derived (trading_core.data.adjust); kept beside it, and its events judge the jumps.

        `source` is recorded with the data. Data from another source than the recorded one is
        refused (`check_source`) unless `replace`, which puts it in place of the stored data
        instead of merging. Without `source`, the store's record is kept as it is.
        """
        validate_prices(incoming.to_long(), source=incoming.source, row_offset=None)
        incoming = normalized(incoming)
        validate_market_data(incoming)
        manifest = self.manifest() if self.exists() else None
        current = self.load() if manifest is not None else None
        replacing = source is not None and self.check_source(source, replace)
        merged, revised, added = self._merge(None if replacing else current, incoming)
        report = assess(merged, policy, raw)
        enforce(report)
        fingerprint = merged.fingerprint()
        recorded = manifest.get(SOURCE_RECORD) if manifest is not None else None
        record = source.to_record() if source is not None else recorded
        result = partial(
            UpdateResult,
            fingerprint=fingerprint,
            first_date=f"{merged.first_date:%Y-%m-%d}",
            last_date=f"{merged.last_date:%Y-%m-%d}",
            symbols=len(merged.symbols),
            source=source.describe() if source is not None else incoming.source,
            replaced=replacing,
            quality=report,
        )
        unchanged = current is not None and fingerprint == current.fingerprint()
        if unchanged and raw is not None:  # the derived data may match while the raw bars moved
            stored_raw = self.raw()
            unchanged = (
                stored_raw is not None
                and stored_raw.bars.equals(raw.bars)
                and stored_raw.actions.equals(raw.actions)
            )
        if unchanged:
            # the same data, newly recorded (or from the new source); unchanged data has a manifest
            if record != recorded and manifest is not None:
                self._write_manifest(merged, fingerprint, manifest["files"], record)
            return result(changed=False, rows_added=0, history_revised=False)
        self._write(merged, fingerprint, record, raw)
        return result(changed=True, rows_added=added, history_revised=revised)

    @staticmethod
    def _merge(current: MarketData | None, incoming: MarketData) -> tuple[MarketData, bool, int]:
        incoming_rows = int(incoming.close.notna().sum().sum())
        if current is None:
            return incoming, False, incoming_rows
        overlap = current.close.index.intersection(incoming.close.index)
        old = current.to_long()
        new = incoming.to_long()
        old_overlap = old[old["date"].isin(overlap)].reset_index(drop=True)
        new_overlap = new[new["date"].isin(overlap)].reset_index(drop=True)
        same_history = old_overlap.equals(new_overlap) and current.sectors.equals(incoming.sectors)
        if not same_history or incoming.first_date < current.first_date:
            return (
                incoming,
                True,
                int(incoming.close.loc[current.last_date :].iloc[1:].notna().sum().sum()),
            )
        appended = new[new["date"] > current.last_date]
        prices = pd.concat([old, appended], ignore_index=True)
        benchmark = incoming.benchmark
        if current.benchmark is not None and benchmark is not None:
            later = benchmark[benchmark.index > current.benchmark.index[-1]]
            benchmark = pd.concat([current.benchmark, later])
        merged = MarketData.from_long(
            prices,
            sectors=incoming.sectors,
            benchmark=benchmark,
            source=incoming.source,
            universe=incoming.universe,
        )
        return merged, False, len(appended)

    def _write(
        self, data: MarketData, fingerprint: str, record: dict | None, raw: RawHistory | None
    ) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        files = {
            "prices": f"prices-{fingerprint}.parquet",
            "sectors": f"sectors-{fingerprint}.parquet",
        }
        data.to_long().to_parquet(self.root / files["prices"], index=False)
        data.sectors.rename_axis("symbol").rename("sector").reset_index().to_parquet(
            self.root / files["sectors"], index=False
        )
        if data.benchmark is not None:
            files["benchmark"] = f"benchmark-{fingerprint}.parquet"
            data.benchmark.rename("close").rename_axis("date").reset_index().to_parquet(
                self.root / files["benchmark"], index=False
            )
        if data.universe is not None:
            files["universe"] = f"universe-{fingerprint}.parquet"
            data.universe.to_parquet(self.root / files["universe"], index=False)
        if raw is not None:
            files["raw"] = f"raw-{fingerprint}.parquet"
            files["actions"] = f"actions-{fingerprint}.parquet"
            raw.bars.to_parquet(self.root / files["raw"], index=False)
            raw.actions.to_parquet(self.root / files["actions"], index=False)
        self._write_manifest(data, fingerprint, files, record)
        keep = set(files.values()) | {MANIFEST}
        for stale in self.root.glob("*.parquet"):
            if stale.name not in keep:
                stale.unlink(missing_ok=True)

    def _write_manifest(
        self, data: MarketData, fingerprint: str, files: dict[str, str], record: dict | None
    ) -> None:
        manifest = {
            "source": data.source,
            SOURCE_RECORD: record,
            "fingerprint": fingerprint,
            "first_date": f"{data.first_date:%Y-%m-%d}",
            "last_date": f"{data.last_date:%Y-%m-%d}",
            "symbols": data.symbols,
            "has_volume": data.has_volume,
            "has_benchmark": data.benchmark is not None,
            "files": files,
            "checksums": {
                kind: hashlib.sha256((self.root / name).read_bytes()).hexdigest()
                for kind, name in files.items()
            },
        }
        atomic_write_bytes(self.manifest_path, json.dumps(manifest, indent=2).encode())
