"""config/paper.yaml against lines copied verbatim from the paper's text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hfpl.workflow.aggregate import load_paper, load_tables_config, paper_value

REPO = Path(__file__).resolve().parents[2]
PAPER_TEXT = REPO.parent / "shared/paper/hfpl-wacv2024.txt"  # beside the checkout on dev machines

JF3, JFT, JT = ["J", "F", "JF"], ["J", "F", "JF", "J_test"], ["J", "J_test"]
# (table, row, variants in column order, metrics per variant, line of the paper's text)
LINES = [
    ("table1", "seam_r38", None, None, "SEAM [46] train 55.4 55.6 55.0±0.4 61.0 60.6±0.3"),
    (
        "table1",
        "mctformer_deits",
        None,
        None,
        "MCTformer [49] train 61.7 61.8 59.4±2.0 61.6 61.2±0.4",
    ),
    ("table1", "pmm_r38", None, None, "PMM [29] val 56.2 55.4 55.1±0.2 59.3 58.9±0.3"),
    ("table2", "sipe_r101", ["baseline"], JFT, "SIPE [7] Res101 68.5±0.2 41.9±0.5 55.2±0.3 69.4"),
    (
        "table2",
        "sbce_r101",
        ["isl_fsl"],
        JFT,
        "+ISL/FSL (ours) Res101 70.1±0.2 50.5±0.2 60.3±0.2 70.6",
    ),
    ("table3", "seam_r38", ["isl_fsl_ep16"], JF3, "+ISL/FSL (ours) 16 37.8 29.1 33.4"),
    (
        "table4",
        "seam_r38",
        ["multinomial_fsl"],
        JF3,
        "FSL Multinomial [19] 50.3±13 41.4±8.5 45.9±11",
    ),
    ("table5", "seam_r38", ["isl_samples_10"], JF3, "10 63.0±0.4 41.2±0.4 52.1±0.4"),
    ("table6", "mctformer_deits", ["isl"], JF3, "[49] DeiT-S ✓ 67.5±1.4 47.1±0.9 57.3±1.1"),
    ("table7", "pmm_r38", ["reported", "baseline"], JT, "PMM [29] Res38 68.5 69.0 64.7 65.7"),
    ("table7", "sance_r101", ["reported"], JT, "SANCE [28] Res101 70.9 72.2 - -"),
]

NUMBER = re.compile(r"(\d+\.\d+|\d+)(?:±(\d+\.\d+|\d+))?")


def _numbers(line: str) -> list[dict[str, float]]:
    """The trailing numeric cells of a table line as {mean[, std]} dicts ("-" cells skipped)."""
    cells = []
    for token in reversed(line.split()):
        if token == "-":
            continue
        match = NUMBER.fullmatch(token)
        if match is None:
            break
        cell = {"mean": float(match[1])}
        if match[2] is not None:
            cell["std"] = float(match[2])
        cells.append(cell)
    return cells[::-1]


@pytest.fixture(scope="module")
def paper():
    return load_paper(REPO / "config" / "paper.yaml")


@pytest.mark.parametrize("table,row,variants,metrics,line", LINES)
def test_paper_yaml_matches_the_text(paper, table, row, variants, metrics, line):
    if PAPER_TEXT.exists():  # the quoted line really is in the paper
        assert line in " ".join(PAPER_TEXT.read_text().split()), line
    if table == "table1":  # Ref. | max mean±std (baseline) | max mean±std (+ISL/FSL)
        ref, b_max, b, i_max, i = _numbers(line)
        assert paper_value(paper, table, row, "reported", "J") == ref
        assert paper_value(paper, table, row, "baseline", "J") == {**b, "max": b_max["mean"]}
        assert paper_value(paper, table, row, "isl_fsl", "J") == {**i, "max": i_max["mean"]}
        return
    expected = [(v, m) for v in variants for m in metrics]
    got_numbers = _numbers(line)[-len(expected) :]
    assert len(got_numbers) == len(expected)
    for (variant, metric), number in zip(expected, got_numbers, strict=True):
        assert paper_value(paper, table, row, variant, metric) == number, (variant, metric)


def test_every_table_and_row_has_paper_numbers(paper):
    cfg = load_tables_config(REPO / "config" / "tables.yaml")
    for name, spec in cfg["tables"].items():
        table = spec.get("paper", name)
        assert table in paper, name
        for row in spec["rows"]:
            have = [
                v for v in spec["variants"] if paper_value(paper, table, row, v, spec["metrics"][0])
            ]
            assert have, (name, row)
    rows7 = {"seam_r38", "sipe_r38", "sipe_r101", "pmm_r38", "mctformer_deits", "sbce_r38"}
    rows7.add("sbce_r101")
    assert rows7 <= set(paper["table6"]) and rows7 <= set(paper["table2"])
