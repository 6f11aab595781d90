# Two entry points for a fresh machine with Python 3.11: `make demo` and `make test`.
# Each creates the virtual environment on first use (and again when pyproject.toml changes).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_HOME ?= alphapilot_demo

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
# uv trusts the system certificate store, as pip does (needed behind TLS-inspecting proxies).
export UV_SYSTEM_CERTS := 1

.PHONY: demo test lint format bench bench-backtest clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## set up, then run the whole job on the bundled S&P 500 data
	$(BIN)/alphapilot demo --home $(DEMO_HOME)

test: $(STAMP)  ## set up, then run the test suite
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)  ## time the demo and its steps
	$(BIN)/python benchmarks/demo_timing.py

bench-backtest: $(STAMP)  ## time the backtester against a numpy loop and vectorbt (bench extra)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev,bench]'
	$(BIN)/python benchmarks/bench_backtest.py

clean:
	rm -rf $(VENV) $(DEMO_HOME)
