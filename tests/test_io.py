"""hfpl.io: atomic outputs leave nothing that looks done on failure; digests are sha256."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from hfpl.io import building_dir, building_file, sha256_file, write_json_atomic, write_text_atomic


def _entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_building_dir_replaces_dest_only_on_success(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "old.txt").write_text("old")
    with building_dir(dest) as tmp:
        (tmp / "new.txt").write_text("new")
        assert _entries(dest) == ["old.txt"]  # the old tree stays until the new one is complete
    assert _entries(dest) == ["new.txt"]
    with pytest.raises(RuntimeError), building_dir(dest) as tmp:
        (tmp / "half.txt").write_text("x")
        raise RuntimeError("killed")
    assert _entries(dest) == ["new.txt"] and _entries(tmp_path) == ["out"]


def test_building_file_leaves_no_partial_file(tmp_path: Path) -> None:
    dest = tmp_path / "sub" / "a.json"
    with pytest.raises(ValueError), building_file(dest) as tmp:
        tmp.write_text("{")
        raise ValueError("interrupted")
    assert not dest.exists() and _entries(dest.parent) == []
    write_json_atomic(dest, {"b": 1, "a": [1, 2]})
    assert dest.read_text().endswith("\n") and json.loads(dest.read_text()) == {"a": [1, 2], "b": 1}
    assert dest.read_text().index('"a"') < dest.read_text().index('"b"')  # sorted keys
    write_text_atomic(dest, "x")
    assert dest.read_text() == "x" and _entries(dest.parent) == ["a.json"]


def test_sha256_file_matches_hashlib_across_blocks(tmp_path: Path) -> None:
    data = bytes(range(256)) * 9000  # > 2 MiB: several 1 MiB blocks
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
