"""Where working-set measurements are kept: a cache directory another user can plant in (issue 13 item 3)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from memtop.collectors.models import WorkingSet
from memtop.state.working_sets import load, remember, save
from tests.hangs import call_or_release

MEASURED = WorkingSet(pid=42, starttime=7, name="train.py", window=5.0, time=1000.0, referenced=1 << 20, rss=2 << 20,
                      anon_huge=0, available=None)


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    folder = tmp_path / "cache" / "memtop"
    folder.mkdir(parents=True, mode=0o700)
    return folder


def test_kept_and_read_back(cache: Path) -> None:
    remember(MEASURED, cache / "working-sets.json")
    assert load(cache / "working-sets.json") == (MEASURED,)
    assert (cache / "working-sets.json").stat().st_mode & 0o777 == 0o600


def test_a_planted_temporary_link_does_not_redirect_the_write(cache: Path, tmp_path: Path) -> None:
    # The old name was working-sets.<pid>.tmp, written through: a link there made --wss overwrite its target.
    victim = tmp_path / "root-owned"
    victim.write_text("precious")
    for pid in {os.getpid(), *range(1, 100)}:
        (cache / f"working-sets.{pid}.tmp").symlink_to(victim)
    save([MEASURED], cache / "working-sets.json")
    assert victim.read_text() == "precious"
    assert load(cache / "working-sets.json") == (MEASURED,)


def test_a_fifo_in_place_of_the_store_is_refused_at_once(cache: Path) -> None:
    store = cache / "working-sets.json"
    os.mkfifo(store)
    assert call_or_release(lambda: load(store), [store]) == ()


def test_a_link_in_place_of_the_store_is_not_followed(cache: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    remember(MEASURED, cache / "working-sets.json")
    (cache / "working-sets.json").rename(elsewhere)
    (cache / "working-sets.json").symlink_to(elsewhere)
    assert load(cache / "working-sets.json") == ()


def test_a_directory_others_may_write_is_neither_read_nor_written(cache: Path) -> None:
    remember(MEASURED, cache / "working-sets.json")
    cache.chmod(0o777)
    assert load(cache / "working-sets.json") == ()
    save([], cache / "working-sets.json")
    cache.chmod(0o700)
    assert load(cache / "working-sets.json") == (MEASURED,)  # the refused save wrote nothing
