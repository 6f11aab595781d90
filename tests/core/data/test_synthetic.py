"""The synthetic market: seeded, well-formed, and its planted signal is learnable at the set IC."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trading_core.data.calendar import sessions
from trading_core.data.planted_signal import EXECUTIONS, alpha_weights, planted_signal, rank_ic
from trading_core.data.synthetic import OVERNIGHT_SHARE, SyntheticMarket, generate_synthetic_market
from trading_core.features.labels import forward_returns


@pytest.fixture(scope="module")
def market() -> SyntheticMarket:
    return generate_synthetic_market(symbols=40, years=2, seed=11, ic=0.08, n_sectors=4)


@pytest.fixture(scope="module", params=[0.05, 0.08])
def driftless(request) -> SyntheticMarket:
    """The market of issue 16 (300 stocks x 6 years, seed 23) without drift: the honest setting."""
    return generate_synthetic_market(
        symbols=300, years=6, seed=23, ic=request.param, market_drift=0
    )


def recompute_signal(close: pd.DataFrame, volume: pd.DataFrame) -> pd.DataFrame:
    """The documented formula written out again, from closes and volumes up to t only."""

    def zcs(frame: pd.DataFrame) -> pd.DataFrame:
        values = frame.to_numpy()
        mean = values.mean(axis=1, keepdims=True)
        std = values.std(axis=1, keepdims=True)
        return pd.DataFrame((values - mean) / std, index=frame.index, columns=frame.columns)

    ret1 = close.pct_change(1, fill_method=None)
    ret5 = close.pct_change(5, fill_method=None)
    ret60 = close.pct_change(60, fill_method=None)
    volume_ratio = np.log(volume / volume.rolling(20).mean())
    raw = -0.6 * zcs(ret5) + 0.4 * zcs(ret60) + 0.3 * zcs(volume_ratio) * np.sign(ret1)
    return zcs(raw)


@pytest.mark.parametrize("drift", [0.0003, 0.0])
def test_same_seed_gives_identical_market_and_another_seed_does_not(drift):
    first = generate_synthetic_market(symbols=30, years=1, seed=3, market_drift=drift)
    again = generate_synthetic_market(symbols=30, years=1, seed=3, market_drift=drift)
    other = generate_synthetic_market(symbols=30, years=1, seed=4, market_drift=drift)
    for name, frame in first.data.frames().items():
        pd.testing.assert_frame_equal(frame, again.data.frames()[name], check_exact=True)
        assert not np.allclose(frame.to_numpy(), other.data.frames()[name].to_numpy())
    pd.testing.assert_frame_equal(first.signal, again.signal, check_exact=True)
    pd.testing.assert_series_equal(first.data.benchmark, again.data.benchmark, check_exact=True)
    assert first.data.fingerprint() == again.data.fingerprint() != other.data.fingerprint()
    assert first.oracle_ic == again.oracle_ic
    assert first.oracle_ic_by_execution == again.oracle_ic_by_execution


@pytest.mark.parametrize("ic", [0.05, 0.10, -0.05])
def test_oracle_ic_is_close_to_the_requested_ic(ic):
    market = generate_synthetic_market(symbols=200, years=4, seed=21, ic=ic)
    assert market.oracle_ic == pytest.approx(ic, abs=0.015)
    assert np.sign(market.oracle_ic_horizon) == np.sign(ic)
    assert abs(market.oracle_ic_horizon) > abs(ic) / 2


def test_zero_ic_plants_no_edge():
    market = generate_synthetic_market(symbols=200, years=4, seed=21, ic=0.0)
    assert abs(market.oracle_ic) < 0.01
    assert abs(market.oracle_ic_horizon) < 0.02


def test_zero_ic_plants_no_edge_for_any_execution():
    # each 5-day oracle is a mean of ~1500 overlapping daily Spearman correlations across 300
    # stocks (sd 0.058 each, ~300 independent): a standard error near 0.0035, so 0.01 is ~3 of them
    market = generate_synthetic_market(symbols=300, years=6, seed=23, ic=0.0, market_drift=0)
    assert set(market.oracle_ic_by_execution) == set(EXECUTIONS)
    assert all(abs(ic) < 0.01 for ic in market.oracle_ic_by_execution.values())


def test_a_fill_one_session_late_keeps_part_of_the_edge(driftless):
    oracle = driftless.oracle
    # the next open gives up the overnight share of the first session's alpha, the next close
    # all of the first session's, and the decaying alpha of later sessions remains
    assert oracle("same_close") > oracle("next_open") > oracle("next_close") > 0
    assert oracle("next_close") > oracle("same_close") / 2


def test_the_oracle_per_execution_is_the_rank_ic_of_the_labels_models_learn(driftless):
    data, horizon = driftless.data, driftless.horizon
    for execution in EXECUTIONS:
        labels = forward_returns(data.close, horizon, open_=data.open, execution=execution)
        expected = rank_ic(driftless.signal, labels)
        assert driftless.oracle(execution) == pytest.approx(expected, abs=1e-12), execution
    assert driftless.oracle_ic_horizon == driftless.oracle("same_close")
    with pytest.raises(ValueError, match="unknown execution 'tomorrow'"):
        driftless.oracle("tomorrow")


def beta_premium_t_stat(market: SyntheticMarket) -> float:
    """t-statistic of the daily return of the top-beta quintile minus the bottom one, betas
    estimated against the benchmark over the whole sample."""
    returns = market.data.close.pct_change().iloc[1:]
    index = market.data.benchmark.pct_change().iloc[1:]
    betas = returns.apply(lambda r: np.cov(r, index)[0, 1]) / index.var()
    quantile = betas.rank(pct=True)
    spread = returns.loc[:, quantile > 0.8].mean(axis=1) - returns.loc[:, quantile <= 0.2].mean(
        axis=1
    )
    return spread.mean() / spread.std() * np.sqrt(len(spread))


def test_without_drift_high_beta_names_do_not_outperform():
    flat = generate_synthetic_market(symbols=200, years=4, seed=21, ic=0.08, market_drift=0)
    # the same shocks with a tenfold demo drift: the test can see a premium where there is one
    steep = generate_synthetic_market(symbols=200, years=4, seed=21, ic=0.08, market_drift=0.003)
    assert beta_premium_t_stat(flat) < 2
    assert beta_premium_t_stat(steep) > 5


def test_the_overnight_share_of_the_variance_is_the_documented_one(market):
    data = market.data
    overnight = np.log(data.open / data.close.shift(1)).iloc[1:]
    close_to_close = np.log(data.close / data.close.shift(1)).iloc[1:]
    share = overnight.var() / close_to_close.var()
    assert share.mean() == pytest.approx(OVERNIGHT_SHARE, abs=0.02)


def test_a_signal_moves_the_next_sessions_with_weights_halving_every_two():
    weights = alpha_weights(5)
    assert weights.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(weights[2:] / weights[:-2], 0.5)
    assert alpha_weights(1).tolist() == [1.0]


def test_oracle_ic_is_the_mean_daily_spearman_of_signal_and_next_return(market):
    next_return = market.data.close.shift(-1) / market.data.close - 1
    daily = market.signal.iloc[:-1].corrwith(next_return.iloc[:-1], axis=1, method="spearman")
    assert len(daily) == len(market.signal) - 1
    assert market.oracle_ic == pytest.approx(daily.mean(), abs=1e-12)
    forward = market.data.close.shift(-market.horizon) / market.data.close - 1
    assert market.oracle_ic_horizon == pytest.approx(rank_ic(market.signal, forward), abs=1e-12)
    assert market.horizon == 5


def test_signal_is_the_documented_function_of_past_closes_and_volumes(market):
    expected = recompute_signal(market.data.close, market.data.volume).iloc[60:]
    actual = market.signal.iloc[60:]
    assert not expected.isna().any().any()
    np.testing.assert_allclose(actual.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-9)
    pd.testing.assert_frame_equal(
        planted_signal(market.data.close, market.data.volume).iloc[60:], actual, atol=1e-9
    )


def test_signal_on_a_date_does_not_change_when_later_data_is_removed(market):
    cut = market.data.as_of(market.data.dates[200])
    recut = recompute_signal(cut.close, cut.volume).iloc[60:]
    pd.testing.assert_frame_equal(recut, market.signal.loc[recut.index], atol=1e-9)


def test_signal_is_standardised_across_stocks_from_the_first_date(market):
    values = market.signal.to_numpy()
    np.testing.assert_allclose(values.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(values.std(axis=1), 1.0, atol=1e-12)


def test_dates_are_consecutive_nyse_sessions_from_the_first_on_or_after_start():
    market = generate_synthetic_market(symbols=10, years=0.5, start="2015-01-01", seed=1)
    days = sessions()
    first = days.searchsorted(pd.Timestamp("2015-01-02"))
    assert market.data.first_date == pd.Timestamp("2015-01-02")
    assert len(market.data.dates) == 126
    pd.testing.assert_index_equal(market.data.dates, days[first : first + 126])


def test_frames_are_float64_wide_frames_named_date_and_symbol(market):
    for name, frame in [*market.data.frames().items(), ("signal", market.signal)]:
        assert frame.index.dtype == "datetime64[ns]", name
        assert frame.index.name == "date", name
        assert frame.columns.name == "symbol", name
        assert list(frame.columns) == [f"S{i:02d}" for i in range(40)], name
        assert (frame.dtypes == "float64").all(), name
        assert not frame.isna().any().any(), name
    assert market.data.source == "synthetic"
    assert set(market.data.frames()) == {"close", "open", "high", "low", "volume"}


def test_prices_are_positive_and_bars_are_consistent(market):
    data = market.data
    assert (data.low > 0).all().all()
    assert (data.low <= np.minimum(data.open, data.close)).all().all()
    assert (np.maximum(data.open, data.close) <= data.high).all().all()
    first_close = data.close.iloc[0]
    assert first_close.between(5, 800).all()


def test_volume_is_positive_whole_shares(market):
    volume = market.data.volume
    assert (volume > 0).all().all()
    assert (volume == np.rint(volume)).all().all()


def test_sectors_cover_every_symbol(market):
    sectors = market.data.sectors
    assert sectors.name == "sector"
    assert sectors.index.name == "symbol"
    assert sorted(sectors.index) == market.data.symbols
    assert set(sectors) == {"Sector0", "Sector1", "Sector2", "Sector3"}
    assert sectors.value_counts().min() == 10


def test_benchmark_is_the_equal_weight_index_starting_at_100(market):
    benchmark = market.data.benchmark
    assert benchmark.name == "benchmark"
    pd.testing.assert_index_equal(benchmark.index, market.data.dates)
    assert benchmark.iloc[0] == 100
    mean_return = market.data.close.pct_change().mean(axis=1).iloc[1:]
    np.testing.assert_allclose(benchmark.pct_change().iloc[1:], mean_return, rtol=1e-9)


def test_returns_have_the_documented_scale(market):
    returns = market.data.close.pct_change().iloc[1:]
    vol = returns.std()
    assert vol.between(0.010, 0.035).all()
    assert returns.corrwith(market.data.benchmark.pct_change().iloc[1:]).mean() > 0.2


@pytest.mark.parametrize(
    "arguments",
    [{"symbols": 1}, {"years": 0}, {"ic": 0.9}, {"horizon": 0}, {"n_sectors": 0}],
)
def test_impossible_arguments_are_refused(arguments):
    with pytest.raises(ValueError, match=next(iter(arguments))):
        generate_synthetic_market(**arguments)


def test_a_full_size_market_has_every_session_and_stock():
    """Its speed is a figure of benchmarks/bench_steps.py, not an assertion here."""
    market = generate_synthetic_market(symbols=500, years=10, seed=5)
    assert market.data.close.shape == (2520, 500)
