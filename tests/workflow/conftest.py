"""Shared fixtures of the workflow tests."""

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import fixture_project  # noqa: E402


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """A copy of the fixture method, patches and config override in ``tmp_path`` (the cwd)."""
    ignore = shutil.ignore_patterns("upstream", "*.py*")
    shutil.copytree(fixture_project.HERE, tmp_path / "fixture", ignore=ignore)
    monkeypatch.chdir(tmp_path)
    return tmp_path
