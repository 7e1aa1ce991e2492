"""Dry-run (`snakemake -n`) time of a paper-sized DAG built from the fixture method.

7 rows x 4 variants x 5 seeds of a 9-step method (the fixture's two steps chained and repeated,
evaluations on 4 of the 9 steps, as in the real methods) plus the ablation grids of Tables 4 and
5 on one row (7 variants x 5 seeds): ~1,600 step jobs. Prints the job count, the dry-run wall
time and its ratio to a reference dry run of the small e2e grid measured in the same process
(startup cost).
Goal: < 10 s on 2 cores. Usage: python benchmarks/bench_dryrun.py
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "workflow" / "fixtures"))
import fixture_project  # noqa: E402

ROWS = [f"row{i}" for i in range(7)]
ABLATION = ["multinomial_isl", "multinomial_fsl"] + [
    f"isl_samples_{n}" for n in (1, 5, 10, 50, 100)
]


def nine_step_method(fixture: dict) -> dict:
    """The fixture method with its cams/labels pair repeated (each reads the previous labels)."""
    steps = {}
    previous = None
    for i in range(9):
        base = fixture["steps"]["cams" if i % 2 == 0 else "labels"]
        step = yaml.safe_load(yaml.safe_dump(base))
        if previous and i % 2 == 1:
            step["argv"] = [
                a.replace("{step_dir[cams]}", f"{{step_dir[{previous}]}}") for a in step["argv"]
            ]
        elif previous:
            step["inputs"] = step.get("inputs", []) + [f"{{step_dir[{previous}]}}"]
        name = f"s{i}"
        if i in (1, 3, 6, 8):
            step["evaluations"] = {f"e{i}": next(iter(base["evaluations"].values()))}
        else:
            step.pop("evaluations", None)
        steps[name] = step
        previous = name
    return {**fixture, "steps": steps, "smoke": {}}


def dry_run(workdir: Path, config: Path) -> tuple[int, float]:
    start = time.perf_counter()
    done = fixture_project.snakemake(workdir, "-n", "--quiet", "rules", configfiles=(str(config),))
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(done.stderr[-2000:])
    total = re.search(r"^total\s+(\d+)$", done.stdout + done.stderr, re.M)
    return int(total.group(1)), seconds


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = fixture_project.make_project(Path(tmp))
        small = workdir / "small.yaml"
        small.write_text("{}\n")
        ref_jobs, ref_s = dry_run(workdir, small)

        fixture = yaml.safe_load((workdir / "fixture/methods/fixture.yaml").read_text())
        method = nine_step_method(fixture)
        for row in ROWS:
            (workdir / "fixture/methods" / f"{row}.yaml").write_text(yaml.safe_dump(method))
        experiments = yaml.safe_load((ROOT / "config/experiments.yaml").read_text())
        (workdir / "fixture/experiments.yaml").write_text(yaml.safe_dump(experiments))
        big = workdir / "big.yaml"
        grid = {"name": "ablation", "methods": ["row0"], "variants": ABLATION}
        big.write_text(yaml.safe_dump({
            "methods": ROWS, "variants": ["baseline", "isl", "fsl", "isl_fsl"],
            "seeds": [0, 1, 2, 3, 4], "extra_grids": [grid],
        }))  # fmt: skip
        jobs, seconds = dry_run(workdir, big)
    print(f"reference (2 variants x 2 seeds x 2 steps): {ref_jobs} jobs, {ref_s:.2f} s")
    print(f"paper-sized DAG: {jobs} jobs, dry run {seconds:.2f} s (goal < 10 s)")
    print(f"ratio paper-sized / reference: {seconds / ref_s:.2f}")


if __name__ == "__main__":
    main()
