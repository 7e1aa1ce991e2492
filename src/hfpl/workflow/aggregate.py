"""Aggregation: every run's evaluator JSON -> per-cell statistics over seeds (pandas).

Run layout (:mod:`hfpl.workflow.layout`, docs/results.md)::

    RUNS/{dataset}/{method}/{variant}/seed{seed}/{step}/manifest.json
    RUNS/{dataset}/{method}/{variant}/seed{seed}/{step}/metrics/{evaluation}.json

A metrics file counts only if its step's ``manifest.json`` exists and records
``exit_status == 0`` (a crashed or unfinished step is not a result) and the step is *current*:
the one the current configuration produces (:mod:`hfpl.workflow.freshness`); stale runs are
reported, never averaged in. Per cell
(table, row, variant, evaluation, metric) over the table's seed set: ``mean``, ``std`` (sample
standard deviation, ddof=1, which is what the paper's "±" over five runs is), ``max`` and ``n``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from hfpl.workflow import layout
from hfpl.workflow.freshness import Expected, Freshness
from hfpl.workflow.schema import first_error, read_yaml

__all__ = [
    "METRICS",
    "ResultsError",
    "collect_runs",
    "counts",
    "deviation",
    "load_paper",
    "load_tables_config",
    "paper_value",
    "row_evaluations",
    "seed_set",
    "stale_runs",
    "study_runs",
    "summarize",
]

METRICS = ("J", "F", "JF")
RUN_COLUMNS = ["dataset", "method", "variant", "seed", "step", "evaluation", "metric", "value",
               "current", "reason", "smoke", "manifest"]  # fmt: skip
STATS = ("mean", "std", "max")
STATUSES = ("reproduced", "deviating", "not run")
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
    specs = [(kind, name, spec) for kind in ("tables", "figures")
             for name, spec in (cfg.get(kind) or {}).items()]  # fmt: skip
    if "chain" in cfg:
        specs.append(("chain", "", cfg["chain"]))
    for kind, name, spec in specs:
        for key in ("rows", "paper_rows"):
            unknown = [r for r in spec.get(key, []) if r not in cfg["rows"]]
            if unknown:
                raise ResultsError(
                    f"{path}: {'/'.join(filter(None, (kind, name)))}/{key}: unknown row "
                    f"{unknown[0]!r}; define it under the top-level `rows:`"
                )
    for step in (cfg.get("chain") or {}).get("steps", []):
        if "table" in step and step["table"] not in cfg["tables"]:
            raise ResultsError(
                f"{path}: chain/steps: unknown table {step['table']!r}; name one of `tables:`"
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


def collect_runs(runs_dir: Path, expected: Expected | None = None) -> pd.DataFrame:
    """All finished runs' metrics as a long frame with columns :data:`RUN_COLUMNS`.

    One row per (dataset, method, variant, seed, step, evaluation, metric); metrics of steps
    without a manifest or with a non-zero ``exit_status`` are left out. ``current`` is whether
    the step is the one the current configuration produces (:mod:`hfpl.workflow.freshness`;
    every finished step when ``expected`` is None), ``reason`` why not, ``smoke`` whether it
    was a smoke run, ``manifest`` the step's manifest path.
    """
    records = []
    runs_dir = Path(runs_dir)
    fresh = Freshness(runs_dir, expected, _read_json)
    for path in sorted(runs_dir.glob(layout.METRICS_GLOB)):
        try:
            run, evaluation = layout.parse_metrics(path.relative_to(runs_dir))
        except ValueError as err:
            raise ResultsError(f"{path}: {err}") from None
        manifest = fresh.manifest(run)
        if manifest is None or manifest.get("exit_status") != 0:
            continue
        reason = fresh.stale_reason(run)
        metrics = _read_json(path)
        where = layout.manifest(str(path.parent.parent))
        for metric in METRICS:
            if metric not in metrics:
                raise ResultsError(f"{path}: no {metric!r} key; is it an `hfpl eval` output?")
            records.append(
                (*run, evaluation, metric, metrics[metric], reason is None, reason or "",
                 fresh.smoke(run), where)
            )  # fmt: skip
    runs = _runs_frame(records)
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


def _runs_frame(records: list[tuple]) -> pd.DataFrame:
    """Records as a frame of :data:`RUN_COLUMNS` with the value/flag dtypes fixed, so that an
    empty frame concatenates with a full one without turning the flags into objects."""
    runs = pd.DataFrame.from_records(records, columns=RUN_COLUMNS)
    return runs.astype({"value": float, "current": bool, "smoke": bool})


def stale_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """One line per stale (dataset, method, variant, seed, step) with its reason and manifest."""
    cols = ["dataset", "method", "variant", "seed", "step", "reason", "manifest"]
    return runs.loc[~runs["current"], cols].drop_duplicates().reset_index(drop=True)


def seed_set(cfg: dict, spec: dict, seeds: int | None = None) -> list[int]:
    """The seeds a table/figure uses: its own, else the config's; ``seeds`` keeps the first N."""
    chosen = spec.get("seeds", cfg.get("seeds", [0, 1, 2, 3, 4]))
    return list(chosen if seeds is None else chosen[:seeds])


