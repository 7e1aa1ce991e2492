"""Rendering: summaries -> ``results/tables/<table>.{csv,md,tex}`` and ``results/figures/*.png``.

Numbers are percent with one decimal, like the paper; ``mean_std`` prints ``mean±std``. A cell
computed from fewer runs than the table's seed set gets the ``incomplete_mark`` (e.g. ``†``);
a cell without runs prints ``–``. Every file is written to a temporary name and renamed
(:func:`hfpl.io.building_file`), so an interrupted run never leaves a complete-looking table.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
from tabulate import tabulate

from hfpl.io import building_file, write_text_atomic
from hfpl.workflow.aggregate import cell_stats, paper_value, seed_set

__all__ = ["format_stat", "render_figure", "render_table", "write_table"]

MISSING = "–"
STAT_NAMES = {"mean_std": "mean±std"}
METRIC_NAMES = {"J": "J", "F": "F", "JF": "J&F", "J_test": "test J"}


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


def render_table(summary: pd.DataFrame, spec: dict, paper: dict, mark: str) -> pd.DataFrame:
    """The wide, printable table: one line per (row, variant); ours beside the paper's.

    ``summary`` is :func:`hfpl.workflow.aggregate.summarize`'s frame for the table ``spec``.
    """
    lines = []
    paper_table = spec.get("paper", summary["table"].iloc[0])
    for (row, variant), cells in summary.groupby(["row", "variant"], sort=False):
        first = cells.iloc[0]
        line = {"Method": first["label"], "Backb.": first["backbone"], "Variant": variant}
        for _, cell in cells.iterrows():
            ours = {k: cell[k] for k in ("mean", "std", "max", "n")}
            ref = {k: cell[f"paper_{k}"] for k in ("mean", "std", "max")}
            metric = METRIC_NAMES.get(cell["metric"], cell["metric"])
            for stat in spec["statistics"]:
                text = format_stat(ours, stat)
                if stat != "n" and 0 < cell["n"] < cell["n_expected"]:
                    text += mark
                header = f"{metric} {STAT_NAMES.get(stat, stat)}"
                line[header] = text
                if stat != "n":
                    line[f"{header} (paper)"] = format_stat(ref, stat)
        for extra in spec.get("paper_extra", []):
            ref = paper_value(
                paper, paper_table, row, extra.get("variant", variant), extra["metric"]
            )
            line[f"{extra['label']} (paper)"] = format_stat(ref, "mean")
        lines.append(line)
    return pd.DataFrame(lines)


def write_table(summary: pd.DataFrame, spec: dict, paper: dict, mark: str, out: Path) -> None:
    """Write ``out/<table>.csv`` (long, numeric), ``.md`` and ``.tex`` (wide, as printed)."""
    name = summary["table"].iloc[0]
    wide = render_table(summary, spec, paper, mark)
    seeds = int(summary["n_expected"].iloc[0])
    note = (
        f"{spec['caption']}. Ours: {spec['dataset']}, evaluation {spec['evaluation']}, "
        f"{seeds} seed(s); std is the sample std (ddof=1) over seeds, as the paper's ±. "
        f"{mark}: fewer runs than seeds; {MISSING}: no run / no number."
    )
    with building_file(out / f"{name}.csv") as tmp:
        summary.to_csv(tmp, index=False)
    printed = {"headers": "keys", "showindex": False, "disable_numparse": True}
    md = f"**{name}**: {note}\n\n" + tabulate(wide, tablefmt="pipe", **printed)
    write_text_atomic(out / f"{name}.md", md + "\n")
    tex = f"% {name}: {note}\n" + tabulate(wide, tablefmt="latex_booktabs", **printed) + "\n"
    write_text_atomic(out / f"{name}.tex", tex)


def _lookup(stats: pd.DataFrame, key: tuple) -> dict[str, float]:
    return stats.loc[key].to_dict() if key in stats.index else {}


def render_figure(
    runs: pd.DataFrame,
    cfg: dict,
    name: str,
    paper: dict,
    out: Path,
    seeds: int | None = None,
) -> bool:
    """Draw figure ``name`` to ``out/<name>.png``; False (nothing written) if it has no data."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec = cfg["figures"][name]
    stats = cell_stats(runs, seed_set(cfg, spec, seeds))
    draw = _draw_arrows if spec["kind"] == "arrows" else _draw_sweep
    fig = draw(plt, stats, cfg, spec, paper)
    if fig is None:
        return False
    fig.suptitle(spec["caption"], fontsize=8)
    with building_file(out / f"{name}.png") as tmp:
        fig.savefig(tmp, format="png", dpi=150)
    plt.close(fig)
    return True


