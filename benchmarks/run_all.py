"""Run every benchmark script, one after another, and record its figures in benchmarks/RESULTS.md.

Run: `make bench` (installs the `bench` extra, i.e. vectorbt, then runs this), or
`.venv/bin/python benchmarks/run_all.py [--only NAME ...] [--skip NAME ...] [--out PATH]`, NAME
being a script's stem (`features_speed`). The full set takes about an hour on 2 cores.

Each `benchmarks/*.py` script (this one excepted) runs in its own process with the same Python,
never two at once: LightGBM and XGBoost slow down many times over when they share the cores. Its
standard output is echoed live and recorded verbatim; standard error is kept only as a tail, shown
in the results when the script fails. Measured from outside the script:

- wall time: from starting the process to its exit, set-up included;
- peak RSS: the `ru_maxrss` that `wait4` returns for the script's process, i.e. the high-water
  resident memory of the largest single process among the script and the descendants it waited
  for (the `alphapilot demo` command, a Prefect server it stopped). Processes alive at the same
  time are not added up, and one left running after the script exits is not counted.

The results file holds one section per script. A run replaces the sections of the scripts it ran
and keeps the others as they were, with their own dates, so the file always has the latest
figures of every script; sections of scripts no longer in the folder are dropped. The file is
rewritten after each script, so an interrupted run keeps what finished. Progress goes to standard
error; the exit status is 1 when any script failed.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
STDERR_TAIL_LINES = 40
HEARTBEAT_SECONDS = 60.0
# Distributions whose versions the header lists; alternatives name the same library.
LIBRARIES = {
    "numpy": ("numpy",),
    "pandas": ("pandas",),
    "lightgbm": ("lightgbm",),
    "xgboost": ("xgboost", "xgboost-cpu"),
    "prefect": ("prefect",),
    "vectorbt": ("vectorbt",),
}
ABOUT = """\
Written by `benchmarks/run_all.py` (`make bench`); do not edit by hand. Each script ran alone, in
its own process, one after another; a partial run (`--only`, `--skip`) keeps the other sections
from earlier runs, each naming its date and machine.

- Wall time: from the script's start to its exit, set-up included.
- Peak RSS: the `ru_maxrss` that `wait4` returns for the script's process, i.e. the high-water
  resident memory of the largest single process among the script and the descendants it waited
  for (such as the `alphapilot demo` command in `demo_timing`). Processes alive at the same time
  are not added up.
- Below each section's figures, the script's own output, verbatim: the figures it measures itself
  (a peak RSS it prints may cover its own process only).\
"""
MARKER = "<!-- result: "
MARKER_END = " -->"


@dataclass
class Result:
    """One script's run: what the runner measured and what the script printed."""

    script: str
    measures: str
    date: str  # ISO 8601, local time with offset
    machine: str
    wall_seconds: float
    peak_rss_mib: float
    exit_code: int  # negative: killed by that signal
    stdout: str = field(repr=False)
    stderr_tail: str = field(repr=False)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def status(self) -> str:
        if self.ok:
            return "ok"
        if self.exit_code < 0:
            return f"failed (killed by signal {-self.exit_code})"
        return f"failed (exit {self.exit_code})"


# --- discovery and the machine -------------------------------------------------------------------


def discover(folder: Path) -> list[Path]:
    """The benchmark scripts in `folder`, by name: every `*.py` but this runner and `_*` files."""
    return sorted(
        p
        for p in folder.glob("*.py")
        if p.name != Path(__file__).name and not p.name.startswith("_")
    )


def first_docstring_line(script: Path) -> str:
    """The first line of the script's module docstring (what it measures), read without running it."""
    try:
        doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    except (SyntaxError, UnicodeDecodeError):
        doc = None
    return doc.strip().splitlines()[0] if doc else ""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _memory_gib() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return None


def _os_name() -> str:
    try:
        pretty = platform.freedesktop_os_release().get("PRETTY_NAME", "")
    except OSError:
        pretty = ""
    kernel = f"{platform.system()} {platform.release()} {platform.machine()}"
    return f"{pretty} ({kernel})" if pretty else kernel


