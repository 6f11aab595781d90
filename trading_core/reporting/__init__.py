"""Reports for people: the daily HTML report and its charts.

- `DailyReportData`, `render_daily_report` (html.py): one self-contained HTML page per session,
  every untrusted string escaped, byte-identical for identical input.
- plots.py: the charts as PNG bytes (`weights_chart`, `regime_chart`, `ic_chart`).
- selection_plots.py: the champion selection's equity charts as PNG bytes.
- markdown.py: `markdown_text`, untrusted text shown literally in markdown (and its tables).

Rendering returns a string; writing it to disk is the caller's job.
"""

from trading_core.reporting.html import DailyReportData, render_daily_report

__all__ = ["DailyReportData", "render_daily_report"]
