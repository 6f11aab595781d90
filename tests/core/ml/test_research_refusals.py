"""Data and training that cannot give a meaningful model are refused in one line, before any work.

- a data row dated after today (the market date in New York) is refused at import, naming the
  symbol, the date and the file row;
- history shorter than the research settings need (one day of it, or a few months) is refused by
  `train` and `select`, naming the settings and the span of the data; the daily run, which trains
  a model on the spot when there is no champion, refuses too little history for that fit;
- a universe too small for cross-sectional metrics (fewer than 5 names priced on any session) is
  refused by `train`;
- a candidate whose test-period metrics are undefined (NaN) fails the training run: `train` never
  exits 0 with NaN metrics.

The core checks are tested directly; each refusal is also run through the `alphapilot` command a
person would type, which must exit non-zero with one `error:` line, write nothing into
production/ or models/candidates/, and leave the data store as it was.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from homes import FAST
from typer.testing import CliRunner

from app.cli import app
from trading_core.data.calendar import market_today, sessions
from trading_core.data.folder import read_folder, write_folder
from trading_core.data.market import MarketData
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.errors import DataError, ModelError
from trading_core.ml.dataset import Dataset
from trading_core.ml.metrics import MIN_NAMES
from trading_core.ml.research import (
    CandidateResult,
    fit_history,
    require_defined_metrics,
    require_history,
    require_universe,
    research_history,
)

runner = CliRunner()
MARKET = generate_synthetic_market(symbols=6, years=1, seed=3).data  # 252 sessions from 2012
LAST = f"{MARKET.last_date:%Y-%m-%d}"
NEXT = f"{sessions()[sessions() > MARKET.last_date][0]:%Y-%m-%d}"  # the session after the data


def long_prices(data: MarketData) -> pd.DataFrame:
    prices = data.to_long()
    prices["date"] = prices["date"].dt.strftime("%Y-%m-%d")
    return prices


def with_row(folder: Path, symbol: str, day: str) -> int:
    """Append a row for `symbol` on `day` to the folder's prices.csv; its row number in the file."""
    prices = pd.read_csv(folder / "prices.csv", dtype={"symbol": "str"})
    row = prices[prices["symbol"] == symbol].iloc[[-1]].assign(date=day)
    pd.concat([prices, row]).to_csv(folder / "prices.csv", index=False)
    return len(prices) + 2  # the header is line 1


# --- core: a future-dated row -----------------------------------------------------------------


def test_a_row_dated_after_today_is_refused_naming_symbol_date_and_row(tmp_path):
    write_folder(MARKET, tmp_path)
    row = with_row(tmp_path, "S3", NEXT)

    with pytest.raises(DataError) as refused:
        read_folder(tmp_path, today=MARKET.last_date.date())

    assert str(refused.value) == (
        f"row for S3 is dated {NEXT}, after today ({LAST} in New York) (prices.csv row {row})"
    )
    assert read_folder(tmp_path, today=date.fromisoformat(NEXT)).last_date == pd.Timestamp(NEXT)


def test_a_benchmark_row_dated_after_today_is_refused(tmp_path):
    data = generate_synthetic_market(symbols=6, years=0.2, seed=3).data
    write_folder(data, tmp_path)
    benchmark = pd.read_csv(tmp_path / "benchmark.csv")
    last = pd.Timestamp(benchmark["date"].iloc[-1]).date()
    ahead = benchmark.iloc[[-1]].assign(date="2031-01-02")
    pd.concat([benchmark, ahead]).to_csv(tmp_path / "benchmark.csv", index=False)

    with pytest.raises(DataError, match=r"dated 2031-01-02, after today .*benchmark\.csv row"):
        read_folder(tmp_path, today=last)


# --- core: history, universe, metrics --------------------------------------------------------


def test_the_research_history_needed_is_spelled_out_in_settings_names():
    needed, why = research_history(
        horizon=5, test_sessions=252, folds=5, validation_sessions=126, embargo=1
    )

    assert needed == 252 + 5 * 126 + 2 * 6 + 20 + 5
    assert why == (
        "modeling.test_sessions 252 + modeling.cv.folds 5 x modeling.cv.validation_sessions 126"
        " + 2 purge gaps of 6 (modeling.label_horizon 5 + modeling.cv.embargo_sessions 1) + 20"
        " training sessions + modeling.label_horizon 5"
    )


def test_history_one_session_short_is_refused_with_the_span_and_enough_passes():
    needed = research_history(5, 20, 2, 10, 0)
    dates = MARKET.dates[: needed[0]]

    require_history(dates, needed, "training")
    with pytest.raises(DataError) as refused:
        require_history(dates[1:], needed, "training")

    message = str(refused.value)
    assert message.startswith("history too short for training: modeling.test_sessions 20 + ")
    assert f"need {needed[0]} sessions, the data has {needed[0] - 1} " in message
    assert f"({dates[1]:%Y-%m-%d}..{dates[-1]:%Y-%m-%d})" in message
    assert "\n" not in message


def test_one_day_is_too_little_even_for_a_model_fitted_on_the_spot():
    with pytest.raises(DataError, match=r"need 25 sessions, the data has 1 \(2012-01-03\.\."):
        require_history(MARKET.dates[:1], fit_history(5), "a model trained on the spot")