def _version(distributions: Iterable[str]) -> str:
    for name in distributions:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def machine() -> dict[str, str]:
    """The machine and software the figures were measured on."""
    memory = _memory_gib()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cores = f"{os.cpu_count()} logical CPUs"
    if usable and usable != os.cpu_count():
        cores += f" ({usable} usable by this process)"
    return {
        "CPU": _cpu_model(),
        "cores": cores,
        "memory": f"{memory:.1f} GiB" if memory else "unknown",
        "OS": _os_name(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        **{name: _version(dists) for name, dists in LIBRARIES.items()},
    }


def machine_line(info: dict[str, str]) -> str:
    """CPU, cores and memory on one line, as each section names its machine."""
    return f"{info['CPU']}, {info['cores']}, {info['memory']}"


# --- running one script --------------------------------------------------------------------------


def _pump(stream: IO[str], keep: Callable[[str], None], echo: IO[str] | None) -> None:
    for line in stream:
        keep(line)
        if echo is not None:
            echo.write(line)
            echo.flush()
    stream.close()


def _heartbeat(name: str, start: float, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        progress(f"  {name}: still running, {clock(time.perf_counter() - start)}")


def run_script(
    script: Path, cwd: Path, host: str, echo: IO[str] | None = None, heartbeat: bool = False
) -> Result:
    """Run `script` with this Python in `cwd`; its wall time, peak RSS, exit code and output."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    date = datetime.now().astimezone().isoformat(timespec="seconds")
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    out: list[str] = []
    err: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    threads = [
        threading.Thread(target=_pump, args=(child.stdout, out.append, echo), daemon=True),
        threading.Thread(target=_pump, args=(child.stderr, err.append, None), daemon=True),
    ]
    stop = threading.Event()
    if heartbeat:
        threads.append(
            threading.Thread(target=_heartbeat, args=(script.stem, start, stop), daemon=True)
        )
    for thread in threads:
        thread.start()
    try:
        # wait4, not Popen.wait: it also returns the resource usage of the child and of the
        # descendants it reaped, whose ru_maxrss is the peak RSS of the largest of them.
        _, status, usage = os.wait4(child.pid, 0)
    except BaseException:
        child.kill()
        child.wait()
        raise
    finally:
        stop.set()
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    for thread in threads:
        thread.join(timeout=30)  # a descendant left running may hold the pipes open
    rss_bytes = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)  # Linux: KiB
    return Result(
        script=script.stem,
        measures=first_docstring_line(script),
        date=date,
        machine=host,
        wall_seconds=wall,
        peak_rss_mib=rss_bytes / 2**20,
        exit_code=child.returncode,
        stdout="".join(out).rstrip(),
        stderr_tail="".join(err).rstrip(),
    )


# --- the results file ----------------------------------------------------------------------------


def clock(seconds: float) -> str:
    """`42.3 s`, or `970.0 s (16 min 10 s)` from a minute on."""
    text = f"{seconds:.1f} s"
    if seconds >= 60:
        minutes, rest = divmod(round(seconds), 60)
        text += f" ({minutes} min {rest} s)"
    return text


def fenced(text: str) -> str:
    """`text` in a code block whose fence no run of backticks inside it can close."""
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}text\n{text}\n{fence}"


def short_date(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M %Z").strip()


def render_section(result: Result) -> str:
    """The script's section: a machine-readable marker, then the figures for people."""
    meta = {k: v for k, v in asdict(result).items() if k not in ("stdout", "stderr_tail")}
    meta["wall_seconds"] = round(result.wall_seconds, 2)
    meta["peak_rss_mib"] = round(result.peak_rss_mib, 1)
    meta["status"] = result.status()
    meta["vectorbt"] = [
        " ".join(line.split()) for line in result.stdout.splitlines() if "/ vectorbt" in line
    ]
    marker = MARKER + json.dumps(meta).replace(">", "\\u003e") + MARKER_END
    lines = [
        marker,
        f"## {result.script}",
        "",
        result.measures,
        "",
        f"- Run: {short_date(result.date)} on {result.machine}",
        f"- Wall time: {clock(result.wall_seconds)}",
        f"- Peak RSS: {result.peak_rss_mib:,.0f} MiB",
        f"- Status: {result.status()}",
        "",
        fenced(result.stdout or "(no output)"),
    ]
    if not result.ok:
        lines += [
            "",
            f"Standard error, last {STDERR_TAIL_LINES} lines at most:",
            "",
            fenced(result.stderr_tail or "(empty)"),
        ]
    return "\n".join(lines)


def read_sections(path: Path) -> dict[str, tuple[dict, str]]:
    """The sections of an existing results file by script: (marker data, text as written)."""
    if not path.exists():
        return {}
    chunks = re.split(r"^(?=" + re.escape(MARKER) + ")", path.read_text("utf-8"), flags=re.M)
    # the first chunk is the header and summary, written afresh
    sections = [parse_section(chunk) for chunk in chunks if chunk.startswith(MARKER)]
    return {meta["script"]: (meta, text) for meta, text in sections}


def parse_section(text: str) -> tuple[dict, str]:
    """A section's marker data and its text (trailing blank lines dropped)."""
    meta = json.loads(text[len(MARKER) : text.index(MARKER_END)])
    return meta, text.rstrip()


def render_file(host: dict[str, str], updated: str, sections: list[tuple[dict, str]]) -> str:
    """Header (machine, what the figures mean), summary table, then the sections as given."""
    lines = [
        "# Benchmark results",
        "",
        ABOUT,
        "",
        f"## Machine (latest run, {short_date(updated)})",
        "",
        *[f"- {key}: {value}" for key, value in host.items()],
        "",
        "## Summary",
        "",
        "| script | what it measures | wall time | peak RSS | date | status |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for meta, _ in sections:
        measures = meta["measures"].replace("|", "\\|")
        lines.append(
            f"| [{meta['script']}](#{meta['script']}) | {measures} | {clock(meta['wall_seconds'])} "
            f"| {meta['peak_rss_mib']:,.0f} MiB | {short_date(meta['date'])} | {meta['status']} |"
        )
    ratios = [(meta["script"], line) for meta, _ in sections for line in meta.get("vectorbt", [])]
    if ratios:
        lines += ["", "Against vectorbt:", ""]
        lines += [f"- {script}: `{line}`" for script, line in ratios]
    lines += [""] + [text + "\n" for _, text in sections]
    return "\n".join(lines).rstrip() + "\n"


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


# --- the run -------------------------------------------------------------------------------------


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def select(
    scripts: list[Path], only: list[str] | None, skip: list[str] | None
) -> tuple[list[Path], list[str]]:
    """The scripts to run, and the names asked for that are not scripts of the folder."""
    names = {p.stem for p in scripts}
    wanted = {n.removesuffix(".py") for n in only or []}
    unwanted = {n.removesuffix(".py") for n in skip or []}
    unknown = sorted((wanted | unwanted) - names)
    chosen = [p for p in scripts if (not wanted or p.stem in wanted) and p.stem not in unwanted]
    return chosen, unknown


def run_all(
    folder: Path = HERE,
    out: Path = HERE / "RESULTS.md",
    only: list[str] | None = None,
    skip: list[str] | None = None,
    cwd: Path | None = None,
    echo: IO[str] | None = None,
    heartbeat: bool = False,
) -> int:
    """Run the chosen scripts of `folder` in turn, updating `out` after each; 0 if all succeeded."""
    scripts = discover(folder)
    chosen, unknown = select(scripts, only, skip)
    if unknown:
        raise ValueError(
            f"no benchmark script named {', '.join(unknown)} in {folder} "
            f"(there are: {', '.join(p.stem for p in scripts)})"
        )
    host = machine()
    sections = read_sections(out)
    failed = []
    begun = time.perf_counter()
    for n, script in enumerate(chosen, 1):
        progress(
            f"[{n}/{len(chosen)}] {script.stem} (elapsed {clock(time.perf_counter() - begun)})"
        )
        result = run_script(script, cwd or folder.parent, machine_line(host), echo, heartbeat)
        progress(
            f"[{n}/{len(chosen)}] {script.stem}: {result.status()} in {clock(result.wall_seconds)}, "
            f"peak RSS {result.peak_rss_mib:,.0f} MiB"
        )
        if not result.ok:
            failed.append(script.stem)
            progress(result.stderr_tail)
        sections[result.script] = parse_section(render_section(result))
        in_order = [sections[p.stem] for p in scripts if p.stem in sections]
        write_atomically(out, render_file(host, result.date, in_order))
    total = clock(time.perf_counter() - begun)
    if failed:
        progress(f"done in {total}; failed: {', '.join(failed)}; results in {out}")
        return 1
    progress(f"done in {total}: all {len(chosen)} ok; results in {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these scripts")
    parser.add_argument("--skip", nargs="+", metavar="NAME", help="run all but these scripts")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md", help="results file")
    args = parser.parse_args(argv)
    scripts = discover(HERE)
    _, unknown = select(scripts, args.only, args.skip)
    if unknown:
        parser.error(
            f"no script {', '.join(unknown)} (there are: {', '.join(p.stem for p in scripts)})"
        )
    return run_all(HERE, args.out, args.only, args.skip, echo=sys.stdout, heartbeat=True)


if __name__ == "__main__":
    sys.exit(main())
