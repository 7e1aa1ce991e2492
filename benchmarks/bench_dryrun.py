"""Dry-run (`snakemake -n`) time of a paper-sized DAG built from the fixture method.

7 rows x 4 variants x 5 seeds of a 9-step method (the fixture's two steps chained and repeated,
evaluations on 4 of the 9 steps, as in the real methods) plus the ablation grids of Tables 4 and
5 on one row (7 variants x 5 seeds): 2,280 jobs (fixture_project.add_paper_sized_grid). Prints
the job count, the dry-run wall time and its ratio to a reference dry run of the small e2e grid
measured in the same process (Snakemake's startup cost).
Goal: < 10 s on 2 cores. Usage: python benchmarks/bench_dryrun.py [--repeat N]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "workflow" / "fixtures"))
import fixture_project  # noqa: E402


def dry_run(workdir: Path, *configfiles: Path) -> tuple[int, float]:
    start = time.perf_counter()
    done = fixture_project.snakemake(
        workdir, "-n", "--quiet", "rules", configfiles=tuple(map(str, configfiles))
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(done.stderr[-2000:])
    total = re.search(r"^total\s+(\d+)$", done.stdout + done.stderr, re.M)
    return int(total.group(1)), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of N dry runs (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = fixture_project.make_project(Path(tmp))
        ref = [dry_run(workdir) for _ in range(args.repeat)]
        big = fixture_project.add_paper_sized_grid(workdir)
        runs = [dry_run(workdir, big) for _ in range(args.repeat)]
    ref_jobs, ref_s = ref[0][0], min(s for _, s in ref)
    jobs, seconds = runs[0][0], min(s for _, s in runs)
    print(f"reference (2 variants x 2 seeds x 2 steps): {ref_jobs} jobs, {ref_s:.2f} s")
    print(
        f"paper-sized DAG: {jobs} jobs, dry run {seconds:.2f} s, best of {args.repeat} "
        f"(all: {', '.join(f'{s:.2f}' for _, s in runs)}) (goal < 10 s)"
    )
    print(f"ratio paper-sized / reference: {seconds / ref_s:.2f}")


if __name__ == "__main__":
    main()
