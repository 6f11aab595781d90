"""Flow: train the candidates, backtest every model x optimizer, select, promote to production."""

from collections.abc import Sequence
from datetime import date

from prefect import flow, get_run_logger
from prefect.task_runners import TaskRunner

from flows.training import TrainingRun, train_all
from settings import Settings, load_settings
from settings.trading import BacktestSettings
from tasks.backtest import backtest_combination, regimes_for, score_candidate
from tasks.components import home_lock
from tasks.notify import alert_on_failure, current_run_link, notify
from tasks.runners import fan_out, share, task_runner_for
from tasks.sections import Alerting, ModelSetup, TradingRules
from tasks.selection import (
    evaluate,
    promote_champion,
    selection_factors,
    write_selection_reports,
)
from trading_core.data.calendar import market_today
from trading_core.home import Home
from trading_core.ml.research import research_fits
from trading_core.selection.grid import BacktestGrid
from trading_core.selection.promotion import no_champion_alert


@flow(name="champion-selection", on_failure=[alert_on_failure], on_crashed=[alert_on_failure])
def champion_selection(
    as_of: date | None = None, home: str | None = None, config: str | None = None
) -> dict:
    """Train every candidate, backtest it under every optimizer, promote the best combination.

    Training and the backtest grid fan out through the task runner in settings
    (`orchestration.task_runner`: threads or Dask). Every model x optimizer combination is scored
    (`model_selection.selection_weights`) and must pass `model_selection.thresholds` and beat
    the equal-weight baseline's Sharpe; the best passer is refitted and promoted with its
    optimizer. When none passes, the current champion stays and an alert says why. The reports
    are written to <home>/reports/model_selection/ either way.

    Args:
        as_of: use data up to the close of this date only (default: all stored data).
        home: alphapilot home directory (default $ALPHAPILOT_HOME or ./alphapilot_home).
        config: a YAML settings file layered over the defaults.
    """
    settings = load_settings(config, home)
    command = f"champion-selection {as_of or 'all data'}"
    with home_lock(settings.home, settings.orchestration, command, get_run_logger().info):
        return select_champion(settings, as_of)


def select_champion(settings: Settings, as_of: date | None) -> dict:
    """Train, backtest the grid, evaluate, write the reports, promote (the home is locked)."""
    home, selection = Home(settings.home), settings.model_selection
    rules, backtest = TradingRules.of(settings), settings.backtest
    with task_runner_for(settings.orchestration, settings.modeling.n_jobs) as runner:
        run = train_all(settings, as_of, runner)
        grid = backtest_grid(run, selection.optimizers, rules, backtest, runner)
    selected_on = market_today()  # the day of the selection, once: the reports and the record
    evaluation = evaluate(grid, selection, backtest.cash_rate)
    factors = selection_factors(run.factors, run.results, grid, evaluation, run.dataset, run.data)
    report = write_selection_reports(
        grid, evaluation, factors, run.data, selection, backtest, rules, home, selected_on
    )
    champion = None
    if evaluation.champion is None:
        get_run_logger().warning("no combination passed: the current champion stays (%s)", report)
        alert = no_champion_alert(evaluation, report, current_run_link())
        notify(alert, Alerting.of(settings))
    else:
        model, optimizer = evaluation.champion
        winner = next(r for r in run.results if r.name == model)
        setup = ModelSetup.of(settings)
        champion = promote_champion(
            winner,
            optimizer,
            grid,
            evaluation,
            run.dataset,
            run.data,
            selection,
            setup,
            home,
            selected_on,
        )
    return {
        "champion": champion,
        "ranking": [
            {"combination": e.name, "score": e.breakdown.total, "failures": list(e.failures)}
            for e in evaluation.selection.ranking
        ],
        "failed": {f"{m}+{o}": error for (m, o), error in grid.failures.items()},
        "baseline_sharpe": evaluation.baseline_sharpe,
        "trials": evaluation.trials,
        "report": report,
        "comparison": run.comparison,
    }


def backtest_grid(
    run: TrainingRun,
    optimizers: Sequence[str],
    rules: TradingRules,
    backtest: BacktestSettings,
    runner: TaskRunner,
) -> BacktestGrid:
    """Walk-forward backtests of every trained candidate under every optimizer given
    (`model_selection.optimizers`), with the trading rules and backtest settings.

    Each candidate's models are fitted once (one task), or taken from research where the
    windows coincide; its scores then feed one backtest task per optimizer. A failure is recorded against its combinations and the rest go on.
    """
    optimizers = list(optimizers)
    setup = ModelSetup.of(run.settings)
    grid = BacktestGrid([r.name for r in run.results], optimizers)
    dataset, data, close = (
        share(runner, run.dataset),
        share(runner, run.data),
        share(runner, run.data.close),
    )
    scored = fan_out(
        runner,
        score_candidate,
        [
            {
                "template": r.model,
                "dataset": dataset,
                "close": close,
                "setup": setup,
                "backtest": backtest,
                "reuse": research_fits(r.model, run.results),
            }
            for r in run.results
        ],
        "walk-forward scores",
        raise_on_failure=False,
    )
    regimes = share(runner, regimes_for(run.data, rules.regime))
    calls = []
    for result, outcome in zip(run.results, scored, strict=True):
        if isinstance(outcome, BaseException):
            for optimizer in optimizers:
                grid.add(result.name, optimizer, outcome)
            continue
        scores, models = outcome
        calls += [
            {
                "model": result.name,
                "optimizer": optimizer,
                "scores": scores,
                "models": models,
                "data": data,
                "regimes": regimes,
                "rules": rules,
                "backtest": backtest,
            }
            for optimizer in optimizers
        ]
    outcomes = fan_out(runner, backtest_combination, calls, "backtest grid", raise_on_failure=False)
    for call, outcome in zip(calls, outcomes, strict=True):
        grid.add(call["model"], call["optimizer"], outcome)
    if grid.failures:
        get_run_logger().warning(
            "%d of %d combinations failed: %s",
            len(grid.failures),
            len(grid.models) * len(optimizers),
            "; ".join(f"{m} x {o}: {e}" for (m, o), e in grid.failures.items()),
        )
    return grid
