"""Market regime: trend plus volatility rank, hysteresis, no look-ahead, and the real crises."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from settings import load_settings
from trading_core.data.market import MarketData
from trading_core.data.providers import make_provider
from trading_core.regime import (
    EQUAL_WEIGHT_SOURCE,
    NORMAL,
    RISK_OFF,
    RISK_ON,
    RegimeDetector,
    confirm,
    equal_weight_index,
)


def index_from_returns(returns: np.ndarray, start: str = "2000-01-03") -> pd.Series:
    """An index level series (starts at 100) on business days from daily simple returns."""
    dates = pd.bdate_range(start, periods=len(returns), name="date")
    return pd.Series(100 * np.cumprod(1 + returns), index=dates, name="benchmark")


def switches(codes: pd.Series | np.ndarray) -> int:
    """How many times a label sequence changes value."""
    values = np.asarray(codes)
    return int((values[1:] != values[:-1]).sum())


@pytest.fixture(scope="module")
def detector() -> RegimeDetector:
    """The detector with the product's configured defaults."""
    return RegimeDetector(**load_settings().regime.model_dump(exclude={"exposure"}))


@pytest.fixture(scope="module")
def random_walk() -> pd.Series:
    """12 years of a seeded index with changing drift and volatility, so every regime occurs."""
    rng = np.random.default_rng(11)
    drift = np.repeat(rng.normal(0.0004, 0.0015, 30), 100)
    vol = np.repeat(rng.uniform(0.005, 0.03, 30), 100)
    return index_from_returns(drift + vol * rng.standard_normal(3000))


# Planted phases, in sessions: warm-up uptrend, calm uptrend with falling volatility, crash,
# bear market, recovery with volatility decaying from bear to calm levels.
WARMUP, CALM, CRASH, BEAR, RECOVERY = 400, 200, 25, 100, 300
EDGES = np.cumsum([0, WARMUP, CALM, CRASH, BEAR, RECOVERY])
CRASH_START = int(EDGES[2])


@pytest.fixture(scope="module")
def planted() -> pd.Series:
    """Phases with known regimes: calm uptrend, a fast -45% crash, a bear market, a recovery."""
    rng = np.random.default_rng(3)
    drift = np.repeat([0.001, 0.0015, -0.02, -0.001, 0.0025], [WARMUP, CALM, CRASH, BEAR, RECOVERY])
    vol = np.concatenate(
        [
            np.full(WARMUP, 0.007),
            np.geomspace(0.007, 0.003, CALM),
            np.full(CRASH, 0.025),
            np.full(BEAR, 0.012),
            np.geomspace(0.012, 0.003, RECOVERY),
        ]
    )
    returns = drift + vol * rng.standard_normal(len(drift))
    returns[CRASH_START] = -0.05
    return index_from_returns(returns)


# ---------------------------------------------------------------------------------------------
# no look-ahead


def test_the_random_walk_visits_every_regime(detector, random_walk):
    counts = detector.history(random_walk).value_counts()
    assert set(counts.index) == {RISK_OFF, NORMAL, RISK_ON}, counts.to_dict()


@pytest.mark.parametrize("cut", [400, 900, 1500, 2222, 2999])
def test_a_history_cut_at_t_equals_the_full_history_up_to_t(detector, random_walk, cut):
    t = random_walk.index[cut]
    full = detector.history(random_walk)
    truncated = detector.history(random_walk.loc[:t])
    pd.testing.assert_series_equal(truncated, full.loc[:t])


@pytest.mark.parametrize("cut", [600, 1500, 2500])
def test_changing_prices_after_t_leaves_labels_up_to_t_unchanged(detector, random_walk, cut):
    t = random_walk.index[cut]
    changed = random_walk.copy()
    changed.iloc[cut + 1 :] *= np.linspace(0.3, 3.0, len(changed) - cut - 1)
    before = detector.history(random_walk)
    after = detector.history(changed)
    pd.testing.assert_series_equal(after.loc[:t], before.loc[:t])
    assert not after.loc[t:].iloc[1:].equals(before.loc[t:].iloc[1:]), "the change had no effect"


