"""hfpl.workflow.repos: the tree key changes exactly when the patched tree would."""

from __future__ import annotations

from pathlib import Path

import pytest

from hfpl.workflow.repos import method_repos, tree_key
from hfpl.workflow.schema import ConfigError


def _series(folder: Path, **patches: str) -> tuple[Path, ...]:
    folder.mkdir(exist_ok=True)
    for name, text in patches.items():
        (folder / f"{name}.patch").write_text(text)
    return tuple(sorted(folder.glob("*.patch")))


def test_tree_key_follows_names_contents_and_excludes(tmp_path: Path) -> None:
    series = _series(tmp_path / "a", **{"0001-x": "one", "0002-y": "two"})
    key = tree_key(series, ())
    assert len(key) == 16 and key == tree_key(series, ())
    assert tree_key(series, ("/docs/",)) != key
    assert tree_key(_series(tmp_path / "b", **{"0001-x": "one", "0002-y": "TWO"}), ()) != key
    assert tree_key(_series(tmp_path / "c", **{"0001-x": "one", "0002-z": "two"}), ()) != key
    assert tree_key((), ()) != key


def test_method_repos_url_from_template_and_patch_order(tmp_path: Path) -> None:
    series = tmp_path / "patches"
    _series(series, **{"0002-b": "2", "0001-a": "1"})
    doc = {"repos": {"R": {"owner": "o", "name": "n", "commit": "a" * 40, "patches": str(series)}}}
    repo = method_repos(doc, Path("m.yaml"), "https://example.org/{owner}/{name}.git")["R"]
    assert repo.url == "https://example.org/o/n.git"
    assert [p.name for p in repo.patches] == ["0001-a.patch", "0002-b.patch"]
    assert repo.checkout_id == f"o/n/{'a' * 40}-{repo.tree_key}"


def test_empty_patch_folder_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    doc = {"repos": {"R": {"owner": "o", "name": "n", "commit": "a" * 40,
                           "patches": str(tmp_path / "empty")}}}  # fmt: skip
    with pytest.raises(ConfigError, match="no \\*.patch files"):
        method_repos(doc, Path("m.yaml"), "{owner}/{name}")
