"""Shared fixtures: where the fixture trees are, and a deterministic hypothesis profile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Deterministic property tests: the same examples on every run, nothing written
# to .hypothesis/, no flaky deadlines on a loaded CI machine.
settings.register_profile(
    "memtop",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("memtop")

TESTS = Path(__file__).resolve().parent
HOSTS = TESTS / "fixtures" / "hosts"


def upstream_dir() -> Path | None:
    """shared/fixtures/upstream beside the clone, else $MEMTOP_UPSTREAM_FIXTURES, else None."""
    candidate = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "upstream"
    if candidate.is_dir():
        return candidate
    env = os.environ.get("MEMTOP_UPSTREAM_FIXTURES")
    if env and Path(env).is_dir():
        return Path(env)
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/live/ is marked ``live`` (``-m "not live"`` runs the rest)."""
    live = TESTS / "live"
    for item in items:
        if live in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.live)


@pytest.fixture(scope="session")
def upstream() -> Path:
    """The upstream /proc fixture scenarios (skips the test when they are absent)."""
    found = upstream_dir()
    if found is None:
        pytest.skip("upstream fixtures not found: no ../shared/fixtures/upstream and no $MEMTOP_UPSTREAM_FIXTURES")
    return found


@pytest.fixture(scope="session")
def hosts() -> Path:
    """The hand-made fixture trees of tests/fixtures/hosts."""
    assert HOSTS.is_dir(), HOSTS
    return HOSTS
