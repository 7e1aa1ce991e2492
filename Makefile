# Developer entry points. `make test` is what CI runs (via .ci/run); `make smoke` is the quickstart.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# torch 2.13.0 is the small CPU build; the upstream smoke needs torchvision (see README).
TORCH  ?= torch==2.13.0

.PHONY: venv test lint smoke reproduce bench

$(BIN)/hfpl: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(BIN)/hfpl

test: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q

bench: venv
	$(BIN)/python benchmarks/bench_losses.py
	$(BIN)/python benchmarks/bench_eval.py
