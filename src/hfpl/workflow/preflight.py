"""Preflight of a GPU run: can the configured steps run on this host, in their environment?

Checked before anything runs (``hfpl preflight``; the first job of a GPU run), each failure one
line naming the fix:

- the NVIDIA driver (``nvidia-smi``) against the CUDA version of the environment's torch build
  (:data:`MIN_DRIVER`: CUDA 13 needs >= 580, the PyPI torch 2.14.1 wheel is a CUDA 13 build);
- each GPU's compute capability against the build's arch list (``torch.cuda.get_arch_list()``);
- the number of GPUs and their free memory against what the configured GPU steps ask for
  (``resources.gpu`` and ``estimate.gpu_mem_mb`` per GPU, per dataset: :mod:`hfpl.workflow.cost`);
- the environment (docker image, SIF file or venv) is present and was built from the working
  tree's recipe (:mod:`hfpl.workflow.recipe`).

The checks are pure functions of recorded facts (:class:`Gpu` rows parsed from ``nvidia-smi``'s
CSV, the :data:`TORCH_PROBE` JSON of the environment), so they are tested without a GPU;
:func:`gather_gpus` and :func:`probe_environment` collect those facts on a real host.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hfpl.workflow import recipe

# nvidia-smi query whose CSV :func:`parse_nvidia_smi` reads (noheader, nounits)
NVIDIA_SMI = [
    "nvidia-smi",
    "--query-gpu=index,name,driver_version,compute_cap,memory.total,memory.free",
    "--format=csv,noheader,nounits",
]
# Linux driver a CUDA major version needs at least (CUDA minor-version compatibility: any 12.x
# toolkit runs on >= 525.60.13, any 13.x on >= 580.65.06; NVIDIA's CUDA compatibility guide)
MIN_DRIVER = {11: (450, 80), 12: (525, 60), 13: (580, 65)}
# the torch index for drivers older than the pinned build needs (docs/executors.md)
OLD_DRIVER_INDEX = "https://download.pytorch.org/whl/cu126"

# Runs in the step environment's interpreter; prints JSON. Without a visible GPU some torch
# versions return [] from get_arch_list(); the compiled-in flags are the same list.
TORCH_PROBE = r"""
import json, os, sys
info = {"python": sys.version.split()[0]}
try:
    import torch
except ImportError as err:
    info["error"] = f"cannot import torch: {err}"
else:
    archs = list(torch.cuda.get_arch_list())
    if not archs and torch.version.cuda:
        archs = torch._C._cuda_getArchFlags().split()
    info.update(torch=torch.__version__, cuda=torch.version.cuda, arch_list=archs)
record = os.path.join(sys.prefix, "hfpl-recipe.txt")
info["recipe"] = open(record).read() if os.path.exists(record) else None
print(json.dumps(info))
"""


class PreflightError(RuntimeError):
    """The facts could not be gathered (one line naming the fix)."""


@dataclass(frozen=True)
class Gpu:
    """One row of ``nvidia-smi`` (:data:`NVIDIA_SMI`): memory in MiB, capability (major, minor)."""

    index: int
    name: str
    driver: str
    capability: tuple[int, int]
    total_mb: int
    free_mb: int


@dataclass(frozen=True)
class Need:
    """What one configured GPU step asks for: ``gpus`` devices with ``mem_mb`` MiB free each."""

    label: str  # e.g. "seam/train_cam on voc"
    gpus: int
    mem_mb: int


@dataclass(frozen=True)
class Environment:
    """One environment the GPU steps run in and what :data:`TORCH_PROBE` said about it.

    ``name``: image, SIF or interpreter; ``probe``: the probe's JSON (``None``: it did not run,
    ``problem`` says why); ``wanted``: the recipe digests the working tree gives it (empty for a
    venv not made by the Makefile recipe)."""

    name: str
    probe: dict[str, Any] | None
    problem: str = ""
    wanted: dict[str, str] = field(default_factory=dict)


def parse_nvidia_smi(text: str) -> list[Gpu]:
    """:class:`Gpu` rows of :data:`NVIDIA_SMI`'s output; a malformed line is a ValueError."""
    gpus = []
    for line in text.strip().splitlines():
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != 6:
            raise ValueError(f"not an nvidia-smi --query-gpu row of 6 fields: {line!r}")
        index, name, driver, cap, total, free = fields
        major, _, minor = cap.partition(".")
        gpus.append(Gpu(int(index), name, driver, (int(major), int(minor or 0)), int(total),
                        int(free)))  # fmt: skip
    return gpus


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


