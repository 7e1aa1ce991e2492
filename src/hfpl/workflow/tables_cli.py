"""``hfpl tables``: aggregate the runs into the paper's tables and figures, and
``REPRODUCTION.md``: only runs the current configuration would produce count (``--resolved``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from hfpl.workflow.aggregate import (
    ResultsError,
    collect_runs,
    counts,
    load_paper,
    load_tables_config,
    stale_runs,
    study_runs,
    summarize,
)
from hfpl.workflow.freshness import ResolvedConfigError, load_expected
from hfpl.workflow.schema import ConfigError, read_yaml
from hfpl.workflow.variants import sweep_names


def _configured_variants(path: Path) -> set[str] | None:
    """Variant names experiments.yaml defines: ``variants:`` keys plus the names its ``sweeps:``
    generate (:func:`~hfpl.workflow.variants.sweep_names`); None if it defines neither."""
    experiments = read_yaml(path) or {}
    if not isinstance(experiments, dict) or not {"variants", "sweeps"} & set(experiments):
        return None
    names = set(experiments.get("variants") or {})
    for sweep in (experiments.get("sweeps") or {}).values():
        names |= set(sweep_names(sweep))
    return names


def _variants_of(spec: dict) -> set[str]:
    if "variants" in spec:
        return set(spec["variants"])
    if spec["kind"] == "arrows":
        return {spec["from_variant"], spec["to_variant"]}
    return {v for panel in spec["panels"] for s in panel["series"] for v in s["variants"]}


def run(args: argparse.Namespace) -> int:
    from hfpl.workflow.figures import render_figure
    from hfpl.workflow.report import write_table
    from hfpl.workflow.reproduction import write_reproduction

    try:
        cfg = load_tables_config(args.tables)
        paper = load_paper(args.paper)
        configured = _configured_variants(args.experiments)
        expected = None if args.resolved is None else load_expected(args.resolved)
        runs = collect_runs(args.runs, expected)
        if args.study is not None:
            runs = pd.concat([runs, study_runs(args.study)], ignore_index=True)
        methods = {} if expected is None else expected.methods
        todo = []
        for kind in ("tables", "figures"):
            if kind == "figures" and args.figures is None:
                continue
            for name, spec in (cfg.get(kind) or {}).items():
                missing = []
                if configured is not None and not spec.get("study"):
                    missing = sorted(_variants_of(spec) - configured)
                if missing:
                    print(f"  skip {name}: variants {missing} are not in {args.experiments}")
                    continue
                todo.append((kind, name))
        summaries = {
            name: summarize(runs, cfg, name, paper, args.seeds, methods)
            for kind, name in todo
            if kind == "tables"
        }
    except (ResultsError, ConfigError, ResolvedConfigError) as err:
        print(f"hfpl tables: {err}", file=sys.stderr)
        return 2
    current = runs[runs["current"]]
    print(f"hfpl tables: {len(current)} metric values from {args.runs}")
    if expected is None:
        print("  no --resolved: every finished run counts (not checked against a configuration)")
    stale = stale_runs(runs)
    if not stale.empty:
        print(f"  {len(stale)} stale step run(s) not averaged in, e.g. "
              f"{stale.manifest.iloc[0]}: {stale.reason.iloc[0]}")  # fmt: skip
    for kind, name in todo:
        spec = cfg[kind][name]
        if kind == "tables":
            summary = summaries[name]
            write_table(summary, spec, paper, cfg, args.out)
            c = counts(summary)
            print(f"  {args.out / name}.{{csv,md,tex,html}}: {int((summary['n'] > 0).sum())}/"
                  f"{len(summary)} cells with runs; {c['reproduced']} reproduced, "
                  f"{c['deviating']} deviating, {c['not run']} not run")  # fmt: skip
        elif render_figure(runs, cfg, name, paper, args.figures, args.seeds, methods):
            print(f"  {args.figures / name}.png")
        else:
            print(f"  skip {name}: no runs for it yet")
    if args.reproduction is not None:
        read = lambda p: json.loads(p.read_text()) if p.is_file() else None  # noqa: E731
        write_reproduction(args.reproduction, summaries, runs, cfg, paper, read, args.seeds)
        print(f"  {args.reproduction} (+ .html)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``hfpl tables`` to the top-level parser."""
    p = subparsers.add_parser(
        "tables",
        help="aggregate results/runs into the paper's tables (csv/md/tex/html) and figures",
        description=__doc__,
    )
    p.add_argument("--runs", type=Path, required=True, help="results/runs")
    p.add_argument("--experiments", type=Path, required=True, help="config/experiments.yaml")
    p.add_argument("--tables", type=Path, required=True, help="config/tables.yaml")
    p.add_argument("--paper", type=Path, required=True, help="config/paper.yaml")
    p.add_argument(
        "--resolved",
        type=Path,
        default=None,
        help="results/config.resolved.json: count only runs the current configuration would "
        "produce (step identities) and read each method's final_protocol; without it every "
        "finished run counts",
    )
    p.add_argument("--seeds", type=int, default=None, help="use the first N seeds of each seed set")
    p.add_argument("--out", type=Path, required=True, help="results/tables")
    p.add_argument("--figures", type=Path, default=None, help="results/figures (optional)")
    p.add_argument(
        "--reproduction", type=Path, default=None, help="results/REPRODUCTION.md (optional)"
    )
    p.add_argument(
        "--study",
        type=Path,
        default=None,
        help="a study's metrics JSON (hfpl study fsl-mu-sigma --out), drawn as its figure's row",
    )
    p.set_defaults(func=run)
