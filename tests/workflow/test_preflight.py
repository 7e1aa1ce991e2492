"""hfpl.workflow.preflight on recorded nvidia-smi / torch probe outputs (no GPU needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from hfpl.cli import main
from hfpl.workflow import preflight, recipe
from hfpl.workflow.preflight import Environment, Gpu, Need

FIXTURES = Path(__file__).parent / "fixtures" / "preflight"
REPO = Path(__file__).resolve().parents[2]


def gpus(name: str) -> list[Gpu]:
    return preflight.parse_nvidia_smi((FIXTURES / f"nvidia-smi-{name}.csv").read_text())


def probe(name: str) -> dict:
    return json.loads((FIXTURES / f"probe-{name}.json").read_text())


def env(name: str = "torch-2.14.1-pypi", **kw) -> Environment:
    return Environment("hfpl/seam:latest", probe(name), **kw)


SMALL = [Need("seam/train_cam on voc", 1, 20000)]


def assert_one_line_with_fix(problems: list[str]) -> None:
    for line in problems:
        assert "\n" not in line and ";" in line, line  # "<what>; <fix>"


def test_parse_nvidia_smi_row():
    (gpu,) = gpus("a100-535")
    assert gpu == Gpu(0, "NVIDIA A100-SXM4-40GB", "535.104.05", (8, 0), 40960, 40337)
    with pytest.raises(ValueError, match="6 fields"):
        preflight.parse_nvidia_smi("0, H100, 580.65\n")


@pytest.mark.parametrize("probed", ["torch-2.14.1-pypi", "hfpl-base-cpu-image"])
def test_h100_with_the_pinned_build_passes(probed):
    assert preflight.check(gpus("h100x2-580"), [env(probed)], SMALL) == []


def test_old_driver_names_the_cu126_index():
    problems = preflight.check(gpus("a100-535"), [env()], SMALL)
    assert len(problems) == 1
    assert "535.104.05" in problems[0] and ">= 580.65" in problems[0]
    assert preflight.OLD_DRIVER_INDEX in problems[0]
    assert_one_line_with_fix(problems)


def test_driver_older_than_any_cuda12_build_and_arch_not_in_list():
    problems = preflight.check(gpus("p100-470"), [env()], [Need("a", 1, 8000)])
    assert len(problems) == 2
    assert "update the NVIDIA driver" in problems[0]
    assert "compute capability 6.0" in problems[1] and "sm_60" in problems[1]
    assert "sm_75 sm_80" in problems[1]
    assert_one_line_with_fix(problems)


@pytest.mark.parametrize(
    ("capability", "archs", "runs"),
    [
        ((9, 0), ["sm_80", "sm_90"], True),
        ((8, 6), ["sm_80"], True),  # cubins run on a newer minor of the same major
        ((8, 9), ["sm_80", "sm_86"], True),
        ((8, 0), ["sm_86"], False),  # not on an older minor
        ((9, 0), ["sm_80"], False),  # nor on another major
        ((12, 1), ["sm_90", "compute_120"], True),  # PTX JIT-compiles for newer GPUs
        ((9, 0), ["sm_90a"], True),
        ((9, 1), ["sm_90a"], False),
        ((6, 0), ["sm_75", "sm_80"], False),
    ],
)
def test_runs_on(capability, archs, runs):
    assert preflight._runs_on(capability, archs) is runs


def test_busy_gpu_and_too_few_gpus():
    needs = [Need("seam/train_final on voc", 1, 20000), Need("x/train on coco", 4, 20000)]
    problems = preflight.check(gpus("a6000-busy-580"), [env()], needs)
    assert len(problems) == 2
    assert "needs 20000 MiB free" in problems[0] and "has 2113 MiB free of 49140" in problems[0]
    assert "asks for 4 GPUs, 1 visible" in problems[1]
    assert_one_line_with_fix(problems)


def test_memory_is_checked_per_gpu():
    two = gpus("h100x2-580")
    assert preflight.check_memory(two, [Need("a", 2, 80000)]) == []
    one_busy = [two[0], Gpu(1, "H100", "580.65.06", (9, 0), 81559, 100)]
    assert preflight.check_memory(one_busy, [Need("a", 1, 80000)]) == []
    assert len(preflight.check_memory(one_busy, [Need("a", 2, 80000)])) == 1


def test_no_driver_and_no_visible_gpu():
    (line,) = preflight.check(None, [env()], SMALL)
    assert "nvidia-smi not found" in line
    (line,) = preflight.check([], [env()], SMALL)
    assert "lists no GPU" in line
    assert preflight.check(None, [env()], []) == []  # no GPU step: no GPU needed


def test_cpu_build_missing_environment_and_stale_recipe():
    cpu = Environment(".venv/bin/python", probe("torch-2.13.0-cpu"))
    (line,) = preflight.check(gpus("h100x2-580"), [cpu], SMALL)
    assert "CPU-only build" in line
    missing = Environment("hfpl/seam:latest", None, "image hfpl/seam:latest missing; build it")
    assert preflight.check(gpus("h100x2-580"), [missing], SMALL) == [missing.problem]
    wanted = recipe.expected(REPO / "containers", "seam")
    (line,) = preflight.check(gpus("h100x2-580"), [env(wanted=wanted)], SMALL)
    assert "not built from the current recipe (layers base, seam" in line
    recorded = "".join(f"{k} {v}\n" for k, v in wanted.items())
    fresh = Environment("hfpl/seam:latest", {**probe("torch-2.14.1-pypi"), "recipe": recorded},
                        wanted=wanted)  # fmt: skip
    assert preflight.check(gpus("h100x2-580"), [fresh], SMALL) == []


def test_visible_follows_cuda_visible_devices():
    two = gpus("h100x2-580")
    assert preflight.visible(two, None) == two
    assert preflight.visible(two, "1") == [two[1]]
    assert preflight.visible(two, "") == []


def test_probe_of_a_missing_interpreter_is_one_line(tmp_path):
    result = preflight.probe_environment("local", {"python": str(tmp_path / "nope")}, "venv")
    assert result.probe is None and "make upstream-venv" in result.problem


def test_probe_runs_in_the_local_interpreter(capsys):
    import sys

    result = preflight.probe_environment("local", {"python": sys.executable}, "venv")
    assert result.probe is not None and "torch" in result.probe
    assert capsys.readouterr().out == ""  # the executor's tee does not reach our stdout


@pytest.mark.parametrize(
    ("smi", "probed", "code", "expect"),
    [
        ("h100x2-580", "torch-2.14.1-pypi", 1, "not built from the current recipe"),
        ("a100-535", "torch-2.14.1-pypi", 1, "TORCH_INDEX_URL="),
    ],
)
def test_cli_on_recorded_outputs(monkeypatch, capsys, smi, probed, code, expect):
    monkeypatch.chdir(REPO)
    argv = ["preflight", "--nvidia-smi", str(FIXTURES / f"nvidia-smi-{smi}.csv"),
            "--probe", str(FIXTURES / f"probe-{probed}.json")]  # fmt: skip
    assert main(argv) == code
    err = capsys.readouterr().err
    assert expect in err
    assert all(line.startswith("hfpl preflight: ") for line in err.splitlines())


def test_cli_passes_with_a_current_recipe(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(REPO)
    layers = {}
    for method in (REPO / "config" / "methods").glob("*.yaml"):
        image = yaml.safe_load(method.read_text()).get("image", "base")
        layers.update(recipe.expected(REPO / "containers", image))
    recorded = "".join(f"{k} {v}\n" for k, v in layers.items())
    probe_file = tmp_path / "probe.json"
    probe_file.write_text(json.dumps({**probe("torch-2.14.1-pypi"), "recipe": recorded}))
    out = tmp_path / "preflight.json"
    argv = ["preflight", "--nvidia-smi", str(FIXTURES / "nvidia-smi-h100x2-580.csv"),
            "--probe", str(probe_file), "--out", str(out)]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith("preflight ok: ")
    facts = json.loads(out.read_text())
    assert [g["name"] for g in facts["gpus"]] == ["NVIDIA H100 80GB HBM3"] * 2
    assert any(n["label"] == "seam/train_cam on voc" for n in facts["needs"])


def test_cli_failure_writes_no_marker(monkeypatch, tmp_path):
    monkeypatch.chdir(REPO)
    out = tmp_path / "preflight.json"
    argv = ["preflight", "--nvidia-smi", str(FIXTURES / "nvidia-smi-a100-535.csv"),
            "--probe", str(FIXTURES / "probe-torch-2.14.1-pypi.json"),
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 1
    assert not out.exists()


def test_preflight_cli_args_reload_the_snakemake_config(monkeypatch, capsys, tmp_path):
    """The preflight rule hands its Snakemake's config files and --config values over as
    options that load the same configuration (values as JSON, which the CLI reads as YAML)."""
    from hfpl.workflow.gpu_cli import preflight_cli_args

    args = preflight_cli_args([Path("config/config.yaml")], {"seeds": [0], "methods": ["seam"]})
    assert args == ["--configfile", "config/config.yaml", "--config", "seeds=[0]",
                    'methods=["seam"]']  # fmt: skip
    assert preflight_cli_args([], {}) == []
    monkeypatch.chdir(REPO)
    out = tmp_path / "p.json"
    argv = ["preflight", *args, "--nvidia-smi", str(FIXTURES / "nvidia-smi-a100-535.csv"),
            "--probe", str(FIXTURES / "probe-torch-2.14.1-pypi.json"),
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "seam/train_cam on voc" not in err and "535.104.05" in err