def check_driver(gpus: list[Gpu], cuda: str | None, torch: str) -> list[str]:
    """The driver is new enough for the torch build's CUDA major version."""
    if not gpus or not cuda:
        return []
    major = _version(cuda)[0]
    need = MIN_DRIVER.get(major)
    driver = _version(gpus[0].driver)
    if need is None or driver[:2] >= need:
        return []
    wanted = ".".join(map(str, need))
    fix = (
        f"build the image/venv with TORCH_INDEX_URL={OLD_DRIVER_INDEX} (docs/executors.md, "
        "'Older drivers') or update the driver"
        if driver[:2] >= MIN_DRIVER[12]
        else "update the NVIDIA driver (no CUDA 12/13 torch build runs on it)"
    )
    return [
        f"NVIDIA driver {gpus[0].driver} is older than torch {torch}'s CUDA {cuda} needs "
        f"(>= {wanted}); {fix}"
    ]


def _runs_on(capability: tuple[int, int], archs: list[str]) -> bool:
    """Whether a build with ``archs`` runs on ``capability``: a cubin ``sm_XY`` of the same
    major and an older or equal minor (binary compatible), or PTX ``compute_XY`` <= it."""
    major, minor = capability
    for arch in archs:
        kind, _, number = arch.partition("_")
        if not number.isdigit():  # sm_90a etc.: that exact GPU only
            if number.rstrip("af") == f"{major}{minor}":
                return True
            continue
        arch_major, arch_minor = int(number[:-1]), int(number[-1])
        if kind == "sm" and arch_major == major and arch_minor <= minor:
            return True
        if kind == "compute" and (arch_major, arch_minor) <= capability:
            return True
    return False


def check_arch(gpus: list[Gpu], archs: list[str], torch: str) -> list[str]:
    """Every GPU's compute capability is one the build has kernels (or PTX) for."""
    out = []
    for gpu in gpus:
        if archs and not _runs_on(gpu.capability, archs):
            cap = f"{gpu.capability[0]}.{gpu.capability[1]}"
            out.append(
                f"GPU {gpu.index} ({gpu.name}, compute capability {cap}) is not in torch "
                f"{torch}'s arch list {' '.join(archs)}; use a GPU it lists (SLURM: "
                f"slurm_extra='--constraint=...'), or a torch build for sm_{cap.replace('.', '')} "
                "(TORCH_INDEX_URL, docs/executors.md)"
            )
    return out


def check_memory(gpus: list[Gpu], needs: list[Need]) -> list[str]:
    """Enough GPUs for each step's ``gpus``, with its ``mem_mb`` free on each of them."""
    out = []
    for need in needs:
        if need.gpus > len(gpus):
            out.append(
                f"{need.label} asks for {need.gpus} GPUs, {len(gpus)} visible; run it where "
                f"{need.gpus} are (SLURM: the step's resources.gpu becomes --gpus) or lower "
                "its resources.gpu in the method YAML (docs/cluster.md)"
            )
            continue
        roomy = sorted((g for g in gpus if g.free_mb >= need.mem_mb), key=lambda g: g.index)
        if need.mem_mb and len(roomy) < need.gpus:
            best = max(gpus, key=lambda g: g.free_mb)
            out.append(
                f"{need.label} needs {need.mem_mb} MiB free on {need.gpus} GPU(s), GPU "
                f"{best.index} ({best.name}) has {best.free_mb} MiB free of {best.total_mb}; "
                "free it (nvidia-smi lists its processes), use a larger GPU, or give the step "
                "more GPUs (resources.gpu) so each holds a part of the batch"
            )
    return out


