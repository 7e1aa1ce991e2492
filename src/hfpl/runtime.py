"""Device and seed control shared by every patched upstream script (one code path, CPU or CUDA)."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def device() -> torch.device:
    """`cuda` when a GPU is visible, else `cpu`."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and all CUDA devices); make cuDNN deterministic.

    CUBLAS_WORKSPACE_CONFIG is set so that deterministic cuBLAS kernels are possible; we do not
    call torch.use_deterministic_algorithms(True) because several upstream ops have no
    deterministic CUDA kernel and would raise.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 -- upstream code draws from the global RNG
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def _seed_worker(worker_id: int) -> None:
    # torch seeds each worker from the DataLoader generator; derive numpy/random from it
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)  # noqa: NPY002 -- upstream datasets use the global RNG
    random.seed(worker_seed)


def dataloader_seed_kwargs(seed: int) -> dict:
    """Keyword arguments for `torch.utils.data.DataLoader` that make shuffling and workers
    reproducible: `DataLoader(dataset, ..., **dataloader_seed_kwargs(seed))`."""
    generator = torch.Generator()
    generator.manual_seed(seed)
    return {"generator": generator, "worker_init_fn": _seed_worker}
