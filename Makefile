# Developer entry points. `make test` is the README's test command; `make ci-smoke MIRRORS=DIR`
# is what CI runs (.ci/run: images, `make test` with the upstream tests and every row's smoke in
# containers); `make smoke` is the quickstart.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# torch 2.13.0 is the small CPU build (hfpl's core needs no torchvision)
TORCH  ?= torch==2.13.0
# extra pytest arguments of `make test`, e.g. PYTEST_ARGS='-m "not slow"'
PYTEST_ARGS ?=

# The container layers (containers/<image>/, over containers/base) of the configured methods:
# the `image:` key of every config/methods/*.yaml (default base: no layer).
LAYERS ?= $(sort $(filter-out base,$(shell sed -n \
  's/^image:[[:space:]]*["'\'']\{0,1\}\([A-Za-z0-9_.-]*\).*/\1/p' config/methods/*.yaml)))

# The environment the upstream steps run in (local executor): the images' recipe, i.e.
# containers/base/install.sh `python` (pins: containers/base/requirements.txt) and `layer` for
# each of the LAYERS. Older NVIDIA driver: TORCH_INDEX_URL=https://download.pytorch.org/whl/cu126
UPSTREAM_VENV ?= .venv-upstream
# where the upstream repositories are cloned from; a local mirror works, e.g.
#   make smoke UPSTREAM_URL_TEMPLATE='/srv/mirrors/{owner}+{name}/repo'
UPSTREAM_URL_TEMPLATE ?= https://github.com/{owner}/{name}.git
# which smoke `make smoke` runs: profiles/smoke/$(SMOKE).yaml (seam: the SEAM row, 9 steps,
# baseline and ISL/FSL x 2 seeds; seam-coco: SEAM on the synthetic COCO tree)
SMOKE ?= seam
SNAKEMAKE_ARGS ?=

# `make images`: hfpl/base + hfpl/<layer> for every layer, tagged IMAGE_TAG, all with the same
# pinned CUDA torch. IMAGE_VARIANT gpu: debian:bookworm-slim base; cuda: nvidia/cuda base; local
# (or cpu): registry-free (.ci/docker-up.sh's debootstrap base, local wheels), what CI builds.
IMAGE_VARIANT ?= gpu
IMAGE_TAG ?= latest
# `make ci-smoke`: the folder of upstream mirror tars (<owner>+<name>.tar)
MIRRORS ?= ../shared/upstream-mirrors

.PHONY: venv upstream-venv test smoke bench images ci-smoke

ifneq ($(filter smoke,$(MAKECMDGOALS)),)
ifeq ($(wildcard profiles/smoke/$(SMOKE).yaml),)
$(error no profiles/smoke/$(SMOKE).yaml; choose SMOKE= one of: $(basename $(filter-out \
  config.yaml overrides.yaml,$(notdir $(wildcard profiles/smoke/*.yaml)))))
endif
endif

$(BIN)/hfpl: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(BIN)/hfpl

$(UPSTREAM_VENV)/bin/hfpl: pyproject.toml containers/base/install.sh containers/base/requirements.txt \
    $(foreach l,$(LAYERS),$(wildcard containers/$(l)/*))
	PIP_QUIET=1 HFPL_VENV=$(abspath $(UPSTREAM_VENV)) HFPL_PYTHON=$(PYTHON) \
	  sh containers/base/install.sh python
	$(UPSTREAM_VENV)/bin/pip install -q -e '.[cli]'
	$(foreach l,$(LAYERS),PIP_QUIET=1 HFPL_VENV=$(abspath $(UPSTREAM_VENV)) \
	  sh containers/base/install.sh layer containers/$(l) &&) true
	touch $@

upstream-venv: $(UPSTREAM_VENV)/bin/hfpl

test: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# One smoke profile on the real upstream code on CPU (default: the SEAM row, all nine steps,
# baseline and ISL/FSL x 2 seeds). --workflow-profile replaces profiles/default (a --profile
# would be applied on top of it); --configfile and --config take every following word, so they
# come last.
smoke: venv upstream-venv
	$(BIN)/snakemake --cores 2 --workflow-profile profiles/smoke $(SNAKEMAKE_ARGS) \
	  --configfile config/config.yaml profiles/smoke/overrides.yaml profiles/smoke/$(SMOKE).yaml \
	  --config 'upstream={url_template: "$(UPSTREAM_URL_TEMPLATE)"}' \
	  'executor={local: {python: $(abspath $(UPSTREAM_VENV))/bin/python}}'
	@echo "tables: results/tables/*.md"

images:
	containers/build.sh --variant $(IMAGE_VARIANT) --tag $(IMAGE_TAG) $(LAYERS)

# What CI runs, from the mirrors of the upstream repositories (see .ci/run)
ci-smoke:
	.ci/run $(MIRRORS)

bench: venv
	$(BIN)/python benchmarks/bench_losses.py
	$(BIN)/python benchmarks/bench_eval.py
	$(BIN)/python benchmarks/bench_dryrun.py
