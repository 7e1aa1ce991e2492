"""Which recorded runs are the ones the current configuration would produce (issue 10, item 1).

The workflow's resolved configuration (``{results}/config.resolved.json``, written by the
``resolved_config`` rule from :func:`hfpl.workflow.plan.resolved`) lists under ``identities``
the identity (sha256) the current configuration gives every expected step
``(dataset, method, variant, seed, step)``; each step's ``manifest.json`` records the
``identity`` of the job that ran (:attr:`hfpl.workflow.jobs.StepJob.identity`: rendered argv
with the variant's flags, checkouts' commits and patch trees, executor image, dataset digest).

A step is *current* when its manifest's identity is the expected one **and** every step it reads
(``{step_dir[...]}`` in its templates, transitively) is current: a changed flag of the first
step makes every later step of that run stale, although their own argv did not change. Anything
else is *stale*, with a reason, and is never averaged into a table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hfpl.workflow import layout, templates
from hfpl.workflow.layout import RunStep
from hfpl.workflow.params import run_templates

__all__ = ["Expected", "Freshness", "load_expected"]

IDENTITIES = "identities"  # key of the resolved config (H7): list of {dataset, ..., identity}
IDENTITY = "identity"  # key of manifest.json


class ResolvedConfigError(ValueError):
    """The resolved configuration cannot be read; the message names the file and the fix."""


@dataclass(frozen=True)
class Expected:
    """What the current configuration produces: step identities and which steps each reads.

    ``identities``: RunStep -> sha256; ``reads``: (method, step) -> the steps it reads;
    ``methods``: the resolved method configs (for ``final_protocol``); ``smoke``: whether the
    current configuration runs smoke steps on generated data.
    """

    identities: dict[RunStep, str]
    reads: dict[tuple[str, str], frozenset[str]]
    methods: dict[str, Any] = field(default_factory=dict)
    smoke: bool = False


def load_expected(path: Path) -> Expected:
    """Read the resolved configuration JSON; one :class:`ResolvedConfigError` on a problem."""
    try:
        resolved = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ResolvedConfigError(
            f"{path}: cannot read the resolved configuration ({err}); rerun the workflow's "
            "`resolved_config` rule (snakemake results/config.resolved.json)"
        ) from None
    entries = resolved.get(IDENTITIES) if isinstance(resolved, dict) else None
    if not isinstance(entries, list):
        raise ResolvedConfigError(
            f"{path}: no {IDENTITIES!r} list (made by an older hfpl?); rerun the workflow's "
            "`resolved_config` rule"
        )
    identities = {}
    for entry in entries:
        try:
            key = RunStep(
                entry["dataset"],
                entry["method"],
                entry["variant"],
                int(entry["seed"]),
                entry["step"],
            )
            identities[key] = str(entry[IDENTITY])
        except (KeyError, TypeError, ValueError):
            raise ResolvedConfigError(
                f"{path}: {IDENTITIES}: bad entry {entry!r}; expected dataset, method, variant, "
                "seed, step, identity"
            ) from None
    methods = resolved.get("methods") or {}
    reads = {
        (method, step): frozenset(templates.references(run_templates(spec), "step_dir"))
        for method, mcfg in methods.items()
        for step, spec in (mcfg.get("steps") or {}).items()
    }
    settings = resolved.get("settings") or {}
    smoke = bool(settings.get("smoke")) or bool(
        ((settings.get("data") or {}).get("smoke") or {}).get("generate")
    )
    return Expected(identities, reads, methods, smoke)


class Freshness:
    """Memoised current/stale verdicts for the steps under one runs folder."""

    def __init__(self, runs_dir: Path, expected: Expected | None, read_json) -> None:
        self.runs_dir = Path(runs_dir)
        self.expected = expected
        self._read_json = read_json
        self._verdicts: dict[RunStep, str | None] = {}

    def manifest(self, step: RunStep) -> dict[str, Any] | None:
        path = Path(layout.manifest(layout.run_dir(str(self.runs_dir), *step)))
        return self._read_json(path) if path.is_file() else None

    def stale_reason(self, step: RunStep) -> str | None:
        """None if ``step`` is current, else why not (one short phrase)."""
        if step not in self._verdicts:
            self._verdicts[step] = "reads itself"  # provisional: a cycle of reads is stale
            self._verdicts[step] = self._reason(step)
        return self._verdicts[step]

    def _reason(self, step: RunStep) -> str | None:
        manifest = self.manifest(step)
        if manifest is None or manifest.get("exit_status") != 0:
            return "no finished manifest"
        if self.expected is None:
            return None
        want = self.expected.identities.get(step)
        if want is None:
            return "not in the configured grid"
        have = manifest.get(IDENTITY)
        if have is None:
            return "no identity recorded (made before identities existed)"
        if have != want:
            return "made with another configuration (identity differs)"
        for read in sorted(self.expected.reads.get((step.method, step.step), ())):
            upstream = step._replace(step=read)
            if self.stale_reason(upstream) is not None:
                return f"reads step {read}, which is stale"
        return None

    def smoke(self, step: RunStep) -> bool:
        """Whether the step ran as a smoke run: its manifest's ``smoke``, else (manifests
        without the key) the current configuration's setting (a current step was made by it)."""
        manifest = self.manifest(step) or {}
        if "smoke" in manifest:
            return bool(manifest["smoke"])
        return bool(self.expected and self.expected.smoke)