def test_a_universe_without_five_names_on_any_session_is_refused():
    require_universe(MARKET.close.iloc[:, :MIN_NAMES])
    thin = MARKET.close.iloc[:, :MIN_NAMES].copy()
    thin.iloc[::2, 0] = np.nan  # every session has one name missing, the ones between
    thin.iloc[1::2, 1] = np.nan

    with pytest.raises(DataError) as refused:
        require_universe(thin)

    assert str(refused.value) == (
        "universe too small to train: at most 4 symbol(s) priced on any session "
        "(S0, S1, S2, S3, S4); cross-sectional IC and quintile metrics need at least 5"
    )


def nan_candidate(dataset: Dataset, names: int) -> CandidateResult:
    """Scores for only `names` symbols a date: no daily IC is defined, so every metric is NaN."""
    scored = dataset.rows.index[
        dataset.rows.index.get_level_values("symbol").isin([f"S{i}" for i in range(names)])
    ]
    predictions = pd.Series(np.arange(len(scored), dtype=float), index=scored)
    nan = {"rank_ic": float("nan"), "ic": float("nan"), "days": 0.0}
    return CandidateResult("lightgbm", None, {}, predictions, predictions, nan, nan)


def test_a_candidate_with_undefined_test_metrics_fails_naming_it_and_why():
    labels = pd.Series(
        1.0,
        index=pd.MultiIndex.from_product(
            [MARKET.dates[:3], MARKET.symbols], names=["date", "symbol"]
        ),
    )
    dataset = Dataset(labels.to_frame("x"), labels, labels, 5)
    good = CandidateResult("ridge", None, {}, labels, labels, {"rank_ic": 0.02}, {"rank_ic": 0.02})

    require_defined_metrics([good], dataset)
    with pytest.raises(ModelError) as refused:
        require_defined_metrics([good, nan_candidate(dataset, 2)], dataset)

    assert str(refused.value) == (
        "candidate lightgbm has undefined (NaN) test-period metrics: no test session has 5 "
        "scored and labeled names with differing scores (at most 2 names on one session); "
        "nothing was saved"
    )


# --- through the CLI ------------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path) -> dict:
    config = tmp_path / "fast.yaml"
    config.write_text(FAST)
    return {"root": tmp_path, "home": tmp_path / "home", "config": config}


def cli(env: dict, *args: str) -> list[str]:
    return [*args, "--home", str(env["home"]), "--config", str(env["config"])]


def update(env: dict, data: MarketData) -> None:
    folder = env["root"] / "source"
    write_folder(data, folder)
    command = cli(env, "data", "update", "--provider", "folder", "--path", str(folder))
    result = runner.invoke(app, command)
    assert result.exit_code == 0, result.output


def refused(result, *parts: str) -> str:
    """The one `error:` line of a refused command (exit non-zero), checked to name every part."""
    assert result.exit_code != 0, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    for part in parts:
        assert part in errors[0], f"{part!r} not in {errors[0]!r}"
    return errors[0]


def nothing_trained(env: dict) -> None:
    home = env["home"]
    for folder in (home / "production", home / "models" / "candidates"):
        assert not folder.exists() or not any(folder.iterdir()), sorted(folder.rglob("*"))


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_a_data_update_with_a_row_dated_after_today_is_refused_and_stores_nothing(home):
    today = market_today()
    ahead = sessions()[sessions() > pd.Timestamp(today)][0]
    folder = home["root"] / "source"
    write_folder(MARKET, folder)
    row = with_row(folder, "S2", f"{ahead:%Y-%m-%d}")

    result = runner.invoke(
        app, cli(home, "data", "update", "--provider", "folder", "--path", str(folder))
    )

    refused(result, "DataError", "S2", f"{ahead:%Y-%m-%d}", f"prices.csv row {row}", "after today")
    assert not (home["home"] / "data").exists() or not any(
        (home["home"] / "data").rglob("*.parquet")
    )


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
@pytest.mark.parametrize("command", ["train", "select"])
def test_one_day_of_history_is_refused_by_train_and_select_naming_the_settings(home, command):
    update(home, MARKET.since(MARKET.last_date))

    result = runner.invoke(app, cli(home, command))

    refused(
        result,
        "history too short for training",
        "modeling.test_sessions 252",
        "modeling.cv.folds 5 x modeling.cv.validation_sessions 126",
        f"the data has 1 ({LAST}..{LAST})",
    )
    nothing_trained(home)


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_a_few_months_of_history_is_refused_by_train(home):
    update(home, MARKET.since(MARKET.dates[-60]))

    result = runner.invoke(app, cli(home, "train"))

    refused(result, "history too short for training", "the data has 60 (")
    nothing_trained(home)


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_the_daily_run_without_a_champion_refuses_one_day_of_history(home):
    update(home, MARKET.since(MARKET.last_date))

    result = runner.invoke(app, cli(home, "daily", "--date", LAST))

    refused(result, "history too short for a model trained on the spot", "the data has 1")
    nothing_trained(home)
    assert not (home["home"] / "live" / LAST).exists()


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_a_two_symbol_universe_is_refused_by_train(home):
    two = generate_synthetic_market(symbols=2, years=4, seed=3, n_sectors=2).data
    update(home, two)  # 1,008 sessions: history enough for the default research settings

    result = runner.invoke(app, cli(home, "train"))

    refused(result, "universe too small to train", "at most 2 symbol(s)", "(S0, S1)")
    nothing_trained(home)
