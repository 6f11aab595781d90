"""Reports for people: the daily page, the selection and training pages, their files and charts.

Presentation only, on top of the domain: nothing under `trading_core` outside this package imports
it, and importing the package imports none of its modules (the selection side never loads the
daily report's dependencies). Rendering returns strings or bytes; writing them is the caller's job.

Daily report: `html.py` (`DailyReportData`, `render_daily_report`), its sections (`daily_safety`,
`daily_sections`, `daily_tables`), the paper-account tear sheet (`tear_sheet`,
`tear_sheet_plots`), `daily.py` (`DailyRun` and the day's files), `trades_table.py`.
Selection: `selection_outcome.py` (one selection as the reports read it), `selection_files.py`
(the files of reports/model_selection/), `selection_markdown.py`, `selection_html.py`,
`selection_text.py`, `selection_plots.py`, `leaderboard.py`; the factor tear sheet of the
selection and training pages: `factor_report.py`, `factor_plots.py`.
Shared: `templating.py` (the jinja2 environment, autoescaped), `chart_style.py` and `plots.py`
(charts as deterministic PNG bytes), `formatting.py`, `markdown.py`.
"""
