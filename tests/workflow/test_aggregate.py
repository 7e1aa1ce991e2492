"""Aggregation and tables over metrics/manifest files written here (statistics checked against
Python's `statistics` module, independently of pandas)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pandas as pd
import pytest
import yaml

from hfpl.cli import main
from hfpl.workflow.aggregate import (
    ResultsError,
    collect_runs,
    load_paper,
    load_tables_config,
    summarize,
)

REPO = Path(__file__).resolve().parents[2]

TABLES = {
    "seeds": [0, 1, 2, 3, 4],
    "incomplete_mark": "†",
    "rows": {
        "seam_r38": {"label": "SEAM", "backbone": "Res38"},
        "pmm_r38": {"label": "PMM", "backbone": "Res38", "method": "pmm"},
    },
    "tables": {
        "table1": {
            "caption": "CAM J",
            "dataset": "voc",
            "rows": ["seam_r38", "pmm_r38"],
            "variants": ["baseline", "isl_fsl"],
            "evaluation": "cam_train",
            "evaluation_by_row": {"pmm_r38": "cam_val"},
            "metrics": ["J", "F"],
            "statistics": ["max", "mean_std", "n"],
            "paper_extra": [{"label": "Ref.", "variant": "reported", "metric": "J"}],
        }
    },
}
PAPER = {
    "table1": {
        "seam_r38": {
            "reported": {"J": 55.4},
            "baseline": {"J": {"max": 55.6, "mean": 55.0, "std": 0.4}},
        }
    }
}


def write_run(runs, method, variant, seed, evaluation, j, *, step="cam", exit_status=0, ds="voc",
              upstream=None):  # fmt: skip
    """One step's manifest + evaluator JSON in the run layout; F = J - 20, JF their mean;
    ``upstream``: the JSON's upstream entry (the upstream script's printed J beside ours)."""
    step_dir = runs / ds / method / variant / f"seed{seed}" / step
    (step_dir / "metrics").mkdir(parents=True, exist_ok=True)
    if exit_status is not None:
        (step_dir / "manifest.json").write_text(json.dumps({"exit_status": exit_status}))
    metrics = {"J": j, "F": j - 20, "JF": j - 10, "per_class": {}, "n_images": 3}
    if upstream is not None:
        metrics["upstream"] = upstream
    (step_dir / "metrics" / f"{evaluation}.json").write_text(json.dumps(metrics))


SEAM_BASE = [55.0, 56.25, 54.5, 55.75, 53.0]
SEAM_ISL = [60.0, 61.5, 60.75]  # seeds 0-2 only: incomplete


@pytest.fixture
def runs(tmp_path):
    runs = tmp_path / "runs"
    for seed, j in enumerate(SEAM_BASE):
        write_run(runs, "seam_r38", "baseline", seed, "cam_train", j)
    for seed, j in enumerate(SEAM_ISL):
        write_run(runs, "seam_r38", "isl_fsl", seed, "cam_train", j)
    write_run(runs, "seam_r38", "baseline", 7, "cam_train", 99.0)  # outside the seed set
    write_run(runs, "seam_r38", "isl_fsl", 3, "cam_train", 1.0, exit_status=1)  # failed step
    write_run(runs, "seam_r38", "isl_fsl", 4, "cam_train", 2.0, exit_status=None)  # unfinished
    for seed in range(5):
        write_run(runs, "pmm", "baseline", seed, "cam_val", 50.0 + seed)
        write_run(runs, "pmm", "baseline", seed, "cam_train", 10.0)  # not the row's evaluation
    return runs


@pytest.fixture
def config_files(tmp_path):
    (tmp_path / "tables.yaml").write_text(yaml.safe_dump(TABLES, allow_unicode=True))
    (tmp_path / "paper.yaml").write_text(yaml.safe_dump(PAPER))
    (tmp_path / "experiments.yaml").write_text(
        yaml.safe_dump({"variants": {"baseline": {}, "isl_fsl": {}}})
    )
    return tmp_path


def cell(summary, row, variant, metric):
    hit = summary[(summary.row == row) & (summary.variant == variant) & (summary.metric == metric)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_collect_runs_skips_failed_and_unfinished_steps(runs):
    frame = collect_runs(runs)
    seam_isl = frame[(frame.method == "seam_r38") & (frame.variant == "isl_fsl")]
    assert sorted(seam_isl[seam_isl.metric == "J"].seed) == [0, 1, 2]
    assert set(frame.metric) == {"J", "F", "JF"}
    assert len(frame) == 3 * (len(SEAM_BASE) + 1 + len(SEAM_ISL) + 10)


def test_summary_statistics_match_reference(runs, config_files):
    cfg = load_tables_config(config_files / "tables.yaml")
    summary = summarize(collect_runs(runs), cfg, "table1", PAPER)
    base = cell(summary, "seam_r38", "baseline", "J")
    assert base.n == 5 and base.n_expected == 5 and base.complete
    assert base["mean"] == pytest.approx(statistics.mean(SEAM_BASE))
    assert base["std"] == pytest.approx(statistics.stdev(SEAM_BASE))  # sample std, ddof=1
    assert base["max"] == max(SEAM_BASE)
    assert (base.paper_mean, base.paper_std, base.paper_max) == (55.0, 0.4, 55.6)
    f = cell(summary, "seam_r38", "baseline", "F")
    assert f["mean"] == pytest.approx(statistics.mean(SEAM_BASE) - 20)
    isl = cell(summary, "seam_r38", "isl_fsl", "J")
    assert isl.n == 3 and not isl.complete
    assert isl["std"] == pytest.approx(statistics.stdev(SEAM_ISL))
    pmm = cell(summary, "pmm_r38", "baseline", "J")  # its own evaluation and method directory
    assert (pmm.evaluation, pmm.method, pmm.n) == ("cam_val", "pmm", 5)
    assert pmm["mean"] == pytest.approx(52.0)
    missing = cell(summary, "pmm_r38", "isl_fsl", "J")
    assert missing.n == 0 and pd.isna(missing["mean"]) and pd.isna(missing.paper_mean)
    # --seeds 3: the first three seeds only, so seam isl_fsl becomes complete
    summary3 = summarize(collect_runs(runs), cfg, "table1", PAPER, seeds=3)
    assert cell(summary3, "seam_r38", "isl_fsl", "J").complete
    assert cell(summary3, "seam_r38", "baseline", "J")["max"] == max(SEAM_BASE[:3])


def test_tables_cli_writes_csv_md_tex_with_marks_and_paper(runs, config_files, tmp_path, capsys):
    out = tmp_path / "tables"
    code = main(
        [
            "tables",
            "--runs", str(runs),
            "--experiments", str(config_files / "experiments.yaml"),
            "--tables", str(config_files / "tables.yaml"),
            "--paper", str(config_files / "paper.yaml"),
            "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "table1.csv", "table1.html", "table1.md", "table1.tex"
    ]  # fmt: skip
    csv = pd.read_csv(out / "table1.csv")
    assert len(csv) == 2 * 2 * 2  # rows × variants × metrics
    md = (out / "table1.md").read_text()
    lines = {
        ln.split("|")[3].strip() + "/" + ln.split("|")[1].strip(): ln for ln in md.splitlines()[4:]
    }
    base = lines["baseline/SEAM"]
    mean, std = statistics.mean(SEAM_BASE), statistics.stdev(SEAM_BASE)
    assert f"| {mean:.1f}±{std:.1f} " in base  # ours, complete: no mark
    assert "| 55.0±0.4 " in base and "| 55.6 " in base and "| 55.4 " in base  # the paper's
    isl = lines["isl_fsl/SEAM"]
    isl_mean, isl_std = statistics.mean(SEAM_ISL), statistics.stdev(SEAM_ISL)
    assert f"| {isl_mean:.1f}±{isl_std:.1f}† " in isl and f"| {max(SEAM_ISL):.1f}† " in isl
    assert "| 3 " in isl
    assert "–" in lines["isl_fsl/PMM"]
    assert "sample std (ddof=1)" in md
    tex = (out / "table1.tex").read_text()
    assert "\\toprule" in tex and f"{mean:.1f}±{std:.1f}" in tex


def _cli_args(runs, config_files) -> list[str]:
    """`hfpl tables` over `runs` with the test's config files (add --out)."""
    return ["tables", "--runs", str(runs)] + [
        f"--{name}={config_files / f'{name}.yaml'}" for name in ("experiments", "tables", "paper")
    ]


