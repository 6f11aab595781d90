"""alphapilot's pure core: data, features, models, portfolios, trades, safety and reports.

Nothing in this package imports Prefect; every function is testable without an orchestrator.
"""
