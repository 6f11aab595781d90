"""The data source is part of the home: recorded with the store, used by later updates that name
none (CLI, flow or deployment), and never replaced by another source unless asked (`--replace`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from settings import load_settings
from tasks.data import choose_data_source
from trading_core.data.folder import write_folder
from trading_core.data.market import MarketData
from trading_core.data.providers import FolderProvider, SyntheticProvider
from trading_core.data.source import DataSource, choose_source
from trading_core.data.store import MarketStore
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.errors import DataError

runner = CliRunner()


@pytest.fixture(scope="module")
def market_a() -> MarketData:
    return generate_synthetic_market(symbols=6, years=1, seed=3).data


@pytest.fixture(scope="module")
def market_b() -> MarketData:
    return generate_synthetic_market(symbols=5, years=1, seed=4).data


@pytest.fixture(scope="module")
def folders(tmp_path_factory, market_a, market_b) -> tuple[Path, Path]:
    """Two data folders with different markets: (a, b)."""
    root = tmp_path_factory.mktemp("sources")
    write_folder(market_a, root / "a")
    write_folder(market_b, root / "b")
    return root / "a", root / "b"


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` by relative path: any byte written shows."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def forget_record(store: MarketStore) -> None:
    """Make `store` look like one written before sources were recorded (label only)."""
    manifest = json.loads(store.manifest_path.read_text())
    del manifest["provider"]
    store.manifest_path.write_text(json.dumps(manifest, indent=2))


def folder_source(path: Path) -> DataSource:
    return DataSource.of(FolderProvider(path))


# --- the rule ---------------------------------------------------------------------------------


def test_the_first_layer_naming_a_provider_wins_and_fields_come_from_layers_about_it():
    recorded = {"provider": "folder", "path": "/data/a"}
    defaults = {"symbols": 50, "seed": 7}

    def chosen(given, configured):
        layers = {"given": given, "settings": configured, "record": recorded, "defaults": defaults}
        return choose_source(layers, default_provider="bundled")

    assert chosen({}, {}) == ("folder", {"path": "/data/a", "symbols": 50, "seed": 7}, "record")
    assert chosen({}, {"provider": "synthetic", "seed": 1}) == (
        "synthetic",
        {"symbols": 50, "seed": 1},  # the record's folder path is not a synthetic field
        "settings",
    )
    assert chosen({"path": "/data/b"}, {"provider": "synthetic"})[::2] == ("folder", "given")
    assert chosen({"path": "/data/b"}, {})[1]["path"] == "/data/b"  # a path alone: the folder
    assert chosen({"provider": "folder"}, {})[1]["path"] == "/data/a"  # the recorded folder
    assert choose_source({"none": {}}, default_provider="bundled") == ("bundled", {}, "the default")


def test_a_source_is_the_providers_identifying_fields_never_a_secret(tmp_path, monkeypatch):
    @dataclass(frozen=True)
    class KeyedVendor:
        exchange: str
        api_key: str = field(repr=False, compare=False)
        name: str = "eod-vendor"

    monkeypatch.chdir(tmp_path)
    source = DataSource.of(KeyedVendor("US", api_key="s3cret"))

    assert source.to_record() == {"name": "eod-vendor", "exchange": "US"}
    assert folder_source(Path("data")).params == {"path": str(tmp_path / "data")}
    assert DataSource.of(SyntheticProvider(symbols=5)).params["symbols"] == 5


# --- the store --------------------------------------------------------------------------------


def test_the_store_refuses_another_source_in_one_line_naming_both_and_writes_nothing(
    market_a, market_b, tmp_path
):
    store = MarketStore(tmp_path / "data")
    a, b = folder_source(tmp_path / "a"), folder_source(tmp_path / "b")
    store.update(market_a, source=a)
    before = snapshot(store.root)

    with pytest.raises(DataError) as refused:
        store.update(market_b, source=b)

    message = str(refused.value)
    assert "\n" not in message and "--replace" in message
    assert a.describe() in message and b.describe() in message
    assert snapshot(store.root) == before
    assert store.source() == a


def test_replace_puts_the_new_sources_data_in_place_of_the_old(market_a, market_b, tmp_path):
    store = MarketStore(tmp_path / "data")
    store.update(market_a, source=folder_source(tmp_path / "a"))
    b = folder_source(tmp_path / "b")

    result = store.update(market_b, source=b, replace=True)

    assert result.replaced and result.changed and result.source == b.describe()
    assert store.load().fingerprint() == market_b.fingerprint()  # replaced, not merged
    assert store.source() == b


def test_the_same_source_again_writes_nothing_with_or_without_replace(market_a, tmp_path):
    store = MarketStore(tmp_path / "data")
    a = folder_source(tmp_path / "a")
    store.update(market_a, source=a)
    before = snapshot(store.root)

    for replace in (False, True):
        result = store.update(market_a, source=a, replace=replace)
        assert not result.changed and not result.replaced
    assert snapshot(store.root) == before


def test_a_store_without_a_record_is_known_by_its_label_and_records_its_next_update(
    market_a, tmp_path
):
    store = MarketStore(tmp_path / "data")
    store.update(market_a)  # the label: "synthetic"
    forget_record(store)
    parquet = {name: data for name, data in snapshot(store.root).items() if "parquet" in name}

    with pytest.raises(DataError, match="comes from synthetic, but this update asks for folder"):
        store.update(market_a, source=folder_source(tmp_path / "a"))
    synthetic = DataSource.of(SyntheticProvider(symbols=6, years=1, seed=3))
    result = store.update(market_a, source=synthetic)

    assert not result.changed
    assert store.source() == synthetic and not store.source().inferred
    assert {n: d for n, d in snapshot(store.root).items() if "parquet" in n} == parquet


def test_an_old_folder_label_names_its_folder():
    assert DataSource.from_label("folder /data/a") == DataSource("folder", {"path": "/data/a"})
    assert DataSource.from_label("bundled S&P 500") == DataSource("bundled")
    assert DataSource.from_label("folder data").params == {}  # relative: the place is lost
    assert DataSource.from_label("a vendor") is None


# --- which source an update uses -------------------------------------------------------------


def test_a_recorded_synthetic_source_keeps_its_size_and_the_settings_beat_the_record(
    tmp_path, monkeypatch
):
    home = tmp_path / "home"
    recorded = DataSource.of(SyntheticProvider(symbols=5, years=1.0, seed=3, ic=0.1))

    plain = load_settings(home=home)
    assert choose_data_source(plain, recorded) == (recorded, "the home's record")
    assert choose_data_source(plain, recorded, provider="synthetic")[0] == recorded

    config = tmp_path / "settings.yaml"
    config.write_text("data:\n  synthetic:\n    symbols: 9\n")
    source, _ = choose_data_source(load_settings(config, home), recorded)
    assert source.params == {**recorded.params, "symbols": 9}

    monkeypatch.setenv("ALPHAPILOT__DATA__PROVIDER", "bundled")
    source, origin = choose_data_source(load_settings(home=home), recorded)
    assert source == DataSource("bundled") and "environment" in origin

    assert choose_data_source(plain, recorded, provider="folder", path="d")[0] == folder_source(
        Path("d")
    )


def test_the_packaged_defaults_are_not_a_setting_the_user_made(tmp_path):
    recorded = folder_source(tmp_path / "a")
    config = tmp_path / "settings.yaml"
    config.write_text("portfolio:\n  top_k: 5\n")

    assert choose_data_source(load_settings(config, tmp_path / "home"), recorded)[0] == recorded


# --- end to end: the CLI and the flow as a deployment runs it ---------------------------------


def update(home: Path, *args: str, config: Path | None = None):
    where = ["--home", str(home), *(["--config", str(config)] if config else [])]
    return runner.invoke(app, ["data", "update", *args, *where])


def updated(home: Path, *args: str, config: Path | None = None) -> str:
    result = update(home, *args, config=config)
    assert result.exit_code == 0, result.output
    return result.stdout


def refused(home: Path, *args: str, config: Path | None = None) -> str:
    result = update(home, *args, config=config)
    assert result.exit_code != 0
    [line] = result.stderr.strip().splitlines()
    return line


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_a_folder_given_once_is_used_by_later_updates_from_the_cli_and_a_deployment(
    folders, tmp_path
):
    from flows.data_update import data_update

    a, _ = folders
    home = tmp_path / "home"
    assert f"updated from folder {a}:" in updated(home, "--provider", "folder", "--path", str(a))
    before = snapshot(home / "data")

    assert f"market data unchanged from folder {a}:" in updated(home)
    result = data_update(home=str(home))  # a deployment's parameters name no provider

    assert not result.changed and result.source == f"folder {a}"
    assert snapshot(home / "data") == before


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_another_provider_is_refused_in_one_line_and_replace_switches(folders, tmp_path):
    a, b = folders
    home = tmp_path / "home"
    updated(home, "--path", str(a))
    before = snapshot(home / "data")

    line = refused(home, "--provider", "synthetic")
    assert f"comes from folder {a}" in line and "asks for synthetic" in line
    assert "--replace" in line
    assert refused(home, "--path", str(b)).count(str(b)) == 1
    assert snapshot(home / "data") == before

    assert f"market data replaced from folder {b}:" in updated(home, "--path", str(b), "--replace")
    assert f"market data unchanged from folder {b}:" in updated(home)
    assert MarketStore(home / "data").source() == folder_source(b)


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_a_source_set_in_the_config_file_beats_the_record(folders, tmp_path):
    a, b = folders
    home = tmp_path / "home"
    config = tmp_path / "settings.yaml"
    config.write_text(f"data:\n  provider: folder\n  path: {b}\n")
    updated(home, "--path", str(a))

    line = refused(home, config=config)
    assert f"asks for folder {b}" in line and "config file" in line
    assert f"replaced from folder {b}" in updated(home, "--replace", config=config)
    assert f"unchanged from folder {b}" in updated(home, config=config)


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_a_home_from_before_records_adopts_its_folder_and_refuses_another_provider(
    folders, tmp_path
):
    a, _ = folders
    home = tmp_path / "home"
    updated(home, "--path", str(a))
    store = MarketStore(home / "data")
    forget_record(store)
    before = snapshot(home / "data")

    assert f"comes from folder {a}" in refused(home, "--provider", "synthetic")
    assert snapshot(home / "data") == before
    assert f"market data unchanged from folder {a}" in updated(home)
    assert store.source() == folder_source(a) and not store.source().inferred


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_the_demos_bundled_update_works_on_a_fresh_home_and_on_one_it_made_before(tmp_path):
    from flows.data_update import data_update

    home = tmp_path / "home"
    first = data_update(provider="bundled", home=str(home))
    forget_record(MarketStore(home / "data"))  # a demo home from before sources were recorded
    again = data_update(provider="bundled", home=str(home))

    assert first.changed and first.source == "bundled"
    assert not again.changed and again.fingerprint == first.fingerprint
    assert MarketStore(home / "data").source() == DataSource("bundled")
