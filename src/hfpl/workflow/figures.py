"""Figures of ``config/tables.yaml`` -> ``results/figures/<figure>.png`` (matplotlib, Agg).

- ``arrows`` (Fig. 1): per row an arrow from one variant to another in a metric plane, ours
  solid, the paper's dashed and paler; every arrow head carries its row's label (ours in the
  row's colour, the paper's in grey italics).
- ``sweep`` (Figs. 6, 7): per panel, metric mean ± std over seeds against the swept value; every
  line carries its label at its last point.

The title is the caption, the number of seeds that ran (never the configured count) and, when
any counted run was a smoke run, :data:`hfpl.workflow.report.SMOKE_NOTE`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from hfpl.io import building_file
from hfpl.workflow.aggregate import cell_stats, paper_value, row_evaluations, seed_set
from hfpl.workflow.report import METRIC_NAMES, SMOKE_NOTE

__all__ = ["figure_title", "render_figure"]


def _lookup(stats: pd.DataFrame, key: tuple) -> dict[str, Any]:
    return stats.loc[key].to_dict() if key in stats.index else {}


def _key(cfg: dict, spec: dict, methods: dict, row: str, variant: str, metric: str) -> tuple:
    evaluation, _ = row_evaluations(cfg, spec, row, methods)
    method = cfg["rows"][row].get("method", row)
    return (spec["dataset"], method, variant, evaluation, metric)


def figure_title(spec: dict, used: list[dict[str, Any]], expected: int) -> str:
    """Caption + seeds that ran (over the drawn points) + the smoke warning if any was smoke."""
    ran = sorted({int(s) for u in used for s in str(u.get("seeds_run", "")).split(",") if s})
    title = f"{spec['caption']} (means over {len(ran)} of {expected} configured seed(s))"
    if any(u.get("smoke") for u in used):
        title = f"{SMOKE_NOTE}\n{title}"
    return title


def render_figure(
    runs: pd.DataFrame,
    cfg: dict,
    name: str,
    paper: dict,
    out: Path,
    seeds: int | None = None,
    methods: dict | None = None,
) -> bool:
    """Draw figure ``name`` to ``out/<name>.png``; False (nothing written) if it has no data."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec = cfg["figures"][name]
    chosen = seed_set(cfg, spec, seeds)
    stats = cell_stats(runs, chosen)
    draw = _draw_arrows if spec["kind"] == "arrows" else _draw_sweep
    drawn = draw(plt, stats, cfg, spec, paper, methods or {})
    if drawn is None:
        return False
    fig, used = drawn
    fig.suptitle(figure_title(spec, used, len(chosen)), fontsize=8)
    fig.tight_layout()
    with building_file(out / f"{name}.png") as tmp:
        fig.savefig(tmp, format="png", dpi=150)
    plt.close(fig)
    return True


def _label(cfg: dict, row: str) -> str:
    return f"{cfg['rows'][row]['label']} {cfg['rows'][row].get('backbone', '')}".strip()


def _draw_arrows(plt: Any, stats, cfg: dict, spec: dict, paper: dict, methods: dict):
    """Fig. 1: per row an arrow (x, y) baseline -> +ISL/FSL; the paper's dashed, paler."""
    fig, ax = plt.subplots(figsize=(7, 5.5))
    used = []
    for i, row in enumerate(spec["rows"]):
        color = f"C{i % 10}"
        label = _label(cfg, row)
        ends, cells = [], []
        for variant in (spec["from_variant"], spec["to_variant"]):
            got = [
                _lookup(stats, _key(cfg, spec, methods, row, variant, m))
                for m in (spec["x"], spec["y"])
            ]
            cells += got
            ends.append([g.get("mean", math.nan) for g in got])
        if not any(math.isnan(v) for xy in ends for v in xy):
            ax.annotate("", ends[1], ends[0], arrowprops={"arrowstyle": "->", "color": color})
            ax.plot(*ends[0], "o", color=color)
            ax.plot(*ends[1], alpha=0)  # annotations do not count for the axis limits
            ax.annotate(
                label, ends[1], textcoords="offset points", xytext=(4, 3), fontsize=7, color=color
            )
            used += cells
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
                ax.annotate(
                    f"{label} (paper)",
                    ref[1],
                    textcoords="offset points",
                    xytext=(4, -9),
                    fontsize=6,
                    color="grey",
                    style="italic",
                )
    if not used:
        plt.close(fig)
        return None
    ax.set_xlabel(METRIC_NAMES[spec["x"]])
    ax.set_ylabel(METRIC_NAMES[spec["y"]])
    ax.plot([], [], "-", color="black", label="ours (solid)")
    if "paper" in spec:
        ax.plot([], [], "--", color="grey", label="paper (dashed)")
    ax.legend(fontsize=7, loc="lower right")
    return fig, used


def _draw_sweep(plt: Any, stats, cfg: dict, spec: dict, paper: dict, methods: dict):
    """Figs. 6/7: per panel, metric mean ± std vs the swept value, one labelled line per series."""
    panels = spec["panels"]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    used = []
    for ax, panel in zip(axes[0], panels, strict=True):
        for series in panel["series"]:
            for row in spec["rows"]:
                for metric in spec["metrics"]:
                    points = sorted(
                        (
                            (x, _lookup(stats, _key(cfg, spec, methods, row, variant, metric)))
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
                    line = ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, label=label)
                    ax.annotate(
                        label,
                        (xs[-1], means[-1]),
                        textcoords="offset points",
                        xytext=(5, 0),
                        fontsize=7,
                        va="center",
                        color=line[0].get_color(),
                    )
                    used += [s for _, s in points]
        ax.set_xlabel(panel["xlabel"])
        ax.margins(x=0.15)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    if not used:
        plt.close(fig)
        return None
    return fig, used