def cell_stats(runs: pd.DataFrame, seeds: list[int]) -> pd.DataFrame:
    """mean, std (ddof=1), max, n over the given seeds' *current* runs, indexed by
    :data:`KEYS`; plus ``seeds_run`` (the seeds, comma-separated) and ``smoke`` (any smoke)."""
    used = runs[runs["seed"].isin(seeds) & runs["current"]]
    return used.groupby(KEYS).agg(
        mean=("value", "mean"),
        std=("value", lambda v: v.std(ddof=1)),
        max=("value", "max"),
        n=("value", "count"),
        seeds_run=("seed", lambda s: ",".join(map(str, sorted(s)))),
        smoke=("smoke", "any"),
    )


def stale_counts(runs: pd.DataFrame, seeds: list[int]) -> pd.Series:
    """Stale runs per :data:`KEYS` over the given seeds (never averaged in)."""
    stale = runs[runs["seed"].isin(seeds) & ~runs["current"]]
    return stale.groupby(KEYS)["value"].count()


def final_protocol(methods: dict[str, Any], method: str, evaluation: str) -> str | None:
    """The evaluation the method's authors report where a table names ``evaluation`` (the
    method YAML's ``final_protocol: {<evaluation>: <protocol evaluation>}``), or None."""
    protocol = (methods.get(method) or {}).get("final_protocol") or {}
    chosen = protocol.get(evaluation)
    if chosen is None:
        return None
    declared = {
        ev
        for spec in methods[method].get("steps", {}).values()
        for ev in spec.get("evaluations", {})
    }
    if chosen not in declared or evaluation not in declared:
        missing = chosen if chosen not in declared else evaluation
        raise ResultsError(
            f"config/methods/{method}.yaml: final_protocol: {missing!r} is not an evaluation of "
            f"the method (it has {sorted(declared)}); fix the name"
        )
    return chosen


def row_evaluations(
    cfg: dict, spec: dict, row: str, methods: dict[str, Any]
) -> tuple[str, str | None]:
    """(evaluation a table/figure reads for ``row``, the one shown beside it or None).

    The table names an evaluation (``evaluation``, or ``evaluation_by_row``); when the row's
    method declares a ``final_protocol`` for it, the protocol's evaluation is read and the named
    one (e.g. the final without CRF) is shown beside it.
    """
    named = spec.get("evaluation_by_row", {}).get(row, spec["evaluation"])
    method = cfg["rows"][row].get("method", row)
    protocol = final_protocol(methods, method, named)
    return (named, None) if protocol is None else (protocol, named)


def deviation(
    mean: float, std: float, n: int, n_expected: int, paper: dict[str, float]
) -> tuple[float, str, str]:
    """(ours - paper, status, flag) of one cell.

    status: ``not run`` (n = 0), ``no paper number``, ``deviating`` when |ours - paper| > 2 x the
    larger std (ours, the paper's) or > 1 point where the paper gives no std, else
    ``reproduced``. flag: ``deviates`` and/or ``n/N seeds`` (fewer seeds than configured),
    joined by ``; `` (empty when neither).
    """
    ref = paper.get("mean", math.nan)
    flags = []
    if n == 0:
        return math.nan, "not run", ""
    if 0 < n < n_expected:
        flags.append(f"{n}/{n_expected} seeds")
    if math.isnan(ref):
        return math.nan, "no paper number", "; ".join(flags)
    delta = float(mean) - float(ref)
    if "std" in paper:
        ours = 0.0 if math.isnan(std) else float(std)
        tolerance = 2 * max(ours, float(paper["std"]))
    else:
        tolerance = 1.0
    status = "deviating" if abs(delta) > tolerance else "reproduced"
    if status == "deviating":
        flags.insert(0, "deviates")
    return delta, status, "; ".join(flags)


