"""Load settings once per process entry point and turn validation errors into one clear line."""

from __future__ import annotations

import os
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, SecretStr, ValidationError

from settings.model import DEFAULT_CONFIG, Settings
from trading_core.errors import ConfigError

CONFIG_ENV = "ALPHAPILOT_CONFIG"
HOME_ENV = "ALPHAPILOT_HOME"


def load_settings(
    config: Path | str | None = None, home: Path | str | None = None, **overrides: Any
) -> Settings:
    """Settings from defaults, the user file (`config` or $ALPHAPILOT_CONFIG), env and overrides.

    `home` (or $ALPHAPILOT_HOME) sets the working directory; overrides are top-level sections
    given as dicts or values, used by tests and the CLI.
    """
    config = config or os.environ.get(CONFIG_ENV) or None
    files = [DEFAULT_CONFIG]
    if config is not None:
        config = Path(config)
        check_config_file(config)
        files.append(config)
    home = home or os.environ.get(HOME_ENV)
    if home is not None:
        overrides["home"] = Path(home)
    cls = type(
        "Settings", (Settings,), {"model_config": {**Settings.model_config, "yaml_file": files}}
    )
    try:
        return cls(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, config)) from None
    except (OSError, ValueError, yaml.YAMLError) as exc:  # unreadable or malformed YAML
        source = config or DEFAULT_CONFIG
        raise ConfigError(f"cannot read settings from {source}: {one_line(exc)}") from None


def one_line(exc: Exception) -> str:
    """The exception's text on one line (a YAML error spans several)."""
    return " ".join(str(exc).split())


def check_config_file(config: Path) -> None:
    """ConfigError naming `config` unless it is a readable YAML file holding a mapping of sections.

    A directory, a list or a scalar would otherwise fail later with a misleading message.
    """
    if config.is_dir():
        raise ConfigError(f"config file {config} is a directory, not a YAML settings file")
    if not config.is_file():
        raise ConfigError(f"config file not found: {config}")
    try:
        content = yaml.safe_load(config.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read settings from {config}: {one_line(exc)}") from None
    if content is not None and not isinstance(content, dict):
        kind = "a list" if isinstance(content, list) else "a single value"
        raise ConfigError(
            f"settings file {config} must be a mapping of sections (e.g. `portfolio:`), not {kind}"
        )


def describe_validation_error(exc: ValidationError, config: Path | None) -> str:
    """One line per problem: `invalid settings: portfolio.max_weight: must be <= 1 (got 1.5)`."""
    problems = []
    for err in exc.errors():
        field = ".".join(str(part) for part in err["loc"]) or "settings"
        message = err["msg"].removeprefix("Value error, ")
        value = err.get("input")
        got = f" (got {value!r})" if err["type"] != "extra_forbidden" else ""
        if err["type"] == "extra_forbidden":
            message = "unknown setting"
        # a dict is a section; a secret is never echoed; a path's validator names it already
        if isinstance(value, dict | Path) or "input" not in err or is_secret(err["loc"]):
            got = ""
        problems.append(f"{field}: {message}{got}")
    source = f" in {config}" if config else ""
    return f"invalid settings{source}: " + "; ".join(problems)


def is_secret(loc: tuple[int | str, ...]) -> bool:
    """Whether the setting at `loc` (a validation error's location) is a secret (`SecretStr`).

    A secret given with the wrong type (a numeric SMTP password, a webhook URL in a list) is named
    in the error but its value is never echoed: the message reaches the console, logs and alerts.
    """
    model: type[BaseModel] | None = Settings
    for part in loc:
        field = model.model_fields.get(str(part)) if model is not None else None
        if field is None:
            return False
        options = typing.get_args(field.annotation) or (field.annotation,)
        if SecretStr in options:
            return True
        model = next((o for o in options if isinstance(o, type) and issubclass(o, BaseModel)), None)
    return False
