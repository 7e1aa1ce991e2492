"""hfpl.workflow.templates: the placeholder vocabulary, its checks and rendering."""

from __future__ import annotations

import pytest

from hfpl.workflow import templates


def test_fields() -> None:
    assert templates.fields("{checkout[A]}/x {seed}") == (("checkout", "A"), ("seed", None))
    for bad in ("{seed:03d}", "{a.b}", "{step_dir[a}"):
        with pytest.raises(ValueError):
            templates.fields(bad)


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{lists}/voc12/train.txt", None),
        ("{run_dir}/{param[lo]}", None),
        ("{rundir}", "unknown placeholder {rundir}"),
        ("{checkout[B]}", "{checkout[B]} names no repo (repos: ['A'])"),
        ("{step_dir[later]}", "{step_dir[later]} must name an earlier step"),
        ("{param[hi]}", "{param[hi]} is not defined in variant_params (defined: ['lo'])"),
        ("--x={hfpl_flags}", "{hfpl_flags} must be a whole argv item on its own"),
        ("{seed:02d}", "may not use '.', '!' or ':'"),
    ],
)
def test_check(template: str, problem: str | None) -> None:
    found = templates.check(template, ["A"], ["earlier"], ["lo"])
    assert found == [] if problem is None else problem in found[0]


def test_references_and_render_argv() -> None:
    argv = ["{checkout[A]}/t.py", "{step_dir[s]}/x", templates.FLAGS, "{param[lo]}"]
    assert templates.references(argv, "checkout") == {"A"}
    assert templates.references(argv, "step_dir") == {"s"}
    values = {"checkout": {"A": "/c"}, "step_dir": {"s": "/r/s"}, "param": {"lo": "4"}}
    flags = ["--hfpl-isl-weight", "0.2"]
    assert templates.render_argv(argv, values, flags) == ["/c/t.py", "/r/s/x", *flags, "4"]
    assert templates.render_argv(argv, values, []) == ["/c/t.py", "/r/s/x", "4"]
