"""The `alphapilot` commands, one module per group; `app.cli` puts them under their names.

Each command imports its flows and libraries when it runs, not when the command line loads:
`alphapilot daily` pays only for what the daily run needs
(tests/cross_cutting/test_daily_imports.py).
"""
