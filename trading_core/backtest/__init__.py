"""Backtesting: the vectorized engine and the performance metrics of its daily paths."""

from trading_core.backtest.engine import BacktestResult, VectorizedBacktester

__all__ = ["BacktestResult", "VectorizedBacktester"]
