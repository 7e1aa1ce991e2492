# Developer entry points. `make test` is what CI runs (via .ci/run); `make smoke` is the quickstart.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# torch 2.13.0 is the small CPU build (hfpl's core needs no torchvision)
TORCH  ?= torch==2.13.0

# The environment the upstream steps run in (local executor): what containers/ install too.
UPSTREAM_VENV  ?= .venv-upstream
UPSTREAM_TORCH ?= torch==2.14.1 torchvision==0.29.1
# where the upstream repositories are cloned from; a local mirror works, e.g.
#   make smoke UPSTREAM_URL_TEMPLATE='/srv/mirrors/{owner}+{name}/repo'
UPSTREAM_URL_TEMPLATE ?= https://github.com/{owner}/{name}.git
SNAKEMAKE_ARGS ?=

.PHONY: venv upstream-venv test smoke bench

$(BIN)/hfpl: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(BIN)/hfpl

$(UPSTREAM_VENV)/bin/hfpl: pyproject.toml containers/seam/requirements.txt
	$(PYTHON) -m venv $(UPSTREAM_VENV)
	$(UPSTREAM_VENV)/bin/pip install -q --upgrade pip
	$(UPSTREAM_VENV)/bin/pip install -q $(UPSTREAM_TORCH)
	# pydensecrf 1.0rc3 does not build on Python 3.11 / Cython 3; pydensecrf2 imports as pydensecrf
	$(UPSTREAM_VENV)/bin/pip install -q cython numpy
	$(UPSTREAM_VENV)/bin/pip install -q --no-build-isolation pydensecrf2==1.1
	$(UPSTREAM_VENV)/bin/pip install -q opencv-python-headless scipy pandas tqdm \
	  -r containers/seam/requirements.txt
	$(UPSTREAM_VENV)/bin/pip install -q -e '.[cli]'
	touch $@

upstream-venv: $(UPSTREAM_VENV)/bin/hfpl

test: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q

# The SEAM row, all nine steps, baseline and ISL/FSL x 2 seeds, real upstream code on CPU.
# --workflow-profile replaces profiles/default (a --profile would be applied on top of it);
# --configfile and --config take every following word, so they come last.
smoke: venv upstream-venv
	$(BIN)/snakemake --cores 2 --workflow-profile profiles/smoke $(SNAKEMAKE_ARGS) \
	  --configfile config/config.yaml profiles/smoke/overrides.yaml profiles/smoke/seam.yaml \
	  --config 'upstream={url_template: "$(UPSTREAM_URL_TEMPLATE)"}' \
	  'executor={local: {python: $(abspath $(UPSTREAM_VENV))/bin/python}}'
	@echo "tables: results/tables/*.md"

bench: venv
	$(BIN)/python benchmarks/bench_losses.py
	$(BIN)/python benchmarks/bench_eval.py
	$(BIN)/python benchmarks/bench_dryrun.py
