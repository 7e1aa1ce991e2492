"""``hfpl tables``: aggregate all runs into the paper's tables and figures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hfpl.workflow.aggregate import (
    ResultsError,
    collect_runs,
    load_paper,
    load_tables_config,
    summarize,
)
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
    from hfpl.workflow.report import render_figure, write_table

    try:
        cfg = load_tables_config(args.tables)
        paper = load_paper(args.paper)
        configured = _configured_variants(args.experiments)
        runs = collect_runs(args.runs)
    except (ResultsError, ConfigError) as err:
        print(f"hfpl tables: {err}", file=sys.stderr)
        return 2
    print(f"hfpl tables: {len(runs)} metric values from {args.runs}")
    mark = cfg.get("incomplete_mark", "†")
    todo = [("tables", n) for n in cfg["tables"]]
    if args.figures is not None:
        todo += [("figures", n) for n in cfg.get("figures", {})]
    for kind, name in todo:
        spec = cfg[kind][name]
        missing = sorted(_variants_of(spec) - configured) if configured is not None else []
        if missing:
            print(f"  skip {name}: variants {missing} are not in {args.experiments}")
            continue
        if kind == "tables":
            summary = summarize(runs, cfg, name, paper, args.seeds)
            write_table(summary, spec, paper, mark, args.out)
            done = int((summary["n"] > 0).sum())
            print(f"  {args.out / name}.{{csv,md,tex}}: {done}/{len(summary)} cells with runs")
        elif render_figure(runs, cfg, name, paper, args.figures, args.seeds):
            print(f"  {args.figures / name}.png")
        else:
            print(f"  skip {name}: no runs for it yet")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``hfpl tables`` to the top-level parser."""
    p = subparsers.add_parser(
        "tables",
        help="aggregate results/runs into the paper's tables (csv/md/tex) and figures",
        description=__doc__,
    )
    p.add_argument("--runs", type=Path, required=True, help="results/runs")
    p.add_argument("--experiments", type=Path, required=True, help="config/experiments.yaml")
    p.add_argument("--tables", type=Path, required=True, help="config/tables.yaml")
    p.add_argument("--paper", type=Path, required=True, help="config/paper.yaml")
    p.add_argument("--seeds", type=int, default=None, help="use the first N seeds of each seed set")
    p.add_argument("--out", type=Path, required=True, help="results/tables")
    p.add_argument("--figures", type=Path, default=None, help="results/figures (optional)")
    p.set_defaults(func=run)
