"""hfpl.workflow.tables_cli: which variants experiments.yaml configures (sweeps included), the
variants a table or figure uses, and one line for an unreadable config file."""

from __future__ import annotations

import yaml

from hfpl.cli import main
from hfpl.workflow import tables_cli


def test_configured_variants_include_sweep_names(tmp_path) -> None:
    path = tmp_path / "experiments.yaml"
    sweep = {"base": "isl", "flag": "--x", "values": [0.2, 1], "name": "isl_lambda_{value}"}
    path.write_text(yaml.safe_dump({"variants": {"isl": {"flags": {}}}, "sweeps": {"s": sweep}}))
    assert tables_cli._configured_variants(path) == {"isl", "isl_lambda_0.2", "isl_lambda_1"}
    path.write_text("{}\n")
    assert tables_cli._configured_variants(path) is None  # nothing filtered


def test_variants_of_tables_and_figures() -> None:
    assert tables_cli._variants_of({"variants": ["a", "b"]}) == {"a", "b"}
    arrows = {"kind": "arrows", "from_variant": "a", "to_variant": "c"}
    assert tables_cli._variants_of(arrows) == {"a", "c"}
    sweep = {"kind": "sweep", "panels": [{"series": [{"variants": {"x": 1, "y": 2}}]}]}
    assert tables_cli._variants_of(sweep) == {"x", "y"}


def test_unreadable_config_is_one_line(tmp_path, capsys) -> None:
    (tmp_path / "tables.yaml").write_text("rows: [unclosed\n")
    args = ["tables", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "t")]
    args += [f"--{n}={tmp_path / n}.yaml" for n in ("experiments", "tables", "paper")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"hfpl tables: {tmp_path}/tables.yaml: not valid YAML")
    assert "\n" not in err
    assert not (tmp_path / "t").exists()
