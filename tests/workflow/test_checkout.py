"""Pinned, patched, read-only checkouts against the fixture's local upstream repos."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import fixture_project
import git
import pytest

from hfpl.workflow.checkout import CheckoutError, checkout, remove_tree

PATCHES = fixture_project.HERE / "patches" / "cam-net"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("upstream")
    pins = fixture_project.build_upstream(root)
    return root / "hfpl-fixture" / "cam-net", pins["cam-net"]


def test_checkout_pins_patches_and_freezes(upstream, tmp_path) -> None:
    url, pin = upstream
    dest, marker = tmp_path / "tree", tmp_path / "tree.json"
    patches = sorted(PATCHES.glob("*.patch"))
    info = checkout(str(url), pin, patches, dest, marker, sparse_exclude=["/README.md"])
    assert git.Repo(dest).head.commit.hexsha == pin != git.Repo(url).head.commit.hexsha
    script = (dest / "make_cams.py").read_text()
    assert "--hfpl-isl-weight" in script and "fixture HEAD" not in script
    assert not (dest / "README.md").exists()  # sparse exclude
    assert not os.stat(dest / "make_cams.py").st_mode & (stat.S_IWUSR | stat.S_IWGRP)
    assert json.loads(marker.read_text()) == info
    assert info["patches"][0]["name"] == patches[0].name and len(info["patches"][0]["sha256"]) == 64
    assert not list(tmp_path.glob(".*tmp*"))
    remove_tree(dest)
    assert not dest.exists()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("url", "cannot clone"),
        ("commit", "not found in"),
        ("patch", "patch 0001-bad.patch does not apply to"),
    ],
)
def test_checkout_errors_leave_nothing(upstream, tmp_path, case, message) -> None:
    url, pin = upstream
    patches = sorted(PATCHES.glob("*.patch"))
    if case == "url":
        url = tmp_path / "missing"
    elif case == "commit":
        pin = "0" * 40
    else:
        bad = tmp_path / "0001-bad.patch"
        bad.write_text(patches[0].read_text().replace("-noise = 1.5", "-noise = 7"))
        patches = [bad]
    dest, marker = tmp_path / "out" / "tree", tmp_path / "out" / "tree.json"
    with pytest.raises(CheckoutError, match=message) as err:
        checkout(str(url), pin, patches, dest, marker)
    assert "\n" not in str(err.value)
    if case == "patch":
        assert "file make_cams.py, hunk @@ -11,10 +11,13 @@" in str(err.value)
    assert not list((tmp_path / "out").iterdir())
