"""Aggregation: every run's evaluator JSON -> per-cell statistics over seeds (pandas).

Run layout (:mod:`hfpl.workflow.layout`, docs/results.md)::

    RUNS/{dataset}/{method}/{variant}/seed{seed}/{step}/manifest.json
    RUNS/{dataset}/{method}/{variant}/seed{seed}/{step}/metrics/{evaluation}.json

A metrics file counts only if its step's ``manifest.json`` exists and records
``exit_status == 0`` (a crashed or unfinished step is not a result). Per cell
(table, row, variant, evaluation, metric) over the table's seed set: ``mean``, ``std`` (sample
standard deviation, ddof=1, which is what the paper's "±" over five runs is), ``max`` and ``n``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from hfpl.workflow import layout
from hfpl.workflow.schema import first_error, read_yaml

__all__ = [
    "METRICS",
    "ResultsError",
    "collect_runs",
    "load_paper",
    "load_tables_config",
    "paper_value",
    "seed_set",
    "summarize",
]

METRICS = ("J", "F", "JF")
RUN_COLUMNS = ["dataset", "method", "variant", "seed", "step", "evaluation", "metric", "value"]
KEYS = ["dataset", "method", "variant", "evaluation", "metric"]
SCHEMA = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "tables.schema.yaml"


class ResultsError(ValueError):
    """Bad configuration or run files for aggregation; the message names the file and fix.

    (Unreadable YAML is :class:`hfpl.workflow.schema.ConfigError`, from the one YAML reader.)
    """


def load_tables_config(path: Path, schema: Path = SCHEMA) -> dict[str, Any]:
    """Read and validate ``config/tables.yaml``; one :class:`ResultsError` on any problem."""
    cfg = read_yaml(path)
    error = first_error(cfg, read_yaml(schema))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ResultsError(f"{path}: {where}: {error.message} (schema: {schema})")
    for kind in ("tables", "figures"):
        for name, spec in (cfg.get(kind) or {}).items():
            unknown = [r for r in spec["rows"] if r not in cfg["rows"]]
            if unknown:
                raise ResultsError(
                    f"{path}: {kind}/{name}/rows: unknown row {unknown[0]!r}; define it under "
                    "the top-level `rows:`"
                )
    return cfg


def _check_value(value: Any, where: str, path: Path) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(value, dict):
        ok = (
            bool(value)
            and set(value) <= {"mean", "std", "max"}
            and all(isinstance(v, int | float) for v in value.values())
        )
    if not ok:
        raise ResultsError(
            f"{path}: {where}: expected a number or {{mean, std, max}}, got {value!r}"
        )


def load_paper(path: Path) -> dict[str, Any]:
    """Read ``config/paper.yaml``: ``table -> row -> variant -> metric -> value``."""
    paper = read_yaml(path)
    if not isinstance(paper, dict):
        raise ResultsError(f"{path}: expected a mapping of tables")
    for table, rows in paper.items():
        for row, variants in (rows or {}).items():
            for variant, metrics in (variants or {}).items():
                for metric, value in (metrics or {}).items():
                    _check_value(value, f"{table}/{row}/{variant}/{metric}", Path(path))
    return paper


def paper_value(paper: dict, table: str, row: str, variant: str, metric: str) -> dict[str, float]:
    """The paper's number as ``{mean, std, max}`` (missing keys absent); ``{}`` if none.

    A plain number is a single run or a mean given without ± and becomes ``{"mean": x}``.
    """
    value = paper.get(table, {}).get(row, {}).get(variant, {}).get(metric)
    if value is None:
        return {}
    return dict(value) if isinstance(value, dict) else {"mean": float(value)}


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ResultsError(
            f"{path}: cannot read JSON ({err}); delete it and rerun its step"
        ) from None


def collect_runs(runs_dir: Path) -> pd.DataFrame:
    """All completed runs' metrics as a long frame with columns :data:`RUN_COLUMNS`.

    One row per (dataset, method, variant, seed, step, evaluation, metric); metrics of steps
    without a manifest or with a non-zero ``exit_status`` are left out.
    """
    records = []
    runs_dir = Path(runs_dir)
    for path in sorted(runs_dir.glob(layout.METRICS_GLOB)):
        try:
            run, evaluation = layout.parse_metrics(path.relative_to(runs_dir))
        except ValueError as err:
            raise ResultsError(f"{path}: {err}") from None
        manifest = Path(layout.manifest(str(path.parent.parent)))
        if not manifest.is_file() or _read_json(manifest).get("exit_status") != 0:
            continue
        metrics = _read_json(path)
        for metric in METRICS:
            if metric not in metrics:
                raise ResultsError(f"{path}: no {metric!r} key; is it an `hfpl eval` output?")
            records.append((*run, evaluation, metric, metrics[metric]))
    runs = pd.DataFrame.from_records(records, columns=RUN_COLUMNS)
    runs["value"] = runs["value"].astype(float)
    dup = runs[runs.duplicated([*KEYS, "seed"], keep=False)]
    if not dup.empty:
        first = dup.iloc[0]
        steps = sorted(dup[(dup[[*KEYS, "seed"]] == first[[*KEYS, "seed"]]).all(axis=1)]["step"])
        raise ResultsError(
            f"{runs_dir}: evaluation {first.evaluation!r} of {first.dataset}/{first.method}/"
            f"{first.variant}/seed{first.seed} is written by several steps {steps}; give each "
            "evaluation a unique name"
        )
    return runs


def seed_set(cfg: dict, spec: dict, seeds: int | None = None) -> list[int]:
    """The seeds a table/figure uses: its own, else the config's; ``seeds`` keeps the first N."""
    chosen = spec.get("seeds", cfg.get("seeds", [0, 1, 2, 3, 4]))
    return list(chosen if seeds is None else chosen[:seeds])


