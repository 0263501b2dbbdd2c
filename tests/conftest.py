"""Shared fixtures: where the fixture trees are, a deterministic hypothesis profile, the app factory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, settings

from memtop.collectors.models import Snapshot
from memtop.state.heap_sources import HeapSources
from memtop.state.maps_source import MapsSource
from memtop.state.model import MemtopModel
from memtop.state.monitor import Monitor
from memtop.state.options import StartOptions

if TYPE_CHECKING:  # the collector and parser tests never import textual
    from memtop.tui.app import MemtopApp

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


@pytest.fixture(autouse=True)
def _state_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing a test runs writes in the user's state directory (a failed pass's log): each test has its own."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


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


def new_app(snapshot: Snapshot | None = None, *, heap: HeapSources | None = None, maps_source: MapsSource | None = None,
             monitor: Monitor | None = None, model: MemtopModel | None = None, **options: Any) -> MemtopApp:
    """The dashboard on fixture data: nothing collected (tests post readings), ``snapshot`` shown first.

    ``options``: StartOptions fields (pid, sort, interval...); ``heap``: the
    model's heap sources; ``maps_source``: how the process screen reads a
    process; ``monitor``: a scripted collection (its model is the app's);
    ``model``: one fed before (a replay).
    """
    from memtop.tui.app import MemtopApp

    if model is None:
        model = monitor.model if monitor is not None else MemtopModel(StartOptions(**options), heap=heap)
    return MemtopApp(model, monitor, snapshot=snapshot, maps_source=maps_source)
