"""The options most commands share: the home, the settings file, JSON output, an as-of date."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

HomeOption = Annotated[
    Optional[Path],
    typer.Option(
        "--home",
        help="Home directory for everything alphapilot writes "
        "(env ALPHAPILOT_HOME; default ./alphapilot_home).",
    ),
]
ConfigOption = Annotated[
    Optional[Path],
    typer.Option(
        "--config", help="YAML settings file layered over the defaults (env ALPHAPILOT_CONFIG)."
    ),
]
AsOfOption = Annotated[
    Optional[datetime],
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="Use data up to this date only."),
]
JsonOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print one JSON object with the outcome (status, paths, figures) on stdout, "
        "nothing else; log lines stay on stderr.",
    ),
]


def path_str(path: Path | None) -> str | None:
    """An option's path as the flows take it: a string, or None when the option is not given."""
    return None if path is None else str(path)