def check_environment(env: Environment) -> list[str]:
    """The environment answered the probe with a CUDA torch, built from the current recipe."""
    if env.probe is None:
        return [env.problem]
    if "error" in env.probe:
        return [f"{env.name}: {env.probe['error']}; rebuild it (make images / make upstream-venv)"]
    if not env.probe.get("cuda"):
        return [
            f"{env.name}: torch {env.probe.get('torch')} is a CPU-only build; install the "
            "CUDA build pinned in containers/base/requirements.txt (make images / make "
            "upstream-venv)"
        ]
    if env.wanted:
        recorded = recipe.parse(env.probe.get("recipe") or "")
        stale = recipe.stale(recorded, env.wanted)
        if stale:
            return [
                f"{env.name} was not built from the current recipe (layers {', '.join(stale)} "
                "differ from containers/); rebuild it: make images (containers/build.sh) or "
                "make upstream-venv"
            ]
    return []


def check(gpus: list[Gpu] | None, envs: list[Environment], needs: list[Need]) -> list[str]:
    """Every problem, one line each (empty: the run can start). ``gpus`` None: nvidia-smi is
    not there."""
    if not needs:
        return [line for env in envs for line in check_environment(env)]
    if gpus is None:
        problems = [
            "nvidia-smi not found: no NVIDIA driver on this host; run on a GPU node (SLURM: "
            "snakemake --profile profiles/slurm) or install the driver"
        ]
    elif not gpus:
        problems = [
            "nvidia-smi lists no GPU (none visible: CUDA_VISIBLE_DEVICES, or SLURM job without "
            "--gpus); request GPUs (resources.gpu) or run on a GPU node"
        ]
    else:
        problems = check_memory(gpus, needs)
    for env in envs:
        problems += check_environment(env)
        if gpus and env.probe and env.probe.get("cuda"):
            torch, cuda = env.probe.get("torch", "?"), env.probe.get("cuda")
            problems += check_driver(gpus, cuda, torch)
            problems += check_arch(gpus, list(env.probe.get("arch_list") or []), torch)
    return list(dict.fromkeys(problems))


# ---- gathering the facts on a real host --------------------------------------------------------


def gather_gpus() -> list[Gpu] | None:
    """The visible GPUs from ``nvidia-smi`` (honours CUDA_VISIBLE_DEVICES as the driver does
    not: filtered here); None without nvidia-smi."""
    if shutil.which(NVIDIA_SMI[0]) is None:
        return None
    done = subprocess.run(NVIDIA_SMI, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PreflightError(
            f"nvidia-smi failed ({' '.join(done.stderr.split())[:200]}); check the driver "
            "(nvidia-smi on its own) before running GPU steps"
        )
    return parse_nvidia_smi(done.stdout)


def visible(gpus: list[Gpu], cuda_visible_devices: str | None) -> list[Gpu]:
    """The GPUs ``CUDA_VISIBLE_DEVICES`` (integer ids) leaves visible; unset: all."""
    if cuda_visible_devices is None:
        return gpus
    ids = [int(i) for i in cuda_visible_devices.split(",") if i.strip().isdigit()]
    return [g for g in gpus if g.index in ids]


def probe_environment(kind: str, options: dict[str, Any], name: str) -> Environment:
    """Run :data:`TORCH_PROBE` in an environment of the configured executor (no GPU needed)."""
    from hfpl.workflow.executors import ExecutorError, make_executor

    python = options.get("python", "python")
    opts = {k: v for k, v in options.items() if k != "python"} if kind != "local" else options
    if kind == "local" and shutil.which(python) is None and not Path(python).exists():
        return Environment(name, None, f"interpreter {python} not found; make upstream-venv "
                                       "(or set executor.local.python)")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="hfpl-preflight-") as tmp:
        log = Path(tmp) / "probe.log"
        try:
            executor = make_executor(kind, **opts)
            with contextlib.redirect_stdout(io.StringIO()):  # the executor tees to stdout
                code = executor.run([python, "-c", TORCH_PROBE], cwd=Path(tmp), env={},
                                    binds=[], log=log, gpus=0)  # fmt: skip
        except ExecutorError as err:
            return Environment(name, None, f"{name}: {' '.join(str(err).split())}")
        text = log.read_text(errors="replace") if log.exists() else ""
    lines = [ln for ln in text.splitlines() if ln.startswith("{")]
    if code != 0 or not lines:
        return Environment(name, None, f"{name}: the torch probe exited {code} "
                                       f"({' '.join(text.split())[-200:]}); rebuild it "
                                       "(make images / make upstream-venv)")  # fmt: skip
    return Environment(name, json.loads(lines[-1]))
