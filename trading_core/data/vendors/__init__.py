"""Market-data vendors reached over the network (yfinance, Tiingo): raw bars plus corporate actions.

Each vendor answers one question per symbol (`Vendor.history`); `fetching.fetch_bars` asks it for
a whole universe in batches, with retries and backoff, and says which symbols failed.
"""
