"""One environment recipe: the Dockerfiles, the Apptainer definitions and the Makefile's
upstream venv all run containers/base/install.sh with the pins of the layers' requirements
files; these tests fail when one of them drifts (a version set elsewhere, a layer built another
way, a .def that lost a build argument or file)."""

from __future__ import annotations

import os
import re
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from hfpl.workflow import recipe

REPO = Path(__file__).resolve().parents[2]
CONTAINERS = REPO / "containers"
LAYERS = sorted(p.name for p in CONTAINERS.iterdir() if (p / "Dockerfile").exists()
                and p.name != recipe.BASE)  # fmt: skip
PIN = re.compile(r"^[A-Za-z0-9_.\[\]-]+==[0-9][^\s;]*(\s*#.*)?$")
VERSION = re.compile(r"\b(torch|torchvision|pydensecrf2|numpy|cython)\s*[=<>~]=?\s*[0-9]", re.I)


def _lines(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text().splitlines()
            if ln.strip() and not ln.strip().startswith("#")]  # fmt: skip


def _def_section(text: str, name: str) -> list[str]:
    """The lines of one ``%name`` section of an Apptainer definition."""
    found = re.search(rf"^%{name}\n(.*?)(?=^%|\Z)", text, re.M | re.S)
    return [ln.strip() for ln in found[1].splitlines() if ln.strip()] if found else []


def test_every_method_image_has_its_layer():
    for path in sorted((REPO / "config" / "methods").glob("*.yaml")):
        image = yaml.safe_load(path.read_text()).get("image", recipe.BASE)
        assert image == recipe.BASE or image in LAYERS, f"{path.name}: no containers/{image}/"


@pytest.mark.parametrize("layer", [recipe.BASE, *LAYERS])
def test_requirements_are_exact_pins(layer):
    for line in _lines(CONTAINERS / layer / "requirements.txt"):
        assert PIN.match(line), f"containers/{layer}/requirements.txt: {line!r}: not NAME==VER"


def test_torch_is_pinned_in_one_place_only():
    """No Dockerfile, .def, install script, build.sh or the Makefile names a version of the
    base layer's packages: they all read containers/base/requirements.txt. (The Makefile's
    ``TORCH ?=`` is hfpl's own test venv, .venv, with the small CPU torch: not a step
    environment.)"""
    pinned = {ln.split("==")[0].lower() for ln in _lines(CONTAINERS / "base/requirements.txt")}
    assert {"torch", "torchvision", "pydensecrf2", "numpy", "cython"} <= pinned
    files = [REPO / "Makefile", CONTAINERS / "build.sh", *CONTAINERS.glob("*/Dockerfile"),
             *CONTAINERS.glob("*/*.def"), *CONTAINERS.glob("*/install.sh")]  # fmt: skip
    for path in files:
        for line in path.read_text().splitlines():
            if not line.lstrip().startswith("#") and not line.startswith("TORCH "):
                assert not VERSION.search(line), f"{path.relative_to(REPO)}: {line.strip()!r}"
                assert "TORCH_VERSION" not in line, f"{path.relative_to(REPO)}: {line.strip()!r}"


def test_install_sh_installs_only_pinned_packages():
    text = (CONTAINERS / "base/install.sh").read_text()
    pinned = {ln.split("==")[0].lower() for ln in _lines(CONTAINERS / "base/requirements.txt")}
    installs = re.findall(r'pip install [^\n]*-c "\$pins" ([^\n]+)', text)
    names = {w for line in installs for w in line.split() if not w.startswith("-")}
    assert names == pinned


def test_base_dockerfile_and_def_agree():
    docker = (CONTAINERS / "base/Dockerfile").read_text()
    apptainer = (CONTAINERS / "base/base.def").read_text()
    args = dict(re.findall(r"^ARG (\w+)=(.*)$", docker, re.M))
    def_args = dict(ln.split("=", 1) for ln in _def_section(apptainer, "arguments"))
    assert args == def_args
    copied = {src for line in re.findall(r"^COPY (.+)$", docker, re.M)
              for src in line.split()[:-1]}  # fmt: skip
    files = {ln.split()[0] for ln in _def_section(apptainer, "files")}
    assert {c.rstrip("/") for c in copied} == files
    phases = re.findall(r"install\.sh (system|python|hfpl)", docker)
    assert phases == re.findall(r"install\.sh (system|python|hfpl)", apptainer)
    assert phases == ["system", "python", "hfpl"]


