"""Pictures of the main screen (pytest-textual-snapshot), on fixture data only.

Nothing on screen depends on the clock or this host: the snapshot comes from a
capture with clock 0, no collector runs, memtop's own CPU/RSS are not shown.
Regenerate with `pytest tests/test_snapshots.py --snapshot-update` after
reading snapshot_report.html.
"""

from __future__ import annotations

import pytest

from memtop.tui.app import MemtopApp

from tests.conftest import new_app
from tests.dashboard_fixtures import made


def make_app() -> MemtopApp:
    return new_app(made())


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
def test_main_screen(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(), terminal_size=size)


def test_tree_view(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(), terminal_size=(160, 45), press=["t"])


def test_help(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(), terminal_size=(120, 40), press=["question_mark"])
