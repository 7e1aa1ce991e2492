"""``results/REPRODUCTION.md`` (+ ``.html`` for ``snakemake --report``): the reproduction at a
glance, written by ``hfpl tables`` from the tables' summaries.

1. per table: cells reproduced / deviating / not run, then every cell with a paper number
   (ours, paper, Δ, status, flag) and links to the manifests of the runs it averages;
2. where each row diverged: the ``chain`` of ``config/tables.yaml`` (CAM -> pseudo-labels ->
   final, ours beside the paper's number where the paper has one, Sec. S.3), with the first step
   whose number deviates;
3. where a method's YAML names an upstream script's printed J (``upstream_log``): ours beside
   it, and whether they agree;
4. the runs counted (manifest link, seed, commits, patch digests, executor image) and the stale
   runs left out (with the reason).
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd
from tabulate import tabulate

from hfpl.io import write_text_atomic
from hfpl.workflow.aggregate import cell_stats, counts, deviation, paper_value, seed_set
from hfpl.workflow.report import MISSING, SMOKE_NOTE, format_stat

__all__ = ["chain_table", "write_reproduction"]


def _link(manifest: str, base: Path) -> str:
    rel = os.path.relpath(manifest, base)
    return f"[{Path(manifest).parent.name}]({rel})"


def _cell_text(values: dict[str, float]) -> str:
    return format_stat(values, "mean_std")


def chain_table(
    summaries: dict[str, pd.DataFrame],
    runs: pd.DataFrame,
    cfg: dict,
    paper: dict,
    seeds: int | None = None,
) -> pd.DataFrame:
    """One line per (row, variant) of ``cfg['chain']``: per step ours (paper) and the first
    step whose number deviates from the paper's (``-`` where the paper gives none)."""
    chain = cfg["chain"]
    metric = chain.get("metric", "J")
    stats = cell_stats(runs, seed_set(cfg, chain, seeds))
    lines = []
    for row in chain["rows"]:
        row_cfg = cfg["rows"][row]
        method = row_cfg.get("method", row)
        for variant in chain["variants"]:
            line = {
                "Method": row_cfg["label"],
                "Backb.": row_cfg.get("backbone", ""),
                "Variant": variant,
            }
            first = None
            for step in chain["steps"]:
                label = step["label"]
                if "table" in step and step.get("variant"):  # paper-only (e.g. Table 1 "Ref.")
                    ref = paper_value(paper, step["table"], row, step["variant"], metric)
                    line[f"{label} (paper)"] = format_stat(ref, "mean") if ref else "-"
                    continue
                if "table" in step:
                    summary = summaries.get(step["table"])
                    hit = (
                        pd.DataFrame()
                        if summary is None
                        else summary[
                            (summary.row == row)
                            & (summary.variant == variant)
                            & (summary.metric == metric)
                        ]
                    )
                    if hit.empty:
                        line[label] = "-"
                        continue
                    cell = hit.iloc[0]
                    ours = {"mean": cell["mean"], "std": cell["std"]}
                    ref = {k: cell[f"paper_{k}"] for k in ("mean", "std")}
                    ref = {k: v for k, v in ref.items() if not math.isnan(v)}
                    status = cell["status"]
                else:
                    key = (chain["dataset"], method, variant, step["evaluation"], metric)
                    got = stats.loc[key].to_dict() if key in stats.index else {}
                    ours, ref = {k: got.get(k, math.nan) for k in ("mean", "std")}, {}
                    status = deviation(ours["mean"], ours["std"], int(got.get("n", 0)), 1, {})[1]
                text = _cell_text(ours)
                if ref:
                    text += f" ({_cell_text(ref)})"
                line[label] = text
                if first is None and status == "deviating":
                    first = label
                if first is None and status == "not run":
                    first = f"not run from {label}"
            line["first deviation"] = first or "none"
            lines.append(line)
    return pd.DataFrame(lines)


