"""Where the workflow puts things: the one definition of the run and checkout layouts.

Used by :mod:`.plan` (paths of jobs), ``workflow/rules/common.smk`` (the wildcard patterns:
pass the ``{wildcard}`` strings as parts) and :func:`hfpl.workflow.aggregate.collect_runs`
(which parses them back)::

    {runs}/{dataset}/{method}/{variant}/seed{seed}/{step}/           outputs, log.txt, .tmp/
    {runs}/.../{step}/manifest.json                                   completion marker
    {runs}/.../{step}/metrics/{evaluation}.json                       evaluator output
    {checkouts}/{owner}/{name}/{commit}-{tree_key}/                   read-only patched tree
    {checkouts}/{owner}/{name}/{commit}-{tree_key}.json               its completion marker
    {data_root}/lists/{method}/                                       a method's list files
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import NamedTuple

MANIFEST = "manifest.json"
LOG = "log.txt"
METRICS = "metrics"
# every metrics file below a runs folder (the five run levels, then metrics/)
METRICS_GLOB = f"*/*/*/*/*/{METRICS}/*.json"
_SEED = re.compile(r"seed(\d+)")


class RunStep(NamedTuple):
    """One step of one run, as named by its run directory."""

    dataset: str
    method: str
    variant: str
    seed: int
    step: str


def run_dir(runs: str, dataset: str, method: str, variant: str, seed: int | str, step: str) -> str:
    """``{runs}/{dataset}/{method}/{variant}/seed{seed}/{step}``."""
    return f"{runs}/{dataset}/{method}/{variant}/seed{seed}/{step}"


def manifest(step_dir: str) -> str:
    """The step's completion marker (what Snakemake tracks)."""
    return f"{step_dir}/{MANIFEST}"


def log(step_dir: str) -> str:
    return f"{step_dir}/{LOG}"


def metrics(step_dir: str, evaluation: str) -> str:
    return f"{step_dir}/{METRICS}/{evaluation}.json"


def parse_metrics(relative: PurePath) -> tuple[RunStep, str]:
    """(run step, evaluation) of a metrics file's path relative to the runs folder; a seed
    folder not named ``seed<N>`` is a ``ValueError``."""
    dataset, method, variant, seed_dir, step = relative.parts[:5]
    seed = _SEED.fullmatch(seed_dir)
    if seed is None:
        raise ValueError(f"run directory {seed_dir!r} is not seed<N>")
    return RunStep(dataset, method, variant, int(seed[1]), step), PurePath(relative).stem


def checkout_dir(checkouts: str, checkout_id: str) -> str:
    """``{checkouts}/{owner}/{name}/{commit}-{tree_key}`` (``checkout_id`` is the last three)."""
    return f"{checkouts}/{checkout_id}"


def checkout_marker(checkouts: str, checkout_id: str) -> str:
    return f"{checkout_dir(checkouts, checkout_id)}.json"


def lists_dir(data_root: str, method: str) -> str:
    """The list and class-label files `hfpl data lists` writes for ``method`` (``{lists}``)."""
    return f"{data_root}/lists/{method}"
