# Two entry points for a fresh machine with Python 3.11: `make demo` and `make test`.
# Each creates the virtual environment on first use (and again when pyproject.toml changes).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_HOME ?= alphapilot_demo
# Two processes, each taking whole test files (module fixtures are built once): about half the
# wall time on CI's two cores. `make test TEST_ARGS=` runs in one process.
TEST_ARGS ?= -n 2 --dist loadfile

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
# uv trusts the system certificate store, as pip does (needed behind TLS-inspecting proxies).
export UV_SYSTEM_CERTS := 1

.PHONY: demo test lint format bench bench-backtest docs-screenshots clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	# --compile-bytecode: the first command does not compile every module it imports (5 s)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	# Prefect's database, created now rather than by the first command's temporary server
	# (8 s of migrations while a user waits for the first demo)
	$(BIN)/prefect server database upgrade -y >/dev/null
	touch $(STAMP)

demo: $(STAMP)  ## set up, then run the whole job on the bundled S&P 500 data
	$(BIN)/alphapilot demo --home $(DEMO_HOME)

# tests/cross_cutting/test_report_browser.py opens the reports in Debian's Chromium, installed
# when missing (CI runs as root on a clean Debian machine; Playwright's own browser download is
# not used).
test: $(STAMP)  ## set up, then run the test suite
	command -v chromium >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	$(BIN)/python -m pytest $(TEST_ARGS)

# mypy reads its settings from pyproject.toml ([tool.mypy])
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy trading_core settings tasks flows

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

BENCH_ARGS ?=  # e.g. make bench BENCH_ARGS='--only features_speed' (or --skip NAME ...)

bench: $(STAMP)  ## every script in benchmarks/, one at a time (about 35 min): benchmarks/RESULTS.md
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev,bench]'
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

bench-backtest: BENCH_ARGS = --only bench_backtest
bench-backtest: bench  ## the backtester against a numpy loop and vectorbt only

docs-screenshots: $(STAMP)  ## the annotated screenshots of docs/guide/reading_the_reports.md (about 5 min)
	command -v chromium >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) $(DEMO_HOME)