def cell_stats(runs: pd.DataFrame, seeds: list[int]) -> pd.DataFrame:
    """mean, std (ddof=1), max, n over the given seeds, indexed by :data:`KEYS`."""
    used = runs[runs["seed"].isin(seeds)]
    return used.groupby(KEYS)["value"].agg(
        mean="mean", std=lambda v: v.std(ddof=1), max="max", n="count"
    )


def summarize(
    runs: pd.DataFrame, cfg: dict, name: str, paper: dict, seeds: int | None = None
) -> pd.DataFrame:
    """One row per grid cell of table ``name`` with our statistics and the paper's numbers.

    Columns: table, row, label, backbone, dataset, method, variant, evaluation, metric, n,
    n_expected, complete, mean, std, max, paper_mean, paper_std, paper_max.
    """
    spec = cfg["tables"][name]
    chosen = seed_set(cfg, spec, seeds)
    stats = cell_stats(runs, chosen)
    paper_table = spec.get("paper", name)
    records = []
    for row in spec["rows"]:
        row_cfg = cfg["rows"][row]
        method = row_cfg.get("method", row)
        evaluation = spec.get("evaluation_by_row", {}).get(row, spec["evaluation"])
        for variant in spec["variants"]:
            for metric in spec["metrics"]:
                key = (spec["dataset"], method, variant, evaluation, metric)
                got = stats.loc[key] if key in stats.index else None
                ref = paper_value(paper, paper_table, row, variant, metric)
                n = 0 if got is None else int(got["n"])
                records.append(
                    {
                        "table": name,
                        "row": row,
                        "label": row_cfg["label"],
                        "backbone": row_cfg.get("backbone", ""),
                        "dataset": spec["dataset"],
                        "method": method,
                        "variant": variant,
                        "evaluation": evaluation,
                        "metric": metric,
                        "n": n,
                        "n_expected": len(chosen),
                        "complete": n >= len(chosen),
                        "mean": float("nan") if got is None else got["mean"],
                        "std": float("nan") if got is None else got["std"],
                        "max": float("nan") if got is None else got["max"],
                        **{f"paper_{k}": ref.get(k, float("nan")) for k in ("mean", "std", "max")},
                    }
                )
    return pd.DataFrame.from_records(records)
