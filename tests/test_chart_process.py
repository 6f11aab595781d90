"""The daily report's charts drawn in a warm child process (`reporting.painter`).

A fresh daily command starts the child once the session is known to be open, so matplotlib's
import overlaps the session's steps; the report must be byte for byte the one drawn in place,
and a child that dies must cost the report nothing.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
from test_report_html import report_data  # noqa: F401  (the report fixture)
from test_tear_sheet import history

from trading_core.reporting.html import DailyReportData, render_daily_report
from trading_core.reporting.painter import ChartProcess, here, painter


@pytest.fixture(scope="module")
def full_report(report_data) -> DailyReportData:  # noqa: F811
    """The fixture's report with two years of account history: all seven charts drawn."""
    equity, closes = history(505)
    return dataclasses.replace(report_data, equity_curve=equity, benchmark_history=closes)


def test_a_chart_process_draws_the_same_page_byte_for_byte(full_report):
    process = ChartProcess()
    try:
        drawn_there = render_daily_report(full_report, process)
    finally:
        process.close()

    assert drawn_there == render_daily_report(full_report, here)
    assert drawn_there.count('src="data:image/png;base64,') == 7


def test_a_chart_process_that_died_leaves_the_charts_to_this_process(full_report, caplog):
    process = ChartProcess()
    try:
        assert process(int)() == 0  # the child is up
        for child in list(process._pool._processes.values()):
            child.kill()
            child.join()
        page = render_daily_report(full_report, process)
    finally:
        process.close()

    assert page == render_daily_report(full_report, here)
    assert "drawing here" in caplog.text


def test_a_process_with_matplotlib_loaded_draws_in_place():
    import matplotlib  # noqa: F401  (as the suite, a notebook or a replay's later days have it)

    with painter() as paint:
        assert paint is here


def test_a_fresh_process_starts_a_chart_process_and_never_imports_matplotlib_itself():
    script = (
        "import sys; from trading_core.reporting.painter import ChartProcess, painter\n"
        "from trading_core.reporting import plots\n"
        "with painter() as paint:\n"
        "    png = paint(plots.equity_chart, None)()\n"
        "    print(isinstance(paint, ChartProcess), png, 'matplotlib' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[-2] == "True None False"
