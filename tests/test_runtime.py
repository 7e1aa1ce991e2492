import random

import numpy as np
import torch
from torch.utils.data import DataLoader

from hfpl import runtime


class _Noise(torch.utils.data.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return torch.tensor([i, np.random.rand(), random.random()])  # noqa: NPY002


def _epoch(seed):
    runtime.seed_everything(seed)
    first = (torch.rand(3), np.random.rand(3), random.random())  # noqa: NPY002
    loader = DataLoader(
        _Noise(), batch_size=4, shuffle=True, num_workers=2, **runtime.dataloader_seed_kwargs(seed)
    )
    return first, torch.cat(list(loader))


def test_same_seed_same_draws_and_batches():
    (t1, n1, r1), batches1 = _epoch(3)
    (t2, n2, r2), batches2 = _epoch(3)
    assert torch.equal(t1, t2) and np.array_equal(n1, n2) and r1 == r2
    assert torch.equal(batches1, batches2)
    _, batches3 = _epoch(4)
    assert not torch.equal(batches1, batches3)
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark


def test_device_is_cuda_only_when_available():
    assert runtime.device().type == ("cuda" if torch.cuda.is_available() else "cpu")
