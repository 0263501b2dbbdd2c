"""Pictures of issue 18's screens: the setup screen (F2) and the sorted column's marker at 80x24 and 160x45.

Fixture data only (no clock, host or live figures), as the other snapshots.
Regenerate with --snapshot-update after reading snapshot_report.html.
"""

from __future__ import annotations

import pytest

from tests.conftest import new_app
from tests.dashboard_fixtures import made


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
def test_sort_marker_on_uss_smallest_first(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    # > moves the sort from PSS to USS, I flips it: the header says ▲USS.
    assert snap_compare(new_app(made()), terminal_size=size, press=["greater_than_sign", "I"])


def test_setup_screen(snap_compare) -> None:  # type: ignore[no-untyped-def]
    # F2, NAME taken in (End, space) and moved up (F7): the list and the preview below.
    assert snap_compare(new_app(made()), terminal_size=(120, 40), press=["f2", "end", "space", "f7"])
