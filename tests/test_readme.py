"""The README's "add ISL/FSL to your own training loop" example runs as printed."""

import re
from pathlib import Path

import torch

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_training_loop_example_runs_and_trains():
    text = README.read_text()
    section = text.split("## Add ISL/FSL to your own WSSS training loop", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    torch.manual_seed(0)
    model = torch.nn.Conv2d(3, 20, kernel_size=8, stride=8)  # a tiny "CAM network"
    scope = {
        "model": model,
        "images": torch.randn(2, 3, 64, 64),
        "targets": torch.tensor([[1] + [0] * 19, [0] * 5 + [1, 1] + [0] * 13]),
    }
    exec(compile(code, str(README), "exec"), scope)
    assert torch.isfinite(scope["loss"])
    assert model.weight.grad is not None and model.weight.grad.abs().sum() > 0
