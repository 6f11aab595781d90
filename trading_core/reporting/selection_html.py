"""The model selection report as one self-contained HTML page.

Implements `selection_report_html`: the report's markdown rendered with markdown-it-py (CommonMark
plus pipe tables, raw HTML off, so a name escaped with `markdown_text` stays escaped), each `##`
section in a card styled like the daily report, and the figures the markdown links to embedded as
base64 PNG data URIs. No JavaScript, no external assets; the same input gives the same bytes.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from string import Template

from markdown_it import MarkdownIt

from trading_core.reporting.plots import png_data_uri

PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>
  :root { --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --bg: #f5f7fa; --grey-bg: #eef0f3; }
  * { box-sizing: border-box; }
  body {
    margin: 0; background: var(--bg); color: var(--ink);
    font: 14px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue",
      Arial, sans-serif;
  }
  .page { max-width: 1120px; margin: 0 auto; padding: 24px 24px 40px; }
  .brand { color: var(--muted); font-size: 13px; letter-spacing: 0.04em; text-transform: uppercase; }
  h1 { font-size: 26px; margin: 2px 0 16px; font-weight: 650; letter-spacing: -0.01em; }
  h2 { font-size: 16px; margin: 0 0 10px; font-weight: 650; }
  section {
    background: #fff; border: 1px solid var(--line); border-radius: 10px;
    padding: 16px 18px; margin: 0 0 16px; overflow-wrap: anywhere;
  }
  section > :last-child { margin-bottom: 0; }
  p { margin: 0 0 8px; }
  ul { margin: 6px 0 8px; padding-left: 20px; }
  li { margin: 2px 0; }
  .scroll { overflow-x: auto; margin: 0 0 8px; }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th { text-align: left; font-size: 12px; color: var(--muted); font-weight: 600;
       border-bottom: 1px solid var(--line); padding: 6px 8px; vertical-align: bottom; }
  td { padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th, td { overflow-wrap: normal; }
  tbody tr:last-child td { border-bottom: 0; }
  img { display: block; width: 100%; max-width: 800px; height: auto; margin: 4px auto; }
  @media print {
    @page { size: A4; margin: 12mm; }
    body { background: #fff; font-size: 11px; }
    .page { max-width: none; padding: 0; }
    img, tr { break-inside: avoid; }
    h2 { break-after: avoid; }
  }
</style>
</head>
<body>
<div class="page">
<div class="brand">alphapilot &middot; model selection</div>
$body
</div>
</body>
</html>
""")


def selection_report_html(markdown: str, figures: Mapping[str, bytes], title: str) -> str:
    """`markdown` as a standalone page, each image whose src is a key of `figures` inlined."""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(markdown)
    for child in (c for t in tokens for c in t.children or []):
        if child.type == "image" and child.attrGet("src") in figures:
            child.attrSet("src", png_data_uri(figures[str(child.attrGet("src"))]))
    body = md.renderer.render(tokens, md.options, {})
    # Raw HTML is off, so these tags can only be markdown-it's own, never text from the report.
    body = body.replace("<table>", '<div class="scroll"><table>').replace(
        "</table>", "</table></div>"
    )
    head, *sections = body.split("<h2>")
    body = head + "".join(f"<section>\n<h2>{s}</section>\n" for s in sections)
    return PAGE.substitute(title=html.escape(title), body=body.rstrip("\n"))