def test_a_range_is_labelled_with_its_warmup_from_earlier_dates(detector, random_walk):
    start, end = random_walk.index[1000], random_walk.index[1800]
    window = detector.history(random_walk, start=start, end=end)
    pd.testing.assert_series_equal(window, detector.history(random_walk).loc[start:end])
    assert window.index[0] == start and window.index[-1] == end
    assert window.name == "regime" and window.dtype == "int64"


def test_every_label_is_normal_before_the_windows_fill(detector, random_walk):
    history = detector.history(random_walk)
    assert (history.iloc[: detector.warmup_sessions - 1] == NORMAL).all()
    assert (history.iloc[detector.warmup_sessions :] != NORMAL).any()


# ---------------------------------------------------------------------------------------------
# hysteresis


def test_a_whipsawing_index_flips_far_less_with_confirmation():
    """An index oscillating around its fast average every few sessions keeps its confirmed label."""
    rng = np.random.default_rng(5)
    t = np.arange(2000)
    log_price = 0.0003 * t + 0.03 * np.sin(2 * np.pi * t / 6)
    log_price += np.cumsum(0.004 * rng.standard_normal(len(t)))
    dates = pd.bdate_range("2000-01-03", periods=len(t), name="date")
    whipsaw = pd.Series(100 * np.exp(log_price), index=dates)
    instant = RegimeDetector(confirm_sessions=1).history(whipsaw)
    confirmed = RegimeDetector(confirm_sessions=3).history(whipsaw)
    n_instant, n_confirmed = switches(instant), switches(confirmed)
    assert n_instant >= 300, f"the series does not whipsaw: {n_instant} unconfirmed switches"
    assert n_confirmed <= 0.2 * n_instant, f"{n_confirmed} confirmed vs {n_instant} unconfirmed"


def test_a_label_alternating_every_session_never_switches():
    raw = np.array([NORMAL, RISK_OFF] * 50 + [RISK_ON, NORMAL] * 50)
    assert (confirm(raw, 2) == NORMAL).all()
    assert switches(confirm(raw, 1)) == len(raw) - 1


@pytest.mark.parametrize("sessions", [1, 3, 5])
def test_a_sustained_crash_switches_after_exactly_confirm_sessions(planted, sessions):
    signals = RegimeDetector(confirm_sessions=sessions).signals(planted)
    raw, labels = signals["raw"].to_numpy(), signals["regime"].to_numpy()
    assert labels[CRASH_START - 1] == RISK_ON, "the calm uptrend should end Risk-On"
    assert (raw[CRASH_START : CRASH_START + sessions] == RISK_OFF).all(), "the crash is not caught"
    assert (labels[CRASH_START : CRASH_START + sessions - 1] == RISK_ON).all()
    assert labels[CRASH_START + sessions - 1] == RISK_OFF


# ---------------------------------------------------------------------------------------------
# planted regimes


def share(history: pd.Series, code: int) -> float:
    return float((history == code).mean())


def phase(history: pd.Series, number: int, skip: int = 0, last: int | None = None) -> pd.Series:
    """Labels of planted phase `number` (0 warm-up .. 4 recovery), minus `skip` first sessions."""
    begin, end = int(EDGES[number]) + skip, int(EDGES[number + 1])
    return history.iloc[begin if last is None else end - last : end]


def test_planted_calm_crash_bear_and_recovery_get_their_regimes(detector, planted):
    history = detector.history(planted)
    calm = phase(history, 1, skip=50)
    crash = phase(history, 2, skip=detector.confirm_sessions)
    bear = phase(history, 3)
    early_recovery, late_recovery = phase(history, 4).iloc[:30], phase(history, 4, last=100)
    assert share(calm, RISK_ON) >= 0.8, f"calm uptrend Risk-On share {share(calm, RISK_ON):.2f}"
    assert share(calm, RISK_OFF) == 0, f"calm uptrend Risk-Off share {share(calm, RISK_OFF):.2f}"
    assert share(crash, RISK_OFF) == 1, f"crash Risk-Off share {share(crash, RISK_OFF):.2f}"
    assert share(bear, RISK_OFF) == 1, f"bear Risk-Off share {share(bear, RISK_OFF):.2f}"
    assert share(early_recovery, RISK_ON) == 0, "Risk-On before the trend has turned"
    recovered = share(late_recovery, RISK_ON)
    assert recovered >= 0.9, f"late recovery Risk-On share {recovered:.2f}"


