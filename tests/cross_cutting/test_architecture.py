"""The layers' rules (docs/architecture.md), checked on every import in the code, nested ones too.

Data flows one way: `app/` (the CLI) on top, then `deployments/` and `flows/`, `tasks/`, the pure
`trading_core/`, and `settings/`. A module never imports a layer above its own; the core has no
Prefect in it; `trading_core/selection` (the domain) never imports `trading_core/reporting` (the
presentation on top of it); and no flow module postpones its annotations, because `alphapilot
serve` cloudpickles flows into a fresh process where a string annotation cannot be resolved.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # tests/cross_cutting/ -> the repository
PACKAGES = ("app", "deployments", "flows", "tasks", "trading_core", "settings")
# what each layer may not import (first dotted parts, or dotted prefixes)
FORBIDDEN = {
    "deployments": ("app",),
    "flows": ("app", "deployments"),
    "tasks": ("app", "deployments", "flows"),
    "trading_core": ("app", "deployments", "flows", "tasks", "settings", "prefect", "prefect_dask"),
    "settings": ("app", "deployments", "flows", "tasks", "prefect"),
}


def imports(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, module) of every import statement in `path`, at any depth; relative ones resolved
    against the file's package (its folders below `root`)."""
    tree = ast.parse(path.read_text(), str(path))
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base]) if base else ".".join(parent)
            found.append((node.lineno, base))
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def offending(package: str, banned: tuple[str, ...]) -> list[str]:
    """`file:line module` of each import in `package` of a module under one of `banned`."""
    return [
        f"{path.relative_to(ROOT)}:{line} {name}"
        for path in modules(package)
        for line, name in imports(path)
        if any(name == b or name.startswith(f"{b}.") for b in banned)
    ]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_layer_imports_a_layer_above_it(package):
    assert offending(package, FORBIDDEN[package]) == []


# inside the core, each package and the packages downstream of it (docs/architecture.md)
DOWNSTREAM = {
    "data": "features ml regime portfolio backtest live selection performance reporting",
    "features": "ml regime portfolio backtest live selection performance reporting",
    "ml": "regime portfolio backtest live selection performance reporting",
    "portfolio": "backtest live selection performance reporting",
    "backtest": "live selection performance reporting",
    "live": "selection performance reporting",
    "selection": "live performance reporting",
    "performance": "live selection reporting",
}


@pytest.mark.parametrize("package", sorted(DOWNSTREAM))
def test_no_core_package_imports_one_downstream_of_it(package):
    banned = tuple(f"trading_core.{d}" for d in DOWNSTREAM[package].split())
    assert offending(f"trading_core/{package}", banned) == []


def test_the_selection_domain_never_imports_the_reports():
    assert offending("trading_core/selection", ("trading_core.reporting",)) == []


def test_only_the_reports_import_the_reports():
    inside = [p for p in modules("trading_core") if "reporting" not in p.parts]
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in inside
        for line, name in imports(path)
        if name.startswith("trading_core.reporting")
    ]
    assert found == []


def test_no_flow_module_postpones_its_annotations():
    postponed = [
        str(path.relative_to(ROOT))
        for path in modules("flows")
        if any(name == "__future__" for _, name in imports(path))
    ]
    assert postponed == []


def test_the_checker_sees_imports_nested_in_functions_and_relative_ones(tmp_path):
    """The rules can fail: imports inside a function body and relative imports are found."""
    planted = tmp_path / "trading_core" / "live" / "planted.py"
    planted.parent.mkdir(parents=True)
    planted.write_text(
        "def f():\n    from tasks.live import open_ledger\n    return open_ledger\n"
        "from ..reporting import html\nfrom . import ledger\n"
    )

    assert imports(planted, root=tmp_path) == [
        (4, "trading_core.reporting"),
        (5, "trading_core.live"),
        (2, "tasks.live"),
    ]