def test_tables_cli_skips_tables_with_unconfigured_variants(runs, config_files, tmp_path, capsys):
    (config_files / "experiments.yaml").write_text(yaml.safe_dump({"variants": ["baseline"]}))
    args = _cli_args(runs, config_files)
    assert main([*args, "--out", str(tmp_path / "t")]) == 0
    assert "skip table1: variants ['isl_fsl']" in capsys.readouterr().out
    assert not (tmp_path / "t").exists()
    # variant names generated by a sweep count as configured
    sweep = {"name": "isl_{value}", "flag": "--x", "values": ["fsl", "other"]}
    experiments = {"variants": {"baseline": {}}, "sweeps": {"s": sweep}}
    (config_files / "experiments.yaml").write_text(yaml.safe_dump(experiments))
    assert main([*args, "--out", str(tmp_path / "t")]) == 0
    assert (tmp_path / "t" / "table1.md").exists()


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda c: c["tables"]["table1"].update(colour="red"), "Additional properties"),
        (lambda c: c["tables"]["table1"].update(metrics=["mIoU"]), "tables/table1/metrics/0"),
        (lambda c: c["tables"]["table1"]["rows"].append("sipe_r38"), "unknown row 'sipe_r38'"),
        (lambda c: c["tables"]["table1"].pop("dataset"), "'dataset' is a required property"),
    ],
)
def test_bad_tables_config_is_one_clear_error(tmp_path, edit, message):
    cfg = json.loads(json.dumps(TABLES))
    edit(cfg)
    path = tmp_path / "tables.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    with pytest.raises(ResultsError, match=message) as err:
        load_tables_config(path)
    assert str(path) in str(err.value)