def _provenance(manifest: dict[str, Any]) -> str:
    repos = manifest.get("repos") or {}
    parts = []
    for key, repo in sorted(repos.items()):
        patches = ",".join(str(p.get("sha256", ""))[:12] for p in repo.get("patches", []))
        parts.append(
            f"{key}@{str(repo.get('commit', ''))[:12]}" + (f" [{patches}]" if patches else "")
        )
    executor = manifest.get("executor") or {}
    image = executor.get("image") or executor.get("image_id") or executor.get("executor", "")
    return "; ".join(parts) + (f"; {image}" if image else "")


def _upstream_agreement(used: pd.DataFrame, base: Path, read_json) -> list[str]:
    """Section lines: each counted evaluation whose metrics JSON holds the upstream script's
    own printed J (``upstream``, from a method's ``upstream_log``) beside ours."""
    lines, agree = [], 0
    for _, run in used.drop_duplicates(["manifest", "evaluation"]).iterrows():
        metrics = read_json(Path(run.manifest).parent / "metrics" / f"{run.evaluation}.json")
        up = (metrics or {}).get("upstream")
        if not up:
            continue
        agree += bool(up["agrees"])
        diff = MISSING if up["difference"] is None else f"{up['difference']:+.4f}"
        at = "" if up["t"] is None else f" at t {up['t']}"
        lines.append(
            f"- {_link(run.manifest, base)} {run.dataset}/{run.method}/{run.variant}/"
            f"seed{run.seed} {run.evaluation}: upstream J {up['J']}{at} ({up['convention']}), "
            f"ours - upstream {diff}: {'agrees' if up['agrees'] else 'DIFFERS'}"
        )
    if not lines:
        return []
    return [
        "## Our evaluator beside the upstream scripts' own numbers",
        "",
        f"{agree} of {len(lines)} evaluations agree with the J the upstream script printed for "
        "the same predictions (equal up to the print's rounding, in its J convention).",
        "",
        *sorted(lines),
        "",
    ]


