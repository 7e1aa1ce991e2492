"""Shared fixtures of the workflow tests."""

import shutil
from pathlib import Path

import fixture_project
import pytest


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """A copy of the fixture method, patches and config override in ``tmp_path`` (the cwd)."""
    ignore = shutil.ignore_patterns("upstream", "*.py*")
    shutil.copytree(fixture_project.HERE, tmp_path / "fixture", ignore=ignore)
    monkeypatch.chdir(tmp_path)
    return tmp_path