def test_bad_cli_input_leaves_no_tables(runs, config_files, tmp_path, capsys):
    (config_files / "paper.yaml").write_text("table1: {seam_r38: {baseline: {J: high}}}")
    args = _cli_args(runs, config_files)
    assert main([*args, "--out", str(tmp_path / "t")]) == 2
    assert "table1/seam_r38/baseline/J: expected a number" in capsys.readouterr().err
    assert not (tmp_path / "t").exists()


def test_duplicate_evaluation_and_broken_json(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs, "seam_r38", "baseline", 0, "cam_train", 50.0, step="cam")
    write_run(runs, "seam_r38", "baseline", 0, "cam_train", 51.0, step="cam_again")
    with pytest.raises(ResultsError, match=r"several steps \['cam', 'cam_again'\]"):
        collect_runs(runs)
    broken = runs / "voc/seam_r38/baseline/seed0/cam_again/metrics/cam_train.json"
    broken.write_text('{"J": 5')
    with pytest.raises(ResultsError, match="cam_train.json: cannot read JSON"):
        collect_runs(runs)


def test_failed_table_write_leaves_no_table(runs, config_files, tmp_path, monkeypatch):
    """Each table file is written whole or not at all: the one whose rendering failed is
    absent and no temporary file remains."""
    from hfpl.workflow import report

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "tabulate", fail)  # after the csv, before the md
    cfg = load_tables_config(config_files / "tables.yaml")
    summary = summarize(collect_runs(runs), cfg, "table1", {})
    with pytest.raises(RuntimeError):
        report.write_table(summary, cfg["tables"]["table1"], {}, cfg, tmp_path / "t")
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["table1.csv"]


