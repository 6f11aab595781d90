"""Market data: the MarketData container, providers, the local store, validation and calendar."""

from trading_core.data.market import MarketData

__all__ = ["MarketData"]
