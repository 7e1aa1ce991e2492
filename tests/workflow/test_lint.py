"""The workflow passes `snakemake --lint` (on the fixture config) and `snakefmt --check`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import fixture_project

ROOT = fixture_project.ROOT


def test_snakemake_lint_clean(tmp_path: Path) -> None:
    workdir = fixture_project.make_project(tmp_path)
    done = fixture_project.snakemake(workdir, "--lint")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Lints for" not in done.stdout + done.stderr


def test_snakefmt_clean() -> None:
    snakefmt = shutil.which("snakefmt", path=str(Path(sys.executable).parent)) or "snakefmt"
    files = [str(ROOT / "Snakefile"), *map(str, sorted((ROOT / "workflow/rules").glob("*.smk")))]
    done = subprocess.run([snakefmt, "--check", *files], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