def test_real_config_tables_and_figures(tmp_path):
    """config/tables.yaml + paper.yaml end to end: all tables, Figs 1 and 6 drawn from runs."""
    runs = tmp_path / "runs"
    for seed in range(2):
        # run directories are named by method (row seam_r38 reads method `seam`)
        for method, base in [("seam", 63.0), ("sipe_r38", 68.0)]:
            write_run(runs, method, "baseline", seed, "final_val", base + seed, step="seg")
            write_run(runs, method, "isl_fsl", seed, "final_val", base + 2 + seed, step="seg")
        for lam in ("0.0", "0.4", "1.0"):
            write_run(runs, "seam", f"isl_lambda_{lam}", seed, "pseudo_train", 60 + seed)
    experiments = tmp_path / "experiments.yaml"
    experiments.write_text("{}\n")  # no variants key: nothing filtered
    out, figs = tmp_path / "tables", tmp_path / "figures"
    code = main(
        [
            "tables", "--runs", str(runs), "--experiments", str(experiments),
            "--tables", str(REPO / "config/tables.yaml"),
            "--paper", str(REPO / "config/paper.yaml"),
            "--seeds", "2", "--out", str(out), "--figures", str(figs),
        ]
    )  # fmt: skip
    assert code == 0
    cfg = load_tables_config(REPO / "config/tables.yaml")
    assert sorted(p.name for p in out.glob("*.md")) == sorted(f"{t}.md" for t in cfg["tables"])
    assert sorted(p.name for p in figs.iterdir()) == ["fig1.png", "fig6.png"]  # fig7: no study
    assert (figs / "fig1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table2 = (out / "table2.md").read_text()
    assert "| 63.5±0.7 " in table2 and "| 63.9±0.5 " in table2  # ours (2 seeds) and the paper's
    assert "| 65.4 " in table2  # paper-only test J
    load_paper(REPO / "config/paper.yaml")


# ---- issue 16: deviation flags, final protocol, stale runs, Table 7, smoke captions ----------


@pytest.mark.parametrize(
    "mean,std,n,paper,status,flag",
    [
        (55.0, 0.3, 5, {"mean": 55.5, "std": 0.4}, "reproduced", ""),  # 0.5 <= 2 x 0.4
        (54.0, 0.3, 5, {"mean": 55.0, "std": 0.4}, "deviating", "deviates"),  # 1.0 > 0.8
        (54.0, 0.6, 5, {"mean": 55.0, "std": 0.4}, "reproduced", ""),  # 1.0 <= 2 x 0.6 (ours)
        (63.0, float("nan"), 1, {"mean": 64.5}, "deviating", "deviates; 1/5 seeds"),  # > 1 point
        (64.0, float("nan"), 2, {"mean": 64.5}, "reproduced", "2/5 seeds"),
        (64.0, 0.1, 5, {}, "no paper number", ""),
        (float("nan"), float("nan"), 0, {"mean": 64.5}, "not run", ""),
    ],
)
def test_deviation_flags(mean, std, n, paper, status, flag):
    from hfpl.workflow.aggregate import deviation

    delta, got_status, got_flag = deviation(mean, std, n, 5, paper)
    assert (got_status, got_flag) == (status, flag)
    if status in ("reproduced", "deviating"):
        assert delta == pytest.approx(mean - paper["mean"])


def _resolved(tmp_path, identities, methods=None, smoke=False) -> Path:
    entries = [
        {"dataset": "voc", "method": m, "variant": v, "seed": s, "step": st, "identity": i}
        for (m, v, s, st), i in identities.items()
    ]
    data = {"identities": entries, "methods": methods or {},
            "settings": {"smoke": smoke, "data": {"smoke": {"generate": smoke}}}}  # fmt: skip
    path = tmp_path / "config.resolved.json"
    path.write_text(json.dumps(data))
    return path


def _manifest(runs, method, variant, seed, step, **fields):
    path = runs / "voc" / method / variant / f"seed{seed}" / step / "manifest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"exit_status": 0, **fields}))


def test_stale_runs_are_reported_never_averaged(tmp_path):
    """A step counts only if its identity is the expected one and so are the steps it reads."""
    from hfpl.workflow.freshness import load_expected

    runs = tmp_path / "runs"
    methods = {"m": {"steps": {"cam": {"argv": ["x"]},
                               "seg": {"argv": ["y", "{step_dir[cam]}/out"]}}}}  # fmt: skip
    expected = {}
    for seed, (cam_id, seg_id) in enumerate([("c0", "s0"), ("old", "s1"), ("c2", "s2")]):
        expected[("m", "b", seed, "cam")] = f"c{seed}"
        expected[("m", "b", seed, "seg")] = f"s{seed}"
        write_run(runs, "m", "b", seed, "e", 50.0 + seed, step="seg")
        _manifest(runs, "m", "b", seed, "cam", identity=cam_id)
        _manifest(runs, "m", "b", seed, "seg", identity=seg_id)
    write_run(runs, "m", "b", 3, "e", 99.0, step="seg")  # seed 3: not in the configured grid
    write_run(runs, "m", "other", 0, "e", 99.0, step="seg")  # neither is this variant
    frame = collect_runs(runs, load_expected(_resolved(tmp_path, expected, methods)))
    current = frame[frame.current & (frame.metric == "J")]
    assert sorted(current.seed) == [0, 2]  # seed 1's cam ran with another configuration
    reasons = dict(zip(frame.manifest.str.split("/runs/").str[1], frame.reason, strict=True))
    assert reasons["voc/m/b/seed1/seg/manifest.json"] == "reads step cam, which is stale"
    assert reasons["voc/m/b/seed3/seg/manifest.json"] == "not in the configured grid"
    assert reasons["voc/m/other/seed0/seg/manifest.json"] == "not in the configured grid"
    # a manifest of before identities existed
    _manifest(runs, "m", "b", 2, "cam")
    frame = collect_runs(runs, load_expected(_resolved(tmp_path, expected, methods)))
    assert sorted(frame[frame.current & (frame.metric == "J")].seed) == [0]
    assert "voc/m/b/seed2/seg/manifest.json" in set(frame.manifest.str.split("/runs/").str[1])


def test_bad_resolved_config_is_one_line(runs, config_files, tmp_path, capsys):
    bad = tmp_path / "resolved.json"
    bad.write_text(json.dumps({"settings": {}}))
    args = _cli_args(runs, config_files)
    assert main([*args, "--resolved", str(bad), "--out", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err.strip()
    assert "no 'identities' list" in err and "resolved_config" in err and "\n" not in err
    assert not (tmp_path / "t").exists()


SEAM_METHOD = {
    "final_protocol": {"final_val": "final_val_crf"},
    "steps": {
        "test_final": {"argv": ["t"], "evaluations": {"final_val": {}}},
        "test_final_crf": {"argv": ["t"], "evaluations": {"final_val_crf": {}}},
    },
}


def _real_config_run(tmp_path, *, smoke=False, methods=None, study=None, extra=(), upstream=None):
    """hfpl tables over config/tables.yaml + paper.yaml on SEAM finals (two seeds);
    ``upstream``: (variant, seed) -> the upstream entry of that run's final_val_crf JSON."""
    runs = tmp_path / "runs"
    identities = {}
    for seed in range(2):
        for variant, j in (("baseline", 63.0), ("isl_fsl", 66.5)):
            write_run(runs, "seam", variant, seed, "final_val", j - 2 + seed, step="test_final")
            printed = (upstream or {}).get((variant, seed))
            write_run(runs, "seam", variant, seed, "final_val_crf", j + seed,
                      step="test_final_crf", upstream=printed)  # fmt: skip
            for step in ("test_final", "test_final_crf"):
                identities[("seam", variant, seed, step)] = "x"
                _manifest(runs, "seam", variant, seed, step, identity="x")
    resolved = _resolved(tmp_path, identities, methods or {"seam": SEAM_METHOD}, smoke)
    (tmp_path / "experiments.yaml").write_text("{}\n")
    out, figs = tmp_path / "tables", tmp_path / "figures"
    args = ["tables", "--runs", str(runs), "--experiments", str(tmp_path / "experiments.yaml"),
            "--tables", str(REPO / "config/tables.yaml"),
            "--paper", str(REPO / "config/paper.yaml"),
            "--resolved", str(resolved), "--out", str(out), "--figures", str(figs),
            "--reproduction", str(tmp_path / "REPRODUCTION.md"), *extra]  # fmt: skip
    if study:
        args += ["--study", str(study)]
    assert main(args) == 0
    return out, figs


def test_finals_read_the_methods_protocol_with_no_crf_beside(tmp_path):
    out, _ = _real_config_run(tmp_path)
    csv = pd.read_csv(out / "table2.csv")
    seam = csv[(csv.row == "seam_r38") & (csv.variant == "baseline") & (csv.metric == "J")].iloc[0]
    assert seam.evaluation == "final_val_crf" and seam.beside_evaluation == "final_val"
    assert seam["mean"] == pytest.approx(63.5) and seam.beside_mean == pytest.approx(61.5)
    assert seam.status == "reproduced" and seam.delta == pytest.approx(63.5 - 63.9)
    assert {"delta", "status", "flag"} <= set(csv.columns)
    md = (out / "table2.md").read_text()
    assert "J (final_val)" in md and "61.5±0.7" in md and "Δ J" in md
    assert "the methods' own final protocol; final_val shown beside" in md
    assert "seeds run: 2 of 5 configured (0, 1)" in md
    assert "SMOKE" not in md
    reproduction = (tmp_path / "REPRODUCTION.md").read_text()
    assert "### table2" in reproduction and "test_final_crf/manifest.json" in reproduction
    assert "## Where a row diverged" in reproduction


def test_reproduction_lists_our_evaluator_beside_the_upstream_numbers(tmp_path):
    near = {"J": 63.0, "t": None, "convention": "present", "difference": 0.0004, "agrees": True}
    far = {"J": 64.5, "t": 0.15, "convention": "gt", "difference": -0.5, "agrees": False}
    _real_config_run(tmp_path, upstream={("baseline", 0): near, ("isl_fsl", 1): far})
    text = (tmp_path / "REPRODUCTION.md").read_text()
    assert "## Our evaluator beside the upstream scripts' own numbers" in text
    assert "1 of 2 evaluations agree" in text
    lines = [ln for ln in text.splitlines() if "upstream J" in ln]
    assert len(lines) == 2
    assert "seam/baseline/seed0 final_val_crf: upstream J 63.0 (present)" in lines[0]
    assert lines[0].endswith("ours - upstream +0.0004: agrees")
    assert "upstream J 64.5 at t 0.15 (gt), ours - upstream -0.5000: DIFFERS" in lines[1]
    plain = tmp_path / "plain"
    plain.mkdir()
    _real_config_run(plain)  # no upstream entries: no section
    assert "upstream scripts" not in (plain / "REPRODUCTION.md").read_text()


def test_unknown_final_protocol_evaluation_is_one_line(tmp_path, capsys):
    bad = {**SEAM_METHOD, "final_protocol": {"final_val": "final_val_crff"}}
    with pytest.raises(AssertionError):
        _real_config_run(tmp_path, methods={"seam": bad})
    err = capsys.readouterr().err
    assert "final_protocol: 'final_val_crff' is not an evaluation of the method" in err


def test_table7_prints_the_paper_rows_and_dashes(tmp_path):
    out, _ = _real_config_run(tmp_path)
    lines = (out / "table7.md").read_text().splitlines()
    ccnn = next(ln for ln in lines if ln.startswith("| CCNN [36]"))
    assert "| 35.3 " in ccnn and "| 35.6 " in ccnn
    assert [c.strip() for c in ccnn.split("|")][-2] == "-"  # reproduced test: not run by the paper
    assert sum(ln.startswith("| ") and "[" in ln.split("|")[1] for ln in lines) == 21
    seam = [ln for ln in lines if ln.startswith("| SEAM ")]
    base = next(ln for ln in seam if "| baseline " in ln)
    isl = next(ln for ln in seam if "| isl_fsl " in ln)
    assert "| 64.5 " in base and "| 65.7 " in base  # reported val / test on the baseline line
    cells = [c.strip() for c in isl.split("|")]
    assert cells[-4:-2] == ["-", "-"] and cells[-2] == "67.6"  # "-" as the paper; our test J


def test_smoke_runs_say_so_in_captions_and_titles(tmp_path):
    out, figs = _real_config_run(tmp_path, smoke=True)
    for name in ("table2", "table7"):
        assert (
            "SMOKE (synthetic data, random weights): not a reproduction"
            in (out / f"{name}.md").read_text()
        )
    assert "SMOKE" in (tmp_path / "REPRODUCTION.md").read_text()
    from hfpl.workflow.figures import figure_title

    title = figure_title({"caption": "C"}, [{"seeds_run": "0,1", "smoke": True}], 5)
    assert title.startswith("SMOKE") and "means over 2 of 5 configured seed(s)" in title
    assert (figs / "fig1.png").exists()


def test_study_points_draw_fig7(tmp_path):
    study = tmp_path / "study.json"
    records = [{"variant": f"fsl_mu_{m}", "seed": 0, "J": 50 + m, "F": 40.0, "JF": 45 + m / 2}
               for m in (1.0, 2.5, 4.0)]  # fmt: skip
    study.write_text(json.dumps({"dataset": "voc", "method": "gaussian_cams", "smoke": True,
                                 "evaluation": "fsl_gaussian", "records": records}))  # fmt: skip
    _, figs = _real_config_run(tmp_path, study=study)
    assert (figs / "fig7.png").read_bytes()[:4] == b"\x89PNG"