def _row_key(cfg: dict, spec: dict, row: str, variant: str, metric: str) -> tuple:
    evaluation = spec.get("evaluation_by_row", {}).get(row, spec["evaluation"])
    method = cfg["rows"][row].get("method", row)
    return (spec["dataset"], method, variant, evaluation, metric)


def _draw_arrows(plt: Any, stats: pd.DataFrame, cfg: dict, spec: dict, paper: dict):
    """Fig. 1: per row an arrow (x, y) baseline -> +ISL/FSL; the paper's dashed, paler."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    drawn = False
    for i, row in enumerate(spec["rows"]):
        color = f"C{i % 10}"
        label = f"{cfg['rows'][row]['label']} {cfg['rows'][row].get('backbone', '')}".strip()
        ends = []
        for variant in (spec["from_variant"], spec["to_variant"]):
            xy = [
                _lookup(stats, _row_key(cfg, spec, row, variant, m)).get("mean", math.nan)
                for m in (spec["x"], spec["y"])
            ]
            ends.append(xy)
        if not any(math.isnan(v) for xy in ends for v in xy):
            ax.annotate("", ends[1], ends[0], arrowprops={"arrowstyle": "->", "color": color})
            ax.plot(*ends[0], "o", color=color, label=label)
            ax.plot(*ends[1], alpha=0)  # annotations do not count for the axis limits
            drawn = True
        if "paper" in spec:
            ref = [
                [
                    paper_value(paper, spec["paper"], row, v, m).get("mean", math.nan)
                    for m in (spec["x"], spec["y"])
                ]
                for v in (spec["from_variant"], spec["to_variant"])
            ]
            if not any(math.isnan(v) for xy in ref for v in xy):
                style = {"arrowstyle": "->", "color": color, "linestyle": "--", "alpha": 0.5}
                ax.annotate("", ref[1], ref[0], arrowprops=style)
                ax.plot(*zip(*ref, strict=True), alpha=0)
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xlabel(METRIC_NAMES[spec["x"]])
    ax.set_ylabel(METRIC_NAMES[spec["y"]])
    if "paper" in spec:
        ax.plot([], [], "--", color="grey", label="paper (dashed)")
    ax.legend(fontsize=7)
    return fig


def _draw_sweep(plt: Any, stats: pd.DataFrame, cfg: dict, spec: dict, paper: dict):
    """Figs. 6/7: per panel, metric mean ± std vs the swept value, one line per series."""
    panels = spec["panels"]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.8), squeeze=False)
    drawn = False
    for ax, panel in zip(axes[0], panels, strict=True):
        for series in panel["series"]:
            for row in spec["rows"]:
                for metric in spec["metrics"]:
                    points = sorted(
                        (
                            (x, _lookup(stats, _row_key(cfg, spec, row, variant, metric)))
                            for variant, x in series["variants"].items()
                        ),
                        key=lambda point: point[0],
                    )
                    points = [(x, s) for x, s in points if s]
                    if not points:
                        continue
                    xs = [x for x, _ in points]
                    means = [s["mean"] for _, s in points]
                    stds = [0.0 if math.isnan(s["std"]) else s["std"] for _, s in points]
                    label = " ".join(t for t in (series["label"], METRIC_NAMES[metric]) if t)
                    ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, label=label)
                    drawn = True
        ax.set_xlabel(panel["xlabel"])
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    if not drawn:
        plt.close(fig)
        return None
    return fig
