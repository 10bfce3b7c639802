# The two set-up commands (see README): `make demo` and `make test`. Both build .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo-project

.PHONY: demo demo-loop test install install-dev lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'

demo: install
	rm -rf $(DEMO_DIR)
	$(BIN)/yard init $(DEMO_DIR) --example penguins
	cd $(DEMO_DIR) && ../$(BIN)/yard run
	@echo
	@echo "Again: nothing changed, so every step is reused:"
	cd $(DEMO_DIR) && ../$(BIN)/yard run
	@echo
	@echo "Where the champion model came from:"
	cd $(DEMO_DIR) && ../$(BIN)/yard lineage penguins

# The closed loop, unattended: serve, replay traffic that shifts, watch it retrain, canary and promote.
demo-loop: install
	$(BIN)/python examples/demo_loop.py --dir demo-loop-project

lint: install-dev
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/lint-imports

test: install-dev lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: install-dev
	$(BIN)/python benchmarks/engine_overhead.py
	$(BIN)/python benchmarks/import_time.py
	$(BIN)/python benchmarks/tracking_vs_mlflow.py
	$(BIN)/python benchmarks/serve_vs_mlflow.py
	$(BIN)/python benchmarks/data_validation.py
	$(BIN)/python benchmarks/transform_vs_sklearn.py
	$(BIN)/python benchmarks/predict_latency.py
	$(BIN)/python benchmarks/monitor_drift.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) demo-loop-project .pytest_cache .ruff_cache
