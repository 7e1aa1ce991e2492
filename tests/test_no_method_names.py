"""The generic code knows no baseline by name (issue 9: one YAML + one patch folder per baseline).

A baseline's name may appear in ``src/hfpl`` only as prose: docstrings, comments, and string
literals that read as sentences (help texts, error messages). As code it may not: identifiers
(names, attributes, functions, classes, arguments), and string literals that act as data (no
whitespace, e.g. a path or a registry key; or any literal used as a dict key, subscript or
comparison operand). Method facts belong in ``config/methods/<method>.yaml``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "hfpl"
# the baselines of the paper's tables, as words of an identifier or a path
BASELINES = re.compile(r"(?<![a-z0-9])(seam|sipe|pmm|mctformer|sbce|spatial[-_ ]?bce)(?![a-z0-9])")


def _words(text: str) -> str:
    """Identifier or literal with CamelCase split, lowercased (``SeamNet`` -> ``seam_net``)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower()


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the Constant nodes that are docstrings (module, class, function)."""
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.add(id(value))
    return found


def _data_positions(tree: ast.AST) -> set[int]:
    """ids of string Constants used as dict keys, subscripts or comparison operands."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            found |= {id(k) for k in node.keys if k is not None}
        elif isinstance(node, ast.Subscript):
            found.add(id(node.slice))
        elif isinstance(node, ast.Compare):
            found |= {id(n) for n in [node.left, *node.comparators]}
    return found


def method_names_as_code(source: str) -> list[tuple[int, str]]:
    """``(line, text)`` of every use of a baseline's name as code in ``source``."""
    tree = ast.parse(source)
    docstrings, data = _docstrings(tree), _data_positions(tree)
    hits = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Name):
            names = [node.id]
        elif isinstance(node, ast.Attribute):
            names = [node.attr]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, ast.arg):
            names = [node.arg]
        elif isinstance(node, ast.alias):
            names = [node.name, node.asname or ""]
        elif isinstance(node, ast.keyword) and node.arg:
            names = [node.arg]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings:
                continue
            prose = bool(re.search(r"\s", node.value.strip())) and id(node) not in data
            if not prose:
                names = [node.value]
        hits += [(getattr(node, "lineno", 0), n) for n in names if BASELINES.search(_words(n))]
    return hits


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("SEAM_DIR = 1", ["SEAM_DIR"]),
        ("def sbce_net(): pass", ["sbce_net"]),
        ("x = {'mctformer': 1}", ["mctformer"]),
        ("x = 'lists/seam/voc12'", ["lists/seam/voc12"]),
        ("x = {'the SEAM layout': 1}", ["the SEAM layout"]),
        ("if m == 'spatial-bce': pass", ["spatial-bce"]),
        ("class PmmReader: pass", ["PmmReader"]),
        ("import hfpl.sipe as s", ["hfpl.sipe"]),
        ('"""SEAM\'s loader."""\nx = 1', []),
        ("raise ValueError('upstream SEAM cuts names at fixed offsets')", []),
        ("x = 1  # as SEAM does", []),
        ("seamless = 'disseminate'", []),
    ],
)
def test_detector(source: str, expected: list[str]) -> None:
    assert [text for _, text in method_names_as_code(source)] == expected


def test_src_names_no_baseline_as_code() -> None:
    hits = [
        f"{path.relative_to(SRC.parents[1])}:{line}: {text!r}"
        for path in sorted(SRC.rglob("*.py"))
        for line, text in method_names_as_code(path.read_text())
    ]
    assert not hits, (
        "baseline names used as code in src/hfpl (move the fact into config/methods/<m>.yaml "
        "or name the thing by what it is):\n" + "\n".join(hits)
    )
