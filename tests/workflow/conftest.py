"""Markers of the workflow tests that pyproject.toml does not register (--strict-markers)."""


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers",
        "slurm: brings up a single-node SLURM cluster (root + apt); skipped where it cannot",
    )
