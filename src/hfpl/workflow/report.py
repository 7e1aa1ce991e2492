"""Tables: summaries -> ``results/tables/<table>.{csv,md,tex,html}``.

Numbers are percent with one decimal, like the paper; ``mean_std`` prints ``mean±std``. A cell
computed from fewer runs than the table's seed set gets the ``incomplete_mark`` (``†``), one
that deviates from the paper (:func:`hfpl.workflow.aggregate.deviation`) the
``deviation_mark`` (``⚠``) and its difference in the ``Δ`` column; a cell without runs prints
``–``, a number the paper does not print ``-``. The caption says how many seeds ran, what the
cells read, how many cells reproduce / deviate / did not run, and ``SMOKE ...`` when any run
was a smoke run. Every file is written to a temporary name and renamed
(:func:`hfpl.io.building_file`), so an interrupted run never leaves a complete-looking table.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from hfpl.io import building_file, write_text_atomic
from hfpl.workflow.aggregate import counts, paper_value

__all__ = ["SMOKE_NOTE", "caption_note", "format_stat", "render_table", "write_table"]

MISSING = "–"  # no run of ours
NOT_PRINTED = "-"  # the paper prints "-"
SMOKE_NOTE = "SMOKE (synthetic data, random weights): not a reproduction"
STAT_NAMES = {"mean_std": "mean±std"}
METRIC_NAMES = {"J": "J", "F": "F", "JF": "J&F", "J_test": "test J"}
DEFAULT_MARKS = {"incomplete_mark": "†", "deviation_mark": "⚠"}
HTML_STYLE = (
    "body{font-family:sans-serif;font-size:13px;margin:12px}"
    "table{border-collapse:collapse}th,td{border:1px solid #bbb;padding:2px 6px;"
    "text-align:right}th{background:#eee}td:first-child,td:nth-child(2),td:nth-child(3)"
    "{text-align:left}td.dev{background:#fdd}td.inc{background:#ffe9b3}td.paper{color:#555}"
    ".smoke{color:#b00;font-weight:bold}"
)


def _num(x: float) -> str:
    return MISSING if x is None or math.isnan(x) else f"{x:.1f}"


def format_stat(values: dict[str, float], stat: str) -> str:
    """One statistic of ``values`` (keys mean, std, max, n) as text; ``–`` when absent."""
    if stat == "n":
        return str(int(values.get("n", 0)))
    if stat == "mean_std":
        mean, std = values.get("mean", math.nan), values.get("std", math.nan)
        return _num(mean) if math.isnan(std) else f"{_num(mean)}±{_num(std)}"
    return _num(values.get(stat, math.nan))


def marks(cfg: dict) -> dict[str, str]:
    """The incomplete and deviation marks of ``config/tables.yaml`` (with their defaults)."""
    return {k: cfg.get(k, v) for k, v in DEFAULT_MARKS.items()}


def _mark_of(cell: pd.Series, mark: dict[str, str], stat: str) -> str:
    """† on every statistic of a cell with fewer runs than seeds; ⚠ on the compared mean."""
    text = ""
    if 0 < cell["n"] < cell["n_expected"]:
        text += mark["incomplete_mark"]
    if cell["status"] == "deviating" and stat in ("mean", "mean_std"):
        text += mark["deviation_mark"]
    return text


def _paper_only_line(row_cfg: dict, spec: dict, paper: dict, paper_table: str, row: str) -> dict:
    line = {"Method": row_cfg["label"], "Backb.": row_cfg.get("backbone", ""), "Variant": ""}
    for extra in spec.get("paper_extra", []):
        # only the columns of a fixed variant (e.g. `reported`): the others are the paper's
        # numbers of a variant it did not run for this method ("-")
        ref = {}
        if "variant" in extra:
            ref = paper_value(paper, paper_table, row, extra["variant"], extra["metric"])
        line[f"{extra['label']} (paper)"] = format_stat(ref, "mean") if ref else NOT_PRINTED
    return line


def render_table(summary: pd.DataFrame, spec: dict, paper: dict, cfg: dict) -> pd.DataFrame:
    """The wide, printable table: one line per (row, variant); ours beside the paper's.

    ``summary`` is :func:`hfpl.workflow.aggregate.summarize`'s frame for the table ``spec``;
    ``cfg`` the tables config (marks, and the rows of ``paper_rows``: the paper's lines of
    methods we do not run, first, with their paper-only columns).
    """
    mark = marks(cfg)
    lines = []
    paper_table = spec.get("paper", summary["table"].iloc[0])
    paper_only = [
        _paper_only_line(cfg["rows"][row], spec, paper, paper_table, row)
        for row in spec.get("paper_rows", [])
    ]
    for (row, variant), cells in summary.groupby(["row", "variant"], sort=False):
        first = cells.iloc[0]
        line = {"Method": first["label"], "Backb.": first["backbone"], "Variant": variant}
        for _, cell in cells.iterrows():
            ours = {k: cell[k] for k in ("mean", "std", "max", "n")}
            ref = {k: cell[f"paper_{k}"] for k in ("mean", "std", "max")}
            ref = {k: v for k, v in ref.items() if not math.isnan(v)}
            metric = METRIC_NAMES.get(cell["metric"], cell["metric"])
            for stat in spec["statistics"]:
                text = format_stat(ours, stat)
                if stat != "n":
                    text += _mark_of(cell, mark, stat)
                header = f"{metric} {STAT_NAMES.get(stat, stat)}"
                line[header] = text
                if stat != "n":
                    line[f"{header} (paper)"] = format_stat(ref, stat)
            if not math.isnan(cell["paper_mean"]):
                line[f"Δ {metric}"] = (
                    MISSING if math.isnan(cell["delta"]) else f"{cell['delta']:+.1f}"
                )
            if cell["beside_evaluation"]:
                beside = {"mean": cell["beside_mean"], "std": cell["beside_std"]}
                line[f"{metric} ({cell['beside_evaluation']})"] = format_stat(beside, "mean_std")
        for extra in spec.get("paper_extra", []):
            header = f"{extra['label']} (paper)"
            if variant not in extra.get("variants", [variant]):
                line[header] = NOT_PRINTED  # the paper prints "-" on this line
                continue
            ref = paper_value(
                paper, paper_table, row, extra.get("variant", variant), extra["metric"]
            )
            line[header] = format_stat(ref, "mean") if ref else NOT_PRINTED
        lines.append(line)
    columns = list(dict.fromkeys(k for line in lines + paper_only for k in line))
    return pd.DataFrame(paper_only + lines, columns=columns).fillna(NOT_PRINTED)


def caption_note(summary: pd.DataFrame, spec: dict, cfg: dict, n_stale: int | None = None) -> str:
    """The caption line of a table: smoke warning, what the cells read, the seeds that ran,
    the std convention, the marks and the per-table counts."""
    mark = marks(cfg)
    ran = sorted({int(s) for v in summary["seeds_run"] for s in str(v).split(",") if s})
    expected = int(summary["n_expected"].iloc[0])
    evaluations = sorted(set(summary["evaluation"]))
    besides = sorted(set(summary["beside_evaluation"]) - {""})
    reads = f"evaluation {', '.join(evaluations)}"
    if besides:
        reads += f" (the methods' own final protocol; {', '.join(besides)} shown beside)"
    seeds = f"seeds run: {len(ran)} of {expected} configured"
    if ran:
        seeds += f" ({', '.join(map(str, ran))})"
    c = counts(summary)
    if n_stale is None:  # one count per run: over the cells of one metric
        first = summary[summary["metric"] == summary["metric"].iloc[0]]
        n_stale = int(first["n_stale"].sum())
    stale = n_stale
    parts = [
        f"{spec['caption']}.",
        f"Ours: {spec['dataset']}, {reads}; {seeds}; std is the sample std (ddof=1) over seeds,"
        " as the paper's ±.",
        f"Cells with a paper number: {c['reproduced']} reproduced, {c['deviating']} deviating,"
        f" {c['not run']} not run; {c['fewer seeds']} with fewer seeds than configured"
        f"; {stale} stale run(s) not averaged in.",
        f"{mark['deviation_mark']}: |ours - paper| > 2 x the larger std (> 1 point where the"
        f" paper gives no std); {mark['incomplete_mark']}: fewer runs than seeds;"
        f" {MISSING}: no run; {NOT_PRINTED}: not printed in the paper.",
    ]
    if bool(summary["smoke"].any()):
        parts.insert(0, f"{SMOKE_NOTE}.")
    return " ".join(parts)


def _html(name: str, note: str, wide: pd.DataFrame, cfg: dict) -> str:
    mark = marks(cfg)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in wide.columns)
    body = []
    for _, line in wide.iterrows():
        cells = []
        for column, text in line.items():
            cls = "paper" if str(column).endswith("(paper)") else ""
            if mark["deviation_mark"] in str(text):
                cls = "dev"
            elif mark["incomplete_mark"] in str(text):
                cls = "inc"
            attr = f' class="{cls}"' if cls else ""
            cells.append(f"<td{attr}>{html.escape(str(text))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    note_html = html.escape(note).replace(
        html.escape(SMOKE_NOTE), f'<span class="smoke">{html.escape(SMOKE_NOTE)}</span>'
    )
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(name)}</title>'
        f"<style>{HTML_STYLE}</style></head><body><h2>{html.escape(name)}</h2>"
        f"<p>{note_html}</p><table><thead><tr>{head}</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table></body></html>\n"
    )


def write_table(summary: pd.DataFrame, spec: dict, paper: dict, cfg: dict, out: Path) -> str:
    """Write ``out/<table>.csv`` (long, numeric, with ``delta``/``status``/``flag``), ``.md``,
    ``.tex`` and ``.html`` (wide, as printed); return the caption note."""
    name = summary["table"].iloc[0]
    wide = render_table(summary, spec, paper, cfg)
    note = caption_note(summary, spec, cfg)
    with building_file(out / f"{name}.csv") as tmp:
        summary.to_csv(tmp, index=False)
    printed = {"headers": "keys", "showindex": False, "disable_numparse": True}
    md = f"**{name}**: {note}\n\n" + tabulate(wide, tablefmt="pipe", **printed)
    write_text_atomic(out / f"{name}.md", md + "\n")
    tex = f"% {name}: {note}\n" + tabulate(wide, tablefmt="latex_booktabs", **printed) + "\n"
    write_text_atomic(out / f"{name}.tex", tex)
    write_text_atomic(out / f"{name}.html", _html(name, note, wide, cfg))
    return note
