"""What a Prefect user finds under Artifacts: the day's trades as the report shows them, a link to
the report, and the champion selection's leaderboard and report, each under a stable key.

The flows run once per module on small synthetic homes; the artifacts are read back through the
Prefect client, as the UI reads them (the latest version of each key).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pandas as pd
import pytest
from alert_endpoints import Webhook
from homes import SELECTION, SmallHome, build_small_home
from prefect_artifacts import latest, table

from trading_core.data.folder import write_folder
from trading_core.data.synthetic import generate_synthetic_market

MONEY = re.compile(r"^-?\$\d{1,3}(,\d{3})*\.\d{2}$")
SHARES = re.compile(r"^\d{1,3}(,\d{3})*$")
WEIGHT = re.compile(r"^[+-]?\d{1,3}(,\d{3})*\.\d{2}%$")
LINK = re.compile(r"^\[(?P<text>[^\]]+)\]\((?P<url>[^)]+)\)$")
TRADE_COLUMNS = [
    "Side",
    "Symbol",
    "Shares",
    "Price",
    "Notional",
    "Weight change",
    "Est. cost",
    "Reason",
    "Status",
]


def linked_file(key: str) -> Path:
    """The local file a link artifact points at (a file:// URL)."""
    artifact = latest(key)
    match = LINK.match(artifact.data)
    assert match, artifact.data
    url = urlsplit(match["url"])
    assert url.scheme == "file"
    return Path(url2pathname(url.path))


def number(cell: str) -> float:
    """A formatted money or share cell back as a number ("-$1,234.50" -> -1234.5)."""
    return float(cell.replace("$", "").replace(",", ""))


# --- the daily run ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def daily(tmp_path_factory, prefect_server) -> SmallHome:
    """A small home whose first session was run by the CLI and whose next one by the flow."""
    from flows.daily_live import daily_live

    small = build_small_home(tmp_path_factory.mktemp("artifacts-daily"))
    daily_live(run_date=small.day, home=str(small.home), config=str(small.config))
    return small


@pytest.mark.slow
def test_the_days_trades_read_as_the_report_shows_them(daily):
    checked = 0
    for day in (daily.first, daily.day):
        rows = table(f"daily-{day}-trades")
        folder = daily.home / "live" / day
        trades = pd.read_csv(folder / "trades.csv")
        report = (folder / "report.html").read_text()

        assert len(rows) == len(trades)
        for row, trade in zip(rows, trades.itertuples(index=False), strict=True):
            assert list(row) == TRADE_COLUMNS
            for column in ("Price", "Notional", "Est. cost"):
                assert MONEY.match(row[column]), (column, row[column])  # never 18.116824
            assert SHARES.match(row["Shares"]) and WEIGHT.match(row["Weight change"])
            assert (row["Symbol"], row["Side"]) == (trade.symbol, trade.side.upper())
            assert row["Status"] in (trade.status, "applied")  # applied once the account says so
            assert number(row["Shares"]) == trade.shares
            assert math.isclose(number(row["Notional"]), trade.notional, abs_tol=0.005)
            cost = trade.commission_est + trade.slippage_est
            assert math.isclose(number(row["Est. cost"]), cost, abs_tol=0.011)
            for column in ("Shares", "Price", "Notional", "Weight change", "Status"):
                assert f">{row[column]}<" in report  # the same text as the report's table
            checked += 1
    assert checked > 0, "the small home must trade on at least one of its days"


@pytest.mark.slow
def test_each_day_links_to_its_report(daily):
    for day in (daily.first, daily.day):
        page = linked_file(f"daily-{day}-report")

        assert page == (daily.home / "live" / day / "report.html").resolve()
        assert page.is_file()
        summary = latest(f"daily-{day}-summary").data
        assert f"Daily run {day}" in summary
        assert "| paper account | " in summary and "not recorded" not in summary


# --- the champion selection ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def selection(tmp_path_factory, prefect_server):
    """A selection on a tiny grid whose thresholds nothing passes: (home, state, Slack texts)."""
    from flows.champion_selection import champion_selection
    from flows.data_update import data_update

    root = tmp_path_factory.mktemp("artifacts-selection")
    market = generate_synthetic_market(symbols=10, years=3, seed=5, ic=0.1)
    write_folder(market.data, root / "data")
    config = root / "strict.yaml"
    config.write_text(SELECTION.replace("sharpe_min: -10", "sharpe_min: 50.0"))
    home = root / "home"
    data_update(provider="folder", path=str(root / "data"), home=str(home))
    server = Webhook((200,))
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("ALPHAPILOT__NOTIFICATIONS__SLACK_WEBHOOK_URL", server.url)
            state = champion_selection(home=str(home), config=str(config), return_state=True)
    finally:
        server.close()
    return home, state, server.texts


@pytest.mark.slow
def test_the_leaderboard_ranks_by_score_and_says_why_each_failed(selection):
    home, state, _ = selection
    details = json.loads(
        (home / "reports" / "model_selection" / "backtest_detailed_results.json").read_text()
    )
    rows = table("champion-selection-leaderboard")

    assert state.is_completed() and state.result()["champion"] is None
    assert [row["Combination"] for row in rows] == details["ranking"]
    assert [row["Rank"] for row in rows] == list(range(1, len(rows) + 1))
    scores = [float(row["Score"]) for row in rows]
    assert scores == sorted(scores, reverse=True)
    for row in rows:
        assert row["Result"] == "fail"
        assert re.search(r"Sharpe -?\d+\.\d\d < 50\.00", row["Why"])
        assert row["Max drawdown"].endswith("%") and row["Turnover per rebalance"].endswith("%")
        assert re.fullmatch(r"-?\d+\.\d\d", row["Sharpe"])
        assert re.fullmatch(r"\d\.\d{3}", row["Deflated Sharpe (DSR)"])


@pytest.mark.slow
def test_the_selection_report_is_linked_and_its_alert_opens_the_run(selection):
    home, state, texts = selection

    page = linked_file("champion-selection-report")

    assert page == (home / "reports" / "model_selection" / "model_selection_report.html").resolve()
    assert page.is_file() and "Model selection" in page.read_text()
    [alert] = texts
    assert "no new champion" in alert.lower() and "Report: " in alert
    assert f"/runs/flow-run/{state.state_details.flow_run_id}|Open the run in Prefect>" in alert


# --- the leaderboard rows, without a flow -------------------------------------------------------


def test_the_leaderboard_marks_the_champion_the_passers_and_the_failures():
    from trading_core.reporting.leaderboard import leaderboard
    from trading_core.selection.scoring import Candidate, Thresholds, select_champion

    def candidate(name: str, sharpe: float, drawdown: float, turnover: float) -> Candidate:
        metrics = {
            "sharpe": sharpe,
            "max_drawdown": drawdown,
            "calmar": 1.0,
            "avg_turnover": turnover,
            "annual_turnover": turnover * 52,
        }
        return Candidate(name, metrics, None, 0.91234)

    candidates = [
        candidate("lucky+hrp", 2.5, -0.45, 0.10),  # best score, drawdown too deep
        candidate("steady+equal_weight", 1.6, -0.10, 0.10),
        candidate("slow+inverse_vol", 1.2, -0.12, 0.30),
        candidate("churn+hrp", 1.4, -0.10, 0.90),
        candidate("flat+hrp", math.nan, -0.05, 0.10),
    ]
    selection = select_champion(candidates, {}, Thresholds(), baseline_sharpe=0.5)

    rows = leaderboard(selection, top=4)

    assert [row["Rank"] for row in rows] == [1, 2, 3, 4]
    assert [row["Combination"] for row in rows] == [e.name for e in selection.ranking[:4]]
    by_name = {row["Combination"]: row for row in rows}
    assert by_name["steady+equal_weight"]["Result"] == "champion"
    assert by_name["slow+inverse_vol"]["Result"] == "pass"
    assert by_name["lucky+hrp"]["Result"] == "fail"
    assert by_name["lucky+hrp"]["Why"] == "max drawdown -45.0% worse than -20.0%"
    assert by_name["lucky+hrp"]["Max drawdown"] == "-45.0%"
    assert by_name["churn+hrp"]["Turnover per rebalance"] == "90.0%"
    assert by_name["churn+hrp"]["Turnover per year"] == "4,680%"
    assert by_name["steady+equal_weight"]["Sharpe"] == "1.60"
    assert by_name["steady+equal_weight"]["Deflated Sharpe (DSR)"] == "0.912"
    assert "flat+hrp" not in by_name  # below the top 4: its score is the lowest
