"""The selection page with its factor tear sheet, and the training factor page, as a person sees
them: opened offline in headless Chromium (the helpers of tests/support/headless_browser.py),
every figure visible and decoded, no console error, no request leaving the file, hostile names
shown as text and each rejection reason said once.
"""

from __future__ import annotations

import json

import headless_browser as browsing
import pandas as pd
import pytest
import test_selection_outputs as selection
from headless_browser import HOSTILE, SELECTION_FIGURES, assert_clean, assert_screenshot, visit
from headless_browser import sync_api as playwright
from test_factor_report import CANDIDATES, factor_inputs

from trading_core.io import atomic_write_bytes, atomic_write_text
from trading_core.reporting.factor_report import (
    FIGURE_TITLES,
    TRAINING_FACTOR_FILE,
    FactorEvidence,
    factor_evidence,
    training_factor_html,
)
from trading_core.reporting.selection_files import DETAILS_FILE, HTML_FILE
from trading_core.selection.scoring import Thresholds

pytestmark = browsing.needs_chromium  # skipped without Chromium
browser = browsing.browser  # one headless Chromium for the module (a fixture)
backtests = selection.results  # real walk-forward backtests of signal and noise (a fixture)
FACTOR_FIGURES = list(FIGURE_TITLES.values())


@pytest.fixture(scope="module")
def evidence() -> FactorEvidence:
    """The factor tear sheet of "signal" and the rows of every candidate, one hostile-named."""
    results, dataset, data = factor_inputs()
    return factor_evidence(results, "signal", dataset, data)


def assert_figures(page: playwright.Page, expected: list[str]) -> None:
    """Exactly the `expected` figures, each visible and decoded."""
    decoded = browsing.images(page)
    assert sorted(decoded) == sorted(expected)
    for alt in expected:
        playwright.expect(page.get_by_alt_text(alt)).to_be_visible()
        assert decoded[alt] > 0, f"{alt}: the image did not decode"


def test_selection_page_shows_the_factor_tear_sheet_and_each_reason_once(
    browser, backtests, evidence, tmp_path
):
    grid = selection.make_grid(backtests, rename={"noise": HOSTILE})
    files = selection.outputs(
        grid, Thresholds(turnover_max=0.05), incumbent="lightgbm+hrp", factors=evidence
    )
    for name, payload in files.items():
        atomic_write_bytes(tmp_path / name, payload)

    seen = visit(browser, tmp_path / HTML_FILE)
    page = seen.page

    assert_clean(seen)
    assert_figures(page, SELECTION_FIGURES + FACTOR_FIGURES)
    text = page.locator("body").inner_text()
    ranked = [c for c in json.loads(files[DETAILS_FILE])["combinations"] if c["rank"]]
    reasons = [reason for c in ranked for reason in c["threshold_failures"]]
    for reason in set(reasons):
        assert text.count(reason) == reasons.count(reason), reason
    verdicts = page.locator("#verdicts tbody td.name").all_inner_texts()
    assert sorted(verdicts) == sorted(c["key"] for c in ranked)
    assert f"{HOSTILE}+equal_weight" in verdicts  # hostile shown as text, never run
    candidates = page.locator("#factor-candidates tbody td.name").all_inner_texts()
    assert candidates == CANDIDATES
    assert_screenshot(page, tmp_path / "selection.png")
    page.close()


def test_training_factor_page_opens_offline_with_its_figures(browser, evidence, tmp_path):
    path = tmp_path / TRAINING_FACTOR_FILE
    atomic_write_text(path, training_factor_html(evidence, pd.Timestamp("2013-06-28")))

    seen = visit(browser, path)
    page = seen.page

    assert_clean(seen)
    assert page.title() == "alphapilot training factor tear sheet 2013-06-28"
    assert_figures(page, FACTOR_FIGURES)
    playwright.expect(page.locator("#ic-table dt")).to_have_count(len(evidence.sheet.ic_table))
    playwright.expect(page.locator("#factor-candidates tbody tr")).to_have_count(len(CANDIDATES))
    assert_screenshot(page, tmp_path / "training.png")
    page.close()
