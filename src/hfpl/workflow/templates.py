"""Placeholders in a method's argv/cwd/env/input templates.

A template is a plain ``str.format`` string over a fixed vocabulary (``config/methods/README.md``):
``{python}``, ``{run_dir}``, ``{data_root}``, ``{lists}`` (the method's list files,
``{data_root}/lists/<method>``), ``{weights_dir}``, ``{seed}``, ``{dataset}``,
``{method}``, ``{variant}``, ``{step}``, ``{checkout[KEY]}``, ``{step_dir[STEP]}`` and
``{param[NAME]}`` (the method's ``variant_params`` for the run's variant); an argv item that is
exactly ``{hfpl_flags}`` is replaced by the variant's flags (zero or more items).
Commands stay lists: a value is never split or passed through a shell.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Iterable, Mapping
from typing import Any

FLAGS = "{hfpl_flags}"
SCALARS = frozenset(
    {
        "python",
        "run_dir",
        "data_root",
        "lists",
        "weights_dir",
        "seed",
        "dataset",
        "method",
        "variant",
        "step",
    }
)
INDEXED = frozenset({"checkout", "step_dir", "param"})

_FORMATTER = string.Formatter()


@functools.lru_cache(maxsize=4096)
def fields(template: str) -> tuple[tuple[str, str | None], ...]:
    """The placeholders of ``template`` as ``(name, key)``, e.g. ``("checkout", "A")``.

    Raises ``ValueError`` for malformed braces, attribute access or format specs. Cached: the
    DAG asks for the same few templates once per job (thousands of times).
    """
    out: list[tuple[str, str | None]] = []
    for _text, field, spec, conversion in _FORMATTER.parse(template):
        if field is None:
            continue
        if spec or conversion or "." in field:
            raise ValueError(f"placeholder {{{field}}} may not use '.', '!' or ':'")
        name, _, rest = field.partition("[")
        key = rest[:-1] if rest.endswith("]") else None
        if rest and key is None or "[" in (key or ""):
            raise ValueError(f"malformed placeholder {{{field}}}")
        out.append((name, key))
    return tuple(out)


def check(
    template: str, repos: Iterable[str], earlier_steps: Iterable[str], params: Iterable[str] = ()
) -> list[str]:
    """Problems of one template (empty list if fine): unknown names, repos, later steps or
    ``{param[NAME]}`` names that no ``variant_params`` entry defines (``params``)."""
    repos, earlier, params = set(repos), set(earlier_steps), set(params)
    if template == FLAGS:
        return []
    try:
        found = fields(template)
    except ValueError as err:
        return [str(err)]
    problems = []
    for name, key in found:
        if name == "hfpl_flags":
            problems.append("{hfpl_flags} must be a whole argv item on its own")
        elif name in SCALARS and key is None:
            continue
        elif name == "checkout" and key is not None:
            if key not in repos:
                problems.append(f"{{checkout[{key}]}} names no repo (repos: {sorted(repos)})")
        elif name == "step_dir" and key is not None:
            if key not in earlier:
                problems.append(
                    f"{{step_dir[{key}]}} must name an earlier step (earlier: {sorted(earlier)})"
                )
        elif name == "param" and key is not None:
            if key not in params:
                problems.append(
                    f"{{param[{key}]}} is not defined in variant_params (defined: {sorted(params)})"
                )
        else:
            known = sorted(SCALARS) + [f"{n}[...]" for n in sorted(INDEXED)] + ["hfpl_flags"]
            problems.append(f"unknown placeholder {{{name}}} (known: {', '.join(known)})")
    return problems


def references(templates: Iterable[str], name: str) -> set[str]:
    """Keys used with the indexed placeholder ``name`` (``checkout``, ``step_dir``, ``param``)."""
    return {
        key
        for t in templates
        if t != FLAGS
        for n, key in fields(t)
        if n == name and key is not None
    }


def render(template: str, values: Mapping[str, Any]) -> str:
    """Fill one template; ``values`` holds the scalars and the ``checkout``/``step_dir``/``param``
    dicts."""
    return template.format_map(values)


def render_argv(templates: list[str], values: Mapping[str, Any], flags: list[str]) -> list[str]:
    """Fill an argv template list, splicing ``flags`` where the item ``{hfpl_flags}`` stands."""
    argv: list[str] = []
    for item in templates:
        if item == FLAGS:
            argv.extend(flags)
        else:
            argv.append(render(item, values))
    return argv
