"""Weighting schemes over a chosen set of symbols, all long-only, under name and sector caps.

- `max_sharpe`: the tangency portfolio of Grinold alphas under the Ledoit-Wolf covariance
  (PyPortfolioOpt's EfficientFrontier formulation, solved by `mean_variance`); with a turnover
  penalty, the best Sharpe net of turnover.
- `min_volatility`: the least-variance portfolio under the same covariance (likewise); with a
  turnover penalty, variance plus the penalty on turnover (PyPortfolioOpt's
  `objective_functions.transaction_cost`).
- `hrp`: hierarchical risk parity (Lopez de Prado 2016), PyPortfolioOpt's HRPOpt algorithm.
- `inverse_vol`: weights proportional to 1 / volatility of daily returns over a window.
- `equal_weight`: the same weight for every name.

Each returns weights summing to `exposure`, or to less when the caps cannot hold it (the rest is
cash); a scheme that cannot honour the caps raises ValueError with the reason.

The turnover penalty (`turnover_penalty`, annual expected return given up per unit of one-way
turnover ½ Σ|w - current|, `trading_core.turnover`) prices the trades away from `current` (the
weights held now, fractions of portfolio value): names the alphas barely prefer are left where
they are. A penalty of 0 solves exactly the problem without it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from trading_core.portfolio import mean_variance
from trading_core.portfolio.caps import Caps
from trading_core.portfolio.estimates import Estimates, aligned, recent_closes

OPTIMIZERS = ("max_sharpe", "min_volatility", "hrp", "inverse_vol", "equal_weight")
SOLVER_TOLERANCE = 1e-6  # how far a solver's weight may sit past a bound before it is a failure
# Solver weights below this (of a unit budget) are set to zero: an interior-point solver's
# weights move by up to about 1e-4 within its tolerance, and a name kept at dust would count as
# held for the rank buffer, so runs would part ways on solver noise (a 0.01% position is none).
DUST = 1e-4


def equal_weight(symbols: Sequence[str], exposure: float, caps: Caps) -> pd.Series:
    """Equal weights over `symbols`."""
    return caps.apply(pd.Series(1.0, index=symbols), exposure)


def inverse_vol(
    close: pd.DataFrame, symbols: Sequence[str], exposure: float, caps: Caps, window: int = 60
) -> pd.Series:
    """Weights proportional to the inverse of each name's daily-return volatility over `window`.

    A missing close drops the returns it is part of (pandas' pct_change, then std skipping NaN);
    a name needs two returns and some movement.
    """
    prices = recent_closes(close, symbols, window + 1)
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero close: no usable volatility
        returns = prices[1:] / prices[:-1] - 1.0
    enough = (~np.isnan(returns)).sum(axis=0) >= 2
    vol = np.full(len(symbols), np.nan)
    vol[enough] = np.nanstd(returns[:, enough], axis=0, ddof=1)
    bad = ~(vol > 0)
    if bad.any():
        names = ", ".join(np.asarray(symbols)[bad])
        raise ValueError(f"no usable volatility for {names} over {window} sessions")
    return caps.apply(pd.Series(1.0 / vol, index=symbols), exposure)


def max_sharpe(
    estimates: Estimates,
    exposure: float,
    caps: Caps,
    risk_free_rate: float = 0.0,
    solver: str = "CLARABEL",
    current: pd.Series | None = None,
    turnover_penalty: float = 0.0,
) -> pd.Series:
    """The highest ratio of expected excess return to volatility the caps allow.

    With `turnover_penalty` > 0, the highest ratio net of turnover from `current` (None: nothing
    held): (excess return - penalty x T) / volatility, T the one-way turnover it could avoid. On
    the unit budget the problem is posed on (see `_efficient`) the whole portfolio's one-way
    turnover is budget/2 |w - start|_1 with start = held / budget, and its excess return and
    volatility are budget times those of w, so the ratio is the portfolio's Sharpe net of the
    penalty. The part every candidate must trade, investing cash or selling what exceeds the
    budget (|1 - sum(start)|, at most |w - start|_1), is not charged: in a ratio it would act as
    a higher risk-free rate and stop an empty book from being invested at all, instead of
    choosing between trades. So an empty book gives the plain tangency portfolio, and a book
    already at the optimum stays there. (An L1 term added to PyPortfolioOpt's max_sharpe would
    penalize its homogenized variable, not w - start; `mean_variance` poses it right.)
    """
    mu = estimates.expected_returns
    best = int(np.argmax(mu))
    if mu[best] <= risk_free_rate:
        raise ValueError(
            f"no expected return above the risk-free rate {risk_free_rate:g} "
            f"(highest {mu[best]:.4f}, {estimates.symbols[best]})"
        )

    def solve(budget: float) -> np.ndarray:
        return mean_variance.max_sharpe_weights(
            mu - risk_free_rate,
            estimates.covariance,
            _bounds(estimates, budget, caps),
            solver,
            start=_held(estimates, current) / budget,
            penalty=turnover_penalty,
        )

    return _efficient(estimates, exposure, caps, solve)


def min_volatility(
    estimates: Estimates,
    exposure: float,
    caps: Caps,
    solver: str = "CLARABEL",
    current: pd.Series | None = None,
    turnover_penalty: float = 0.0,
) -> pd.Series:
    """The lowest ex-ante variance the caps allow.

    With `turnover_penalty` > 0, the lowest variance + penalty x one-way turnover from `current`
    (None: nothing held), both of the whole portfolio: the quadratic utility at risk aversion 2
    with no expected returns, as min_volatility ignores them. On the unit budget the problem is
    posed on (see `_efficient`), that is PyPortfolioOpt's `transaction_cost` with the weights held
    divided by the budget and k = penalty / (2 x budget).
    """

    def solve(budget: float) -> np.ndarray:
        return mean_variance.min_volatility_weights(
            estimates.covariance,
            _bounds(estimates, budget, caps),
            solver,
            start=_held(estimates, current) / budget,
            cost=turnover_penalty / (2 * budget),
        )

    return _efficient(estimates, exposure, caps, solve)


def hrp(estimates: Estimates, exposure: float, caps: Caps) -> pd.Series:
    """Hierarchical risk parity weights, then scaled to `exposure` and re-capped by water-filling."""
    return caps.apply(pd.Series(hrp_weights(estimates.returns), index=estimates.symbols), exposure)


def hrp_weights(returns: np.ndarray) -> np.ndarray:
    """HRP weights summing to 1: PyPortfolioOpt 1.6 `HRPOpt(returns).optimize()` in numpy.

    Single-linkage clustering on the distance sqrt((1 - correlation) / 2), names in the tree's
    leaf order, then recursive halving with inverse-variance cluster weights on the sample
    covariance. The same numbers as HRPOpt (a test pins it) without its per-cluster pandas
    indexing, which costs about 70 ms at 50 names.
    """
    import scipy.cluster.hierarchy as sch
    import scipy.spatial.distance as ssd

    n = returns.shape[1]
    if n == 1:
        return np.ones(1)
    corr = np.corrcoef(returns, rowvar=False)
    cov = np.cov(returns, rowvar=False)
    distance = np.sqrt(np.clip((1.0 - corr) / 2.0, 0.0, 1.0))
    link = sch.linkage(ssd.squareform(distance, checks=False), "single")
    weights = np.ones(n)
    clusters = [_leaves(link)]
    while clusters:
        clusters = [c[j:k] for c in clusters for j, k in _halves(len(c)) if len(c) > 1]
        for first, second in zip(clusters[::2], clusters[1::2], strict=True):
            first_var, second_var = _cluster_variance(cov, first), _cluster_variance(cov, second)
            alpha = 1 - first_var / (first_var + second_var)
            weights[first] *= alpha
            weights[second] *= 1 - alpha
    return weights


def _leaves(link: np.ndarray) -> np.ndarray:
    """The names in the order of the linkage tree's leaves, left to right: scipy's `leaves_list`
    (the same pre-order walk), without its validation of the linkage, which costs more than the
    rest of HRP together."""
    n = len(link) + 1
    order, stack = [], [2 * n - 2]  # the root
    while stack:
        node = stack.pop()
        if node < n:
            order.append(node)
        else:
            left, right = link[node - n, :2]
            stack += [int(right), int(left)]
    return np.array(order)


def _halves(size: int) -> tuple[tuple[int, int], tuple[int, int]]:
    return (0, size // 2), (size // 2, size)


def _cluster_variance(cov: np.ndarray, members: np.ndarray) -> float:
    """Variance of the inverse-variance portfolio of `members`."""
    block = cov[members][:, members]
    weights = 1 / np.diag(block)
    weights /= weights.sum()
    return float(weights @ block @ weights)


def _efficient(
    estimates: Estimates,
    exposure: float,
    caps: Caps,
    solve: Callable[[float], np.ndarray],
) -> pd.Series:
    """Solve a mean-variance problem on a unit budget and return its weights scaled to `exposure`.

    The problems' weights sum to 1, so `solve(budget)` poses the problem on a unit budget with
    every cap divided by the budget (`exposure`, or the most the caps can hold when that is less:
    the rest stays in cash, as with every other optimizer); the solution is checked against those
    bounds (a solver's near-miss beyond SOLVER_TOLERANCE is a failure), cleared of dust and
    re-capped exactly at `exposure`.
    """
    symbols = estimates.symbols
    budget = min(exposure, caps.capacity(symbols))  # what the caps cannot hold stays in cash
    if budget <= 0:
        return pd.Series(0.0, index=symbols)
    unit = solve(budget)
    caps.check(pd.Series(unit * budget, index=symbols), budget, tolerance=SOLVER_TOLERANCE)
    return caps.apply(pd.Series(np.where(unit >= DUST, unit, 0.0), index=symbols), budget)


def _bounds(estimates: Estimates, budget: float, caps: Caps) -> mean_variance.Bounds:
    """Name and sector caps of `estimates.symbols` divided by `budget` (a sector whose names
    cannot pass its cap needs no constraint)."""
    codes, labels = caps.sector_codes(estimates.symbols)  # no labels without a sector cap
    counts = np.bincount(codes[codes >= 0], minlength=len(labels))
    cap = caps.max_sector_weight
    binding = [
        code
        for code, count in enumerate(counts)
        if cap is not None and count * caps.max_weight > cap
    ]
    return mean_variance.Bounds(
        name=min(1.0, caps.max_weight / budget),
        groups=(codes == np.array(binding, dtype=np.intp)[:, None]).astype("float64"),
        limits=np.array([] if cap is None else [cap / budget for _ in binding]),
    )


def _held(estimates: Estimates, current: pd.Series | None) -> np.ndarray:
    """The weights held now of the optimizer's names (0 where none is held)."""
    if current is None:
        return np.zeros(len(estimates.symbols))
    held = aligned(current, estimates.symbols)
    return np.where(np.isnan(held), 0.0, held)