def summarize(
    runs: pd.DataFrame,
    cfg: dict,
    name: str,
    paper: dict,
    seeds: int | None = None,
    methods: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """One row per grid cell of table ``name`` with our statistics and the paper's numbers.

    Columns: table, row, label, backbone, dataset, method, variant, evaluation, metric, n,
    n_expected, complete, seeds_run, n_stale, smoke, mean, std, max, paper_mean, paper_std,
    paper_max, delta, status, flag, and the evaluation shown beside (``beside_evaluation``,
    ``beside_mean``, ``beside_std``, ``beside_n``: e.g. the final without CRF). ``methods``: the
    resolved method configs (their ``final_protocol``); None reads the named evaluations.
    """
    spec = cfg["tables"][name]
    chosen = seed_set(cfg, spec, seeds)
    stats = cell_stats(runs, chosen)
    stale = stale_counts(runs, chosen)
    paper_table = spec.get("paper", name)
    records = []
    for row in spec["rows"]:
        row_cfg = cfg["rows"][row]
        method = row_cfg.get("method", row)
        evaluation, beside = row_evaluations(cfg, spec, row, methods or {})
        for variant in spec["variants"]:
            for metric in spec["metrics"]:
                key = (spec["dataset"], method, variant, evaluation, metric)
                got = stats.loc[key] if key in stats.index else None
                ref = paper_value(paper, paper_table, row, variant, metric)
                n = 0 if got is None else int(got["n"])
                value = {k: math.nan if got is None else float(got[k]) for k in STATS}
                delta, status, flag = deviation(value["mean"], value["std"], n, len(chosen), ref)
                side_key = (spec["dataset"], method, variant, beside, metric)
                side = stats.loc[side_key] if side_key in stats.index else None
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
                        "seeds_run": "" if got is None else got["seeds_run"],
                        "n_stale": int(stale.get(key, 0)),
                        "smoke": False if got is None else bool(got["smoke"]),
                        **value,
                        **{f"paper_{k}": ref.get(k, math.nan) for k in STATS},
                        "delta": delta,
                        "status": status,
                        "flag": flag,
                        "beside_evaluation": beside or "",
                        "beside_mean": math.nan if side is None else float(side["mean"]),
                        "beside_std": math.nan if side is None else float(side["std"]),
                        "beside_n": 0 if side is None else int(side["n"]),
                    }
                )
    return pd.DataFrame.from_records(records)


def counts(summary: pd.DataFrame) -> dict[str, int]:
    """Cells per status (``reproduced``, ``deviating``, ``not run``; cells without a paper
    number are not counted) and how many of them ran fewer seeds than configured."""
    with_paper = summary[summary["status"] != "no paper number"]
    out = {s: int((with_paper["status"] == s).sum()) for s in STATUSES}
    out["fewer seeds"] = int(((with_paper["n"] > 0) & ~with_paper["complete"]).sum())
    return out


def study_runs(path: Path) -> pd.DataFrame:
    """A study's metrics JSON (e.g. ``hfpl study fsl-mu-sigma --out``) as current runs.

    The file: ``{"dataset", "method", "evaluation", "smoke": bool, "records": [{"variant",
    "seed", "J", "F", "JF"}, ...]}``; the study's own rule makes it from the current config.
    """
    data = _read_json(Path(path))
    try:
        records = [
            (data["dataset"], data["method"], r["variant"], int(r.get("seed", 0)), "study",
             data["evaluation"], metric, float(r[metric]), True, "", bool(data.get("smoke")),
             str(path))
            for r in data["records"]
            for metric in METRICS
        ]  # fmt: skip
    except (KeyError, TypeError, ValueError) as err:
        raise ResultsError(f"{path}: not a study metrics file ({err}); rerun the study") from None
    return _runs_frame(records)
