"""The paper-sized DAG (benchmarks/bench_dryrun.py times it) has exactly the expected jobs."""

from __future__ import annotations

import re
from pathlib import Path

import fixture_project as fp


def test_paper_sized_dag_job_counts(tmp_path: Path) -> None:
    workdir = fp.make_project(tmp_path)
    override = fp.add_paper_sized_grid(workdir)
    done = fp.snakemake(workdir, "-n", "--quiet", "rules", configfiles=(str(override),))
    assert done.returncode == 0, done.stderr[-3000:]
    counts = {
        rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", done.stdout + done.stderr, re.M)
    }
    # runs: main grid rows x variants x seeds, plus the ablation variants x seeds on one row
    runs = len(fp.PAPER_ROWS) * len(fp.PAPER_VARIANTS) * len(fp.PAPER_SEEDS)
    runs += len(fp.ABLATION) * len(fp.PAPER_SEEDS)
    assert runs == 175
    expected = {
        "step": runs * 9,
        "evaluate": runs * len(fp.NINE_STEPS_EVALUATED),
        # every row pins the same two repos with the same patches: one checkout each, shared
        "checkout": 2,
        # the (prepared) dataset is verified against its manifest before any step reads it
        "verify_data_voc": 1,
        "resolved_config": 1,
        "tables": 1,
        "all": 1,
    }
    expected["total"] = sum(expected.values())
    assert counts == expected
