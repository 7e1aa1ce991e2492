"""The typed handovers from the plan to the jobs: :class:`StepJob` and :class:`CheckoutJob`.

Built by :mod:`hfpl.workflow.plan`, passed by the rules as JSON (``to_json``; a change of any
field re-runs the job, because Snakemake's params are rerun triggers) and read back by
``hfpl workflow run-step|checkout`` (``from_json``). Frozen and validated in ``__post_init__``:
a malformed job is a ``ValueError`` before anything runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

_COMMIT = re.compile(r"[0-9a-f]{40}")
# JSON {checkout dest: clone URL} the workflow puts in the environment of its local rules
CHECKOUT_URLS_ENV = "HFPL_CHECKOUT_URLS"
_Job = TypeVar("_Job", bound="_JsonJob")


class _JsonJob:
    """``to_json``/``from_json`` of a frozen dataclass whose tuple fields travel as lists."""

    def to_json(self) -> str:
        """Canonical JSON (sorted keys): equal jobs give equal strings."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)  # type: ignore[call-overload]

    @classmethod
    def from_json(cls: type[_Job], text: str) -> _Job:
        """The job ``to_json`` wrote; unknown or missing keys are a ``ValueError``."""
        data = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        if not isinstance(data, dict) or set(data) != names:
            got = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"not a {cls.__name__} (keys {got}, expected {sorted(names)})")
        return cls(**data)

    def _tuples(self, *names: str) -> None:
        for name in names:
            object.__setattr__(self, name, tuple(getattr(self, name)))


def _strings(name: str, items: Any) -> None:
    if not all(isinstance(i, str) for i in items):
        raise ValueError(f"{name} must hold strings, got {items!r}")


def _absolute(name: str, path: str) -> None:
    if not os.path.isabs(path):
        raise ValueError(f"{name} must be an absolute path, got {path!r}")


@dataclass(frozen=True)
class CheckoutJob(_JsonJob):
    """One pinned, patched, read-only checkout (:func:`hfpl.workflow.checkout.checkout`).

    What a checkout *is*: ``commit``, ``patches`` (the series in application order) and
    ``sparse_exclude``; ``dest``/``marker``: the tree and its JSON completion marker (paths
    relative to the workdir or absolute). Where it is cloned from is provenance, not identity:
    the URL is not a field (a new URL template must not re-run anything); ``hfpl workflow
    checkout`` gets it from ``--url`` or the rules' environment (:data:`CHECKOUT_URLS_ENV`).
    """

    commit: str
    patches: tuple[str, ...]
    sparse_exclude: tuple[str, ...]
    dest: str
    marker: str

    def __post_init__(self) -> None:
        self._tuples("patches", "sparse_exclude")
        _strings("patches", self.patches)
        _strings("sparse_exclude", self.sparse_exclude)
        if not _COMMIT.fullmatch(self.commit):
            raise ValueError(f"commit must be a full 40-hex SHA, got {self.commit!r}")
        if not self.dest or self.dest == self.marker:
            raise ValueError(f"dest {self.dest!r} and marker {self.marker!r} must differ")


@dataclass(frozen=True)
class StepJob(_JsonJob):
    """Everything :func:`hfpl.workflow.runner.run_step` needs for one step of one run.

    ``argv`` rendered (the variant's flags spliced in), ``cwd`` and ``run_dir`` absolute,
    ``env`` added to the step's environment, ``outputs`` relative to ``run_dir`` (checked after
    exit 0), ``gpus`` devices taken from the allocator (lock files in ``gpu_lock_dir``),
    ``executor`` kind + ``executor_options`` for :func:`~hfpl.workflow.executors.make_executor`
    (image already chosen for the method), ``checkouts``: repo key -> checkout marker (copied
    into the manifest), ``read_only``: paths bound read-only in containers.

    ``dataset_digest``: the ``digest`` of the dataset's ``hfpl-dataset.json`` when the job was
    planned (``""`` before the dataset exists; Snakemake re-plans a job right before it runs);
    ``reads``: earlier step name -> its run dir (their manifests' output digests are checked
    before the step starts); ``did_work``: the step's declaration of what "did work" means
    (``{"log_regex": str, "min_count": int}``, checked after exit 0); ``weights``: declared
    weights file -> sha256 of its facts (checksums, smoke architecture).
    """

    dataset: str
    method: str
    variant: str
    seed: int
    step: str
    argv: tuple[str, ...]
    cwd: str
    env: Mapping[str, str]
    run_dir: str
    outputs: tuple[str, ...]
    gpus: int
    executor: str
    gpu_lock_dir: str
    executor_options: Mapping[str, Any] = field(default_factory=dict)
    checkouts: Mapping[str, str] = field(default_factory=dict)
    read_only: tuple[str, ...] = ()
    dataset_digest: str = ""
    reads: Mapping[str, str] = field(default_factory=dict)
    did_work: Mapping[str, Any] = field(default_factory=dict)
    weights: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._tuples("argv", "outputs", "read_only")
        for name in ("env", "executor_options", "checkouts", "reads", "did_work", "weights"):
            object.__setattr__(self, name, dict(getattr(self, name)))
        if not self.argv:
            raise ValueError("argv must not be empty")
        _strings("argv", self.argv)
        _strings("env values", self.env.values())
        _strings("outputs", self.outputs)
        _strings("read_only", self.read_only)
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an int >= 0, got {self.seed!r}")
        if not isinstance(self.gpus, int) or self.gpus < 0:
            raise ValueError(f"gpus must be an int >= 0, got {self.gpus!r}")
        for name in ("run_dir", "cwd", "gpu_lock_dir"):
            _absolute(name, getattr(self, name))
        for step, path in self.reads.items():
            _absolute(f"reads[{step}]", path)
        if self.did_work and not (
            isinstance(self.did_work.get("log_regex"), str)
            and isinstance(self.did_work.get("min_count", 1), int)
        ):
            raise ValueError(f"did_work must be {{log_regex: str, min_count: int}}, got "
                             f"{self.did_work!r}")  # fmt: skip
        bad = [o for o in self.outputs if os.path.isabs(o) or ".." in o.split("/")]
        if bad:
            raise ValueError(f"outputs must be relative to the run dir, got {bad}")

    @property
    def name(self) -> str:
        """``method/variant/seed{seed}/step``, for messages."""
        return f"{self.method}/{self.variant}/seed{self.seed}/{self.step}"

    @property
    def identity(self) -> str:
        """sha256 (hex) of what makes the step's result: the rendered argv, cwd and env, each
        checkout's ``{commit}-{tree_key}`` (the marker's name; never the URL), the executor kind
        and image, the dataset's manifest digest and the weights facts. Not the run's time,
        host, GPU ids or clone URL. Recorded in ``manifest.json``; the resolved config lists the
        identity the current configuration gives each step."""
        parts = {
            "argv": list(self.argv),
            "cwd": self.cwd,
            "env": self.env,
            "checkouts": {k: os.path.basename(m).removesuffix(".json")
                          for k, m in self.checkouts.items()},
            "executor": [self.executor, str(self.executor_options.get("image", ""))],
            "dataset": self.dataset_digest,
            "weights": self.weights,
        }  # fmt: skip
        text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()
