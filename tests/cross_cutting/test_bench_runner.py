"""benchmarks/run_all.py: every script runs, its figures land in one section of the results file."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parents[2] / "benchmarks" / "run_all.py"


@pytest.fixture(scope="module")
def run_all():
    spec = importlib.util.spec_from_file_location("bench_run_all", RUNNER)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    """Two throwaway benchmarks: one prints a figure, one fails after a line of output."""
    folder = tmp_path / "benchmarks"
    folder.mkdir()
    (folder / "fast.py").write_text(
        '"""Print one figure."""\nprint("figure: 1.5 s")\nprint("ours / vectorbt   0.02")\n'
    )
    (folder / "broken.py").write_text(
        '"""Fail on purpose."""\nimport sys\nprint("half a figure")\n'
        'print("ValueError: no data for MSFT", file=sys.stderr)\nsys.exit(3)\n'
    )
    return folder


def test_every_script_gets_a_section_and_a_failure_makes_the_run_fail(run_all, scripts, tmp_path):
    out = tmp_path / "RESULTS.md"

    code = run_all.run_all(scripts, out)

    assert code == 1
    sections = run_all.read_sections(out)
    assert set(sections) == {"fast", "broken"}
    fast, broken = sections["fast"][0], sections["broken"][0]
    assert fast["status"] == "ok"
    assert broken["status"] == "failed (exit 3)"
    assert "figure: 1.5 s" in sections["fast"][1]
    assert "half a figure" in sections["broken"][1]
    assert "ValueError: no data for MSFT" in sections["broken"][1]  # the stderr tail
    for meta in (fast, broken):
        assert meta["wall_seconds"] > 0
        assert meta["peak_rss_mib"] > 0
    text = out.read_text()
    assert "| [fast](#fast) | Print one figure. |" in text  # summary row from the docstring
    assert "- CPU: " in text
    assert "- fast: `ours / vectorbt 0.02`" in text  # ratios against vectorbt are quoted on top


def test_a_partial_run_replaces_only_its_own_section(run_all, scripts, tmp_path):
    out = tmp_path / "RESULTS.md"
    run_all.run_all(scripts, out)
    broken_before = run_all.read_sections(out)["broken"]
    (scripts / "fast.py").write_text('"""Print one figure."""\nprint("figure: 0.9 s")\n')

    code = run_all.run_all(scripts, out, only=["fast"])

    assert code == 0
    sections = run_all.read_sections(out)
    assert sections["broken"] == broken_before
    assert "figure: 0.9 s" in sections["fast"][1]
    assert "figure: 1.5 s" not in out.read_text()


def test_peak_rss_counts_a_child_process_the_script_waits_for(run_all, tmp_path):
    script = tmp_path / "spawn.py"
    script.write_text(
        "import subprocess, sys\n"
        "subprocess.run([sys.executable, '-c', 'x = b\"1\" * (150 << 20)'], check=True)\n"
    )

    result = run_all.run_script(script, tmp_path, host="test machine")

    assert result.ok
    assert result.peak_rss_mib > 150


def test_unknown_names_are_refused(run_all, scripts, tmp_path):
    with pytest.raises(ValueError, match="no benchmark script named nope"):
        run_all.run_all(scripts, tmp_path / "RESULTS.md", only=["nope"])
