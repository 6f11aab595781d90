"""Settings: packaged defaults, a user file on top, then the environment; bad values fail by name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from settings import load_settings
from settings.model import DEFAULT_CONFIG
from trading_core.errors import ConfigError

WEBHOOK = "https://hooks.slack.com/services/T000/B000/very-secret-token"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No ALPHAPILOT variables from the machine running the tests leak into them."""
    for name in list(os.environ):
        if name.startswith("ALPHAPILOT"):
            monkeypatch.delenv(name)


def user_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alphapilot.yaml"
    path.write_text(text)
    return path


def test_defaults_are_the_values_in_config_yaml():
    settings = load_settings()

    assert settings.portfolio.top_k == 10
    assert settings.portfolio.max_weight == 0.15
    assert settings.portfolio.optimizer == "equal_weight"
    assert settings.modeling.label_horizon == 5
    assert settings.features.momentum_windows == [1, 5, 10, 20, 60, 120, 250]
    assert settings.modeling.cv.folds == 5 and settings.modeling.tuning.trials == 30
    assert settings.live.dry_run is True
    assert settings.model_selection.candidates == [
        "lightgbm",
        "xgboost_default",
        "xgboost_tuned",
        "random_forest",
        "ensemble",
    ]
    assert settings.notifications.slack_webhook_url is None
    packaged = yaml.safe_load(DEFAULT_CONFIG.read_text())
    assert settings.model_dump(mode="json", exclude={"home"}) == packaged


def test_an_environment_variable_overrides_a_nested_setting(monkeypatch):
    monkeypatch.setenv("ALPHAPILOT__PORTFOLIO__TOP_K", "15")

    settings = load_settings()

    assert settings.portfolio.top_k == 15
    assert settings.portfolio.max_weight == 0.15  # its siblings keep their defaults


def test_a_user_file_overrides_only_the_keys_it_sets(tmp_path):
    path = user_file(tmp_path, "portfolio:\n  top_k: 7\nlive:\n  min_trade_size: 0.01\n")

    settings = load_settings(config=path)

    expected = load_settings().model_dump()
    expected["portfolio"]["top_k"] = 7
    expected["live"]["min_trade_size"] = 0.01
    assert settings.model_dump() == expected


def test_the_config_file_can_be_named_by_alphapilot_config(tmp_path, monkeypatch):
    monkeypatch.setenv("ALPHAPILOT_CONFIG", str(user_file(tmp_path, "seed: 7\n")))

    assert load_settings().seed == 7


def test_the_environment_wins_over_the_user_file(tmp_path, monkeypatch):
    path = user_file(tmp_path, "portfolio:\n  top_k: 7\n")
    monkeypatch.setenv("ALPHAPILOT__PORTFOLIO__TOP_K", "15")

    assert load_settings(config=path).portfolio.top_k == 15


@pytest.mark.parametrize(
    ("text", "field"),
    [
        pytest.param("portfolio:\n  costs_bps: -1\n", "portfolio.costs_bps", id="negative-costs"),
        pytest.param("portfolio:\n  max_weight: 1.5\n", "portfolio.max_weight", id="max-weight>1"),
        pytest.param(
            "model_selection:\n  selection_weights:\n    sharpe: 0.5\n",
            "model_selection.selection_weights",
            id="selection-weights-not-summing-to-1",
        ),
        pytest.param(
            "portfolio:\n  optimizer: hrpp\n", "portfolio.optimizer", id="unknown-optimizer"
        ),
        pytest.param("portfolo:\n  top_k: 5\n", "portfolo", id="unknown-top-level-key"),
        pytest.param("portfolio:\n  topk: 5\n", "portfolio.topk", id="unknown-nested-key"),
        pytest.param(
            "regime:\n  exposure:\n    panic: 0.2\n", "regime.exposure.panic", id="unknown-deep-key"
        ),
    ],
)
def test_an_invalid_user_file_fails_naming_the_field_and_the_file(tmp_path, text, field):
    path = user_file(tmp_path, text)

    with pytest.raises(ConfigError) as error:
        load_settings(config=path)

    assert f"{field}:" in str(error.value)
    assert str(path) in str(error.value)


def test_an_invalid_environment_value_fails_naming_the_field(monkeypatch):
    monkeypatch.setenv("ALPHAPILOT__PORTFOLIO__MAX_WEIGHT", "1.5")

    with pytest.raises(ConfigError, match=r"portfolio\.max_weight"):
        load_settings()


def test_a_missing_config_file_is_a_config_error_naming_it(tmp_path):
    missing = tmp_path / "nowhere.yaml"

    with pytest.raises(ConfigError, match="nowhere.yaml"):
        load_settings(config=missing)


def test_a_malformed_yaml_file_is_a_config_error_naming_it(tmp_path):
    path = user_file(tmp_path, "portfolio: [1, 2\n")

    with pytest.raises(ConfigError, match="alphapilot.yaml"):
        load_settings(config=path)


def test_the_webhook_url_never_appears_when_settings_are_printed(monkeypatch):
    monkeypatch.setenv("ALPHAPILOT__NOTIFICATIONS__SLACK_WEBHOOK_URL", WEBHOOK)

    settings = load_settings()

    assert settings.notifications.slack_webhook_url.get_secret_value() == WEBHOOK
    assert "very-secret-token" not in repr(settings)
    assert "very-secret-token" not in str(settings)
    assert "very-secret-token" not in settings.model_dump_json()


def test_settings_are_frozen():
    settings = load_settings()

    with pytest.raises(Exception, match="frozen"):
        settings.portfolio.top_k = 3


def test_the_fingerprint_changes_with_a_setting_but_not_with_home_or_secrets(tmp_path):
    base = load_settings()

    assert load_settings().fingerprint() == base.fingerprint()
    assert load_settings(portfolio={"top_k": 11}).fingerprint() != base.fingerprint()
    assert (
        load_settings(modeling={"lightgbm": {"n_estimators": 301}}).fingerprint()
        != base.fingerprint()
    )
    assert load_settings(home=tmp_path).fingerprint() == base.fingerprint()
    with_secret = load_settings(notifications={"slack_webhook_url": WEBHOOK})
    assert with_secret.fingerprint() == base.fingerprint()


def test_an_optuna_storage_url_is_a_secret_and_recorded_without_its_password(monkeypatch):
    from trading_core.ml.optuna_search import without_password

    url = "postgresql://optuna:hunter2@db.internal:5432/studies"
    monkeypatch.setenv("ALPHAPILOT__MODELING__TUNING__STORAGE", url)
    settings = load_settings()

    assert settings.modeling.tuning.storage.get_secret_value() == url
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())
    assert without_password(url) == "postgresql://optuna:***@db.internal:5432/studies"
    assert without_password("sqlite:////tmp/optuna.db") == "sqlite:////tmp/optuna.db"


def test_how_a_run_is_orchestrated_does_not_change_the_settings_fingerprint():
    base = load_settings()
    other = load_settings(orchestration={"task_runner": "dask", "retries": 5, "cache": False})
    assert other.fingerprint() == base.fingerprint()
    assert load_settings(portfolio={"top_k": 7}).fingerprint() != base.fingerprint()
