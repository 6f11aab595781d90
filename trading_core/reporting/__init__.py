"""Reports for people: the daily HTML report and its charts.

- `DailyReportData`, `render_daily_report` (html.py): one self-contained HTML page per session,
  every untrusted string escaped, byte-identical for identical input.
- plots.py: the charts as PNG bytes (`weights_chart`, `regime_chart`, `ic_chart`).
- selection_plots.py: the champion selection's equity charts as PNG bytes.
- markdown.py: `markdown_text`, untrusted text shown literally in markdown (and its tables).
- formatting.py: money, percentages, share counts and plain numbers as every report shows them.
- trades_table.py: the day's trades as the report's rows; `trades_table` for a Prefect artifact.
- leaderboard.py: the champion selection's top combinations as rows, with pass/fail and why.

Rendering returns a string; writing it to disk is the caller's job.
"""

from trading_core.reporting.html import DailyReportData, render_daily_report

__all__ = ["DailyReportData", "render_daily_report"]