def test_high_volatility_does_not_override_a_clear_uptrend():
    """A steep uptrend whose volatility jumps stays out of Risk-Off: the trend is clearly up."""
    rng = np.random.default_rng(8)
    returns = np.concatenate(
        [0.0008 + 0.005 * rng.standard_normal(500), 0.006 + 0.012 * rng.standard_normal(60)]
    )
    detector = RegimeDetector()
    signals = detector.signals(index_from_returns(returns))
    late = signals.iloc[520:]
    assert (late["volatility_rank"] >= detector.high_volatility_quantile).mean() > 0.8
    assert (late["regime"] != RISK_OFF).all(), late["regime"].value_counts().to_dict()


# ---------------------------------------------------------------------------------------------
# source of the index


@pytest.fixture(scope="module")
def universe(random_walk) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    returns = rng.normal(0.0003, 0.015, (len(random_walk), 8))
    columns = pd.Index([f"S{i}" for i in range(8)], name="symbol")
    return pd.DataFrame(100 * np.cumprod(1 + returns, axis=0), random_walk.index, columns)


def test_without_a_benchmark_the_equal_weight_universe_is_used_and_named(detector, universe):
    state = detector.detect(MarketData(close=universe))
    assert state.source == EQUAL_WEIGHT_SOURCE and "equal-weight" in state.source
    pd.testing.assert_series_equal(state.index_close, equal_weight_index(universe))
    pd.testing.assert_series_equal(state.history, detector.history(equal_weight_index(universe)))
    assert state.code == state.history.iloc[-1]


def test_an_all_nan_benchmark_counts_as_no_benchmark(detector, universe):
    empty = pd.Series(np.nan, index=universe.index, name="benchmark")
    _, source = detector.index_of(MarketData(close=universe, benchmark=empty))
    assert source == EQUAL_WEIGHT_SOURCE


def test_with_a_benchmark_the_benchmark_is_used(detector, universe, random_walk):
    state = detector.detect(MarketData(close=universe, benchmark=random_walk))
    assert state.source == "benchmark"
    pd.testing.assert_series_equal(state.index_close, random_walk)
    assert state.label in {"Risk-Off", "Normal", "Risk-On"}
    assert state.key in {"risk_off", "normal", "risk_on"}


def test_inconsistent_settings_are_refused():
    with pytest.raises(ValueError, match="fast_window"):
        RegimeDetector(fast_window=200, slow_window=50)
    with pytest.raises(ValueError, match="quantile"):
        RegimeDetector(high_volatility_quantile=0.4, low_volatility_quantile=0.5)


# ---------------------------------------------------------------------------------------------
# the real S&P 500


@pytest.fixture(scope="module")
def sp500() -> MarketData:
    return make_provider("bundled").fetch()


@pytest.mark.parametrize(
    ("start", "end", "code", "minimum"),
    [
        ("2008-10-06", "2008-11-28", RISK_OFF, 0.8),
        ("2020-03-16", "2020-03-31", RISK_OFF, 0.8),
    ],
)
def test_the_real_crises_are_risk_off(
    detector, sp500, start, end, code, minimum, record_property, capsys
):
    state = detector.detect(sp500)
    assert state.source == "benchmark"
    window = state.history.loc[start:end]
    assert len(window) >= 10
    measured = share(window, code)
    record_property("risk_off_share", measured)
    with capsys.disabled():
        print(f"\n{start}..{end}: Risk-Off on {measured:.1%} of {len(window)} sessions")
    assert measured >= minimum, f"{start}..{end}: Risk-Off share {measured:.1%} < {minimum:.0%}"


def test_calm_2017_is_mostly_not_risk_off(detector, sp500, record_property, capsys):
    index, _ = detector.index_of(sp500)
    year = detector.history(index, start="2017-01-01", end="2017-12-31")
    assert len(year) > 240
    not_off = 1 - share(year, RISK_OFF)
    record_property("not_risk_off_share", not_off)
    with capsys.disabled():
        print(f"\n2017: not Risk-Off on {not_off:.1%} of {len(year)} sessions")
    assert not_off >= 0.8, f"2017: not-Risk-Off share {not_off:.1%} < 80%"
