"""The fixture workflow on a real single-node SLURM cluster with profiles/slurm.

The cluster comes from fixtures/slurm_cluster.py; the test is skipped
where it cannot be installed or started (not root, no apt, daemons fail) or the executor plugin
is missing. Grid: 1 variant x 1 seed (2 steps, 2 evaluations submitted with sbatch; checkouts
and tables are local rules).
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path

import fixture_project
import pytest
import slurm_cluster

pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module")
def partition() -> Iterator[str]:
    """The cluster's partition; a cluster this fixture started is stopped afterwards."""
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm missing (pip install 'hfpl[workflow]')")
    try:
        name, started = slurm_cluster.up()
    except (slurm_cluster.Unavailable, OSError) as err:
        pytest.skip(f"no SLURM cluster: {err}")
    yield name
    if started:
        slurm_cluster.down()


def test_fixture_workflow_runs_on_slurm(tmp_path: Path, partition: str) -> None:
    workdir = fixture_project.make_project(tmp_path)
    (workdir / "one.yaml").write_text("variants: [isl]\nseeds: [0]\n")
    profile = fixture_project.ROOT / "profiles" / "slurm"
    done = fixture_project.snakemake(
        workdir,
        "--profile", str(profile),
        "--jobs", "4",
        # the test cluster's partition and small jobs (replaces the profile's defaults)
        "--default-resources", f"slurm_partition={partition}", "runtime=5", "mem_mb=100",
        # poll soon and often: each job takes seconds (the profile's defaults suit hours)
        "--slurm-init-seconds-before-status-checks", "2",
        configfiles=(str(workdir / "one.yaml"),),
        timeout=240,  # the plugin may wait forever on a misconfigured cluster
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    output = done.stdout + done.stderr
    run = workdir / "results/runs/voc/fixture/isl/seed0"
    for step, evaluation in (("cams", "cam_train"), ("labels", "pseudo_train")):
        assert json.loads((run / step / "manifest.json").read_text())["exit_status"] == 0
        assert json.loads((run / step / "metrics" / f"{evaluation}.json").read_text())["n_images"]
    # the steps and evaluations were SLURM jobs, one each (the plugin names each job's log
    # slurm_logs/rule_<rule>/<wildcards>/<slurm job id>.log) ...
    submitted = re.findall(r"submitted with SLURM jobid \d+ \(log: .*/rule_(\w+)/(\S+)/", output)
    assert sorted(submitted) == [
        ("evaluate", "voc_fixture_isl_0_cams_cam_train"),
        ("evaluate", "voc_fixture_isl_0_labels_pseudo_train"),
        ("step", "voc_fixture_isl_0_cams"),
        ("step", "voc_fixture_isl_0_labels"),
    ]
    # ... while clones and the tables ran where snakemake runs (local rules)
    assert "localrule checkout:" in output and "localrule tables:" in output
    assert (workdir / "results/tables/fixture_labels.csv").exists()
