"""Pictures of the dashboard over a fixture-built recording (no clock, host or live data; local time is UTC).

Regenerate with `pytest tests/snapshots/test_replay_snapshots.py --snapshot-update` after reading snapshot_report.html.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.test_replay import replay_app, utc  # noqa: F401  (utc: the fixture, local time is UTC)


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
def test_replay_screen(snap_compare, size: tuple[int, int], tmp_path: Path, utc: None) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(replay_app(tmp_path, at=9), terminal_size=size)


def test_replay_kills(snap_compare, tmp_path: Path, utc: None) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(replay_app(tmp_path, at=9), terminal_size=(120, 40), press=["O"])