@pytest.mark.parametrize("layer", LAYERS)
def test_layers_use_the_layer_phase(layer):
    """Every layer's Dockerfile and .def are the same two lines over the base: copy the folder,
    run `install.sh layer` on it (the Makefile's venv runs the same phase)."""
    docker = _lines(CONTAINERS / layer / "Dockerfile")
    assert docker == [
        "ARG HFPL_BASE=hfpl/base:latest",
        "FROM ${HFPL_BASE}",
        f"COPY containers/{layer}/ /tmp/{layer}/",
        f"RUN sh /opt/hfpl/install.sh layer /tmp/{layer} && rm -rf /tmp/{layer}",
    ]
    definition = (CONTAINERS / layer / f"{layer}.def").read_text()
    assert "Bootstrap: localimage" in definition
    assert _def_section(definition, "arguments") == ["HFPL_BASE=containers/base.sif"]
    assert _def_section(definition, "files") == [f"containers/{layer} /tmp/{layer}"]
    post = _def_section(definition, "post")
    assert f"sh /opt/hfpl/install.sh layer /tmp/{layer}" in post  # fmt: skip


def test_makefile_venv_runs_the_same_phases():
    done = subprocess.run(["make", "-n", "-W", "pyproject.toml", "upstream-venv"], cwd=REPO,
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert "sh containers/base/install.sh python" in done.stdout
    layers = set(re.findall(r"install\.sh layer containers/(\S+)", done.stdout))
    images = {yaml.safe_load(p.read_text()).get("image", recipe.BASE)
              for p in (REPO / "config" / "methods").glob("*.yaml")} - {recipe.BASE}  # fmt: skip
    assert layers == images


STUB = """#!/bin/sh
# stands in for pip / python / python3.11: logs its arguments, creates a venv when asked
echo "$(basename "$0") $*" >> "{log}"
if [ "$1" = "-m" ] && [ "$2" = venv ]; then
  mkdir -p "$3/bin"; cp "$0" "$3/bin/pip"; cp "$0" "$3/bin/python"
fi
"""


def _stub_env(tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    log, venv, bin_dir = tmp_path / "calls.log", tmp_path / "venv", tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "python-stub"
    stub.write_text(STUB.format(log=log))
    stub.chmod(0o755)
    env = {**os.environ, "HFPL_VENV": str(venv), "HFPL_PYTHON": str(stub),
           "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}  # fmt: skip
    return env, venv, log


def test_install_sh_records_the_digests_hfpl_computes(tmp_path):
    """install.sh `python` and `layer` (run with stub pip/python: nothing installed) record
    the digests :func:`hfpl.workflow.recipe.expected` computes from the working tree."""
    env, venv, log = _stub_env(tmp_path)
    install = str(CONTAINERS / "base/install.sh")
    subprocess.run(["sh", install, "python"], env=env, check=True, capture_output=True)
    for layer in LAYERS:
        subprocess.run(["sh", install, "layer", str(CONTAINERS / layer)], env=env, check=True,
                       capture_output=True)  # fmt: skip
        assert (
            recipe.parse((venv / recipe.RECORD).read_text())[layer]
            == recipe.expected(CONTAINERS, layer)[layer]
        )
    recorded = recipe.parse((venv / recipe.RECORD).read_text())
    assert recorded[recipe.BASE] == recipe.expected(CONTAINERS, recipe.BASE)[recipe.BASE]
    calls = log.read_text()
    assert f"-c {CONTAINERS}/base/requirements.txt torch torchvision" in calls
    assert "--index-url" not in calls


def test_torch_index_url_replaces_the_index_for_torch_only(tmp_path):
    env, _, log = _stub_env(tmp_path)
    env["TORCH_INDEX_URL"] = "https://download.pytorch.org/whl/cu126"
    subprocess.run(["sh", str(CONTAINERS / "base/install.sh"), "python"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    torch_line, *rest = [ln for ln in log.read_text().splitlines() if "-c " in ln]
    assert "--index-url https://download.pytorch.org/whl/cu126" in torch_line
    assert all("--index-url" not in ln for ln in rest)


def test_recipe_digest_is_cat_sha256sum(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("x\n")
    b.write_text("y\n")
    done = subprocess.run(textwrap.dedent(f"cat {a} {b} | sha256sum"), shell=True,
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert recipe.digest([a, b]) == done.stdout.split()[0]
    assert recipe.parse("base 1\nseam 2\nbase 3\n") == {"base": "3", "seam": "2"}
    assert recipe.stale({"base": "3"}, {"base": "3", "seam": "2"}) == ["seam"]
