"""The heap counter file reader: format, validation against /proc, stale files."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memtop.collectors.errors import ParseError
from memtop.collectors.heap_shm import FILE_SIZE, HeapFiles, parse_heap

MIB = 1 << 20


def counter_file(pid: int, starttime: int, slots: list[tuple[int, int, int]], *, peak: int = 0, magic: bytes = b"MEMTHEAP",
                 version: int = 1, flags: int = 0) -> bytes:
    """A file as heapcount.c writes it (the layout in collectors/heap_shm.py and heapcount.c)."""
    data = bytearray(FILE_SIZE)
    struct.pack_into("<8sIIIIQQII", data, 0, magic, version, 1, pid, 255, starttime, peak, len(slots), flags)
    for index, (live, nalloc, nfree) in enumerate(slots):
        struct.pack_into("<qQQ", data, 64 + 64 * index, live, nalloc, nfree)
    return bytes(data)


def own_starttime() -> int:
    stat = Path("/proc/self/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[19])


def test_the_heap_is_the_sum_of_the_slots() -> None:
    counters = parse_heap(counter_file(42, 7, [(10 * MIB, 100, 0), (-3 * MIB, 0, 40), (1 * MIB, 5, 5)], peak=12 * MIB))
    assert (counters.pid, counters.starttime, counters.source) == (42, 7, "preload")
    assert counters.in_use == 8 * MIB and counters.peak == 12 * MIB
    assert (counters.allocs, counters.frees) == (105, 45) and counters.inherit


def test_a_negative_sum_reads_as_zero_and_unused_slots_are_not_read() -> None:
    data = bytearray(counter_file(1, 1, [(-5, 0, 1)], flags=1))
    struct.pack_into("<qQQ", data, 64 + 64 * 7, 999 * MIB, 1, 0)  # beyond used_slots
    counters = parse_heap(bytes(data))
    assert counters.in_use == 0 and not counters.inherit and counters.peak is None


@pytest.mark.parametrize("data, why", [
    (b"MEMT", "shorter"),
    (counter_file(1, 1, [], magic=b"NOTHEAP!"), "magic"),
    (counter_file(1, 1, [], version=2), "version 2"),
])
def test_what_is_not_a_counter_file(data: bytes, why: str) -> None:
    with pytest.raises(ParseError, match=why):
        parse_heap(data)


@given(st.binary(max_size=FILE_SIZE + 10))
def test_parse_heap_raises_only_parse_error(data: bytes) -> None:
    try:
        counters = parse_heap(data)
    except ParseError:
        return
    assert counters.in_use is None or counters.in_use >= 0


def test_files_are_read_only_for_the_process_they_name(tmp_path: Path) -> None:
    me, start = os.getpid(), own_starttime()
    (tmp_path / f"memtop-heap.{me}").write_bytes(counter_file(me, start, [(5 * MIB, 9, 4)]))
    (tmp_path / "memtop-heap.notapid").write_bytes(b"x")
    (tmp_path / "unrelated").write_bytes(b"x")
    files = HeapFiles(tmp_path)
    found = files.read(lambda: {me: (start, os.getuid())})
    assert list(found) == [me] and found[me].in_use == 5 * MIB
    # The 10 Hz path re-reads the mapped file.
    (tmp_path / f"memtop-heap.{me}").write_bytes(counter_file(me, start, [(6 * MIB, 10, 4)]))
    sample = files.sample(me)
    assert sample is not None and sample.in_use == 6 * MIB
    files.close()


def test_a_file_naming_another_pid_or_another_start_is_refused(tmp_path: Path) -> None:
    me, start = os.getpid(), own_starttime()
    path = tmp_path / f"memtop-heap.{me}"
    path.write_bytes(counter_file(me + 1, start, [(5 * MIB, 1, 0)]))  # header says another pid
    assert HeapFiles(tmp_path).read(lambda: {me: (start, os.getuid())}) == {}
    assert path.exists()
    path.write_bytes(counter_file(me, start - 1, [(5 * MIB, 1, 0)]))  # an earlier process with this pid
    assert HeapFiles(tmp_path).read(lambda: {me: (start, os.getuid())}) == {}
    assert not path.exists()  # stale: swept


def test_stale_files_of_dead_processes_are_swept(tmp_path: Path) -> None:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead = int(child.stdout)
    path = tmp_path / f"memtop-heap.{dead}"
    path.write_bytes(counter_file(dead, 1, [(MIB, 1, 0)]))
    assert HeapFiles(tmp_path).read(lambda: {}) == {}
    assert not path.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another user")
def test_nobody_can_plant_numbers_for_someone_else(tmp_path: Path) -> None:
    me, start = os.getpid(), own_starttime()
    path = tmp_path / f"memtop-heap.{me}"
    path.write_bytes(counter_file(me, start, [(5 * MIB, 1, 0)]))
    os.chown(path, 54321, 54321)  # a file of another user, for our root-owned process
    assert HeapFiles(tmp_path).read(lambda: {me: (start, 0)}) == {}
    assert HeapFiles(tmp_path).read(lambda: {me: (start, 54321)}) != {}  # the same user's file counts


def test_no_directory_no_heaps(tmp_path: Path) -> None:
    assert HeapFiles(tmp_path / "missing").read(lambda: {}) == {}


def test_a_file_renamed_over_the_old_one_is_followed(tmp_path: Path) -> None:
    # heapcount.c replaces a file by rename (never truncating one a reader has mapped).
    me, start = os.getpid(), own_starttime()
    path = tmp_path / f"memtop-heap.{me}"
    path.write_bytes(counter_file(me, start, [(5 * MIB, 1, 0)]))
    files = HeapFiles(tmp_path)
    assert files.read(lambda: {me: (start, os.getuid())})[me].in_use == 5 * MIB
    fresh = tmp_path / f".memtop-heap.{me}.tmp"
    fresh.write_bytes(counter_file(me, start, [(7 * MIB, 1, 0)]))
    fresh.rename(path)
    assert files.sample(me) is None  # the mapping shows the old file: not used
    assert files.read(lambda: {me: (start, os.getuid())})[me].in_use == 7 * MIB
    sample = files.sample(me)
    assert sample is not None and sample.in_use == 7 * MIB
    files.close()


def test_half_written_files_of_dead_processes_are_swept(tmp_path: Path) -> None:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead = int(child.stdout)
    stale = tmp_path / f".memtop-heap.{dead}.Ab12Cd"
    alive = tmp_path / f".memtop-heap.{os.getpid()}.Ef34Gh"
    stale.write_bytes(b"x")
    alive.write_bytes(b"x")
    HeapFiles(tmp_path).read(lambda: {})
    assert not stale.exists() and alive.exists()