def write_reproduction(
    path: Path,
    summaries: dict[str, pd.DataFrame],
    runs: pd.DataFrame,
    cfg: dict,
    paper: dict,
    read_manifest,
    seeds: int | None = None,
) -> None:
    """Write ``path`` (markdown) and ``path.with_suffix('.html')``."""
    base = Path(path).parent
    mark = cfg.get("deviation_mark", "⚠")
    out = ["# Reproduction status", ""]
    smoke = bool(runs["smoke"].any()) if not runs.empty else False
    if smoke:
        out += [f"**{SMOKE_NOTE}.**", ""]
    total = {"reproduced": 0, "deviating": 0, "not run": 0}
    for summary in summaries.values():
        for k, v in counts(summary).items():
            if k in total:
                total[k] += v
    out += [
        "Written by `hfpl tables` (the workflow's `tables` rule). A cell is *deviating* when "
        "|ours - paper| > 2 x the larger std (> 1 point where the paper gives no std); only runs "
        "the current configuration would produce are averaged (stale runs are listed below).",
        "",
        f"All tables: {total['reproduced']} cells reproduced, {total['deviating']} deviating, "
        f"{total['not run']} not run.",
        "",
        "## Tables",
        "",
    ]
    used = runs[runs["current"]]
    for name, summary in summaries.items():
        c = counts(summary)
        out += [
            f"### {name}",
            "",
            f"{cfg['tables'][name]['caption']}: {c['reproduced']} reproduced, {c['deviating']} "
            f"deviating, {c['not run']} not run, {c['fewer seeds']} with fewer seeds than "
            "configured.",
            "",
        ]
        lines = []
        for _, cell in summary[summary["status"] != "no paper number"].iterrows():
            hit = used[
                (used.dataset == cell.dataset)
                & (used.method == cell.method)
                & (used.variant == cell.variant)
                & (used.evaluation == cell.evaluation)
                & (used.metric == cell.metric)
                & used.seed.isin(seed_set(cfg, cfg["tables"][name], seeds))
            ]
            ref = {k: cell[f"paper_{k}"] for k in ("mean", "std")}
            ref = {k: v for k, v in ref.items() if not math.isnan(v)}
            status = cell["status"] + (f" {mark}" if cell["status"] == "deviating" else "")
            lines.append(
                {
                    "row": cell["label"] + (f" {cell['backbone']}" if cell["backbone"] else ""),
                    "variant": cell["variant"],
                    "metric": cell["metric"],
                    "ours": _cell_text({"mean": cell["mean"], "std": cell["std"]}),
                    "paper": _cell_text(ref),
                    "Δ": MISSING if math.isnan(cell["delta"]) else f"{cell['delta']:+.1f}",
                    "status": status,
                    "flag": cell["flag"],
                    "runs": " ".join(
                        _link(m, base) + f" s{s}"
                        for m, s in sorted(set(zip(hit.manifest, hit.seed, strict=True)))
                    ),
                }
            )
        if lines:
            out += [
                tabulate(
                    pd.DataFrame(lines),
                    headers="keys",
                    tablefmt="pipe",
                    showindex=False,
                    disable_numparse=True,
                ),
                "",
            ]
    if "chain" in cfg:
        chain = chain_table(summaries, runs, cfg, paper, seeds)
        out += [
            "## Where a row diverged",
            "",
            f"{cfg['chain']['caption']} (metric {cfg['chain'].get('metric', 'J')}; ours (paper)).",
            "",
            tabulate(
                chain, headers="keys", tablefmt="pipe", showindex=False, disable_numparse=True
            ),
            "",
        ]
    out += _upstream_agreement(used, base, read_manifest)
    out += ["## Runs counted", ""]
    steps = used.drop_duplicates(["manifest"]).sort_values("manifest")
    for _, run in steps.iterrows():
        manifest = read_manifest(Path(run.manifest)) or {}
        out.append(
            f"- {_link(run.manifest, base)} {run.dataset}/{run.method}/{run.variant}/"
            f"seed{run.seed}/{run.step}: {_provenance(manifest)}"
        )
    if steps.empty:
        out.append("- none")
    stale = runs[~runs["current"]].drop_duplicates(["manifest"]).sort_values("manifest")
    out += ["", "## Stale runs (not averaged in)", ""]
    for _, run in stale.iterrows():
        out.append(
            f"- {_link(run.manifest, base)} {run.dataset}/{run.method}/{run.variant}/"
            f"seed{run.seed}/{run.step}: {run.reason}"
        )
    if stale.empty:
        out.append("- none")
    text = "\n".join(out) + "\n"
    write_text_atomic(path, text)
    write_text_atomic(Path(path).with_suffix(".html"), _markdown_html(text))


def _markdown_html(text: str) -> str:
    """A minimal self-contained HTML view of the markdown above (headings, pipe tables,
    paragraphs, lists); links stay plain text inside a report iframe."""
    body, table = [], []

    def flush() -> None:
        if table:
            rows = [r for r in table if not set(r.replace("|", "").strip()) <= set(":-")]
            cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
            head = "".join(f"<th>{html.escape(c)}</th>" for c in cells[0])
            rest = "".join(
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                for r in cells[1:]
            )
            body.append(f"<table><tr>{head}</tr>{rest}</table>")
            table.clear()

    for line in text.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{html.escape(line.lstrip('# '))}</h{level}>")
        elif line.startswith("- "):
            body.append(f"<li>{html.escape(line[2:])}</li>")
        elif line.strip():
            body.append(f"<p>{html.escape(line.strip('*'))}</p>")
    flush()
    style = (
        "body{font-family:sans-serif;font-size:13px;margin:12px}table{border-collapse:"
        "collapse}td,th{border:1px solid #bbb;padding:2px 5px}th{background:#eee}"
    )
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Reproduction</title>'
        f"<style>{style}</style></head><body>" + "\n".join(body) + "</body></html>\n"
    )
