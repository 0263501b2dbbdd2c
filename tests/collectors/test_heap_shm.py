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
from memtop.collectors.heap_shm import FILE_SIZE, HeapFiles, in_initial_pid_namespace, parse_heap
from tests.hangs import call_or_release

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


# A reader that meets a truncated file runs in a child: before issue 13 it died of SIGBUS
# (the file was mapped at its old length), which would have killed the test run itself.
TRUNCATED_READER = """
import os, sys, threading
from pathlib import Path
from memtop.collectors.heap_shm import HeapFiles
from tests.collectors.test_heap_shm import counter_file, own_starttime
folder, me, start = Path(sys.argv[1]), os.getpid(), own_starttime()
path = folder / f"memtop-heap.{me}"
whole = counter_file(me, start, [(5 << 20, 1, 0)])
path.write_bytes(whole)
files = HeapFiles(folder)
assert files.read(lambda: {me: (start, os.getuid())})[me].in_use == 5 << 20
os.truncate(path, 100)  # its owner cuts it while memtop holds it
assert files.sample(me) is None, "a truncated file gave a figure"
assert files.read(lambda: {me: (start, os.getuid())}) == {}
print(files.refused[me])
# And while a reader polls: truncated and rewritten in place, over and over.
path.write_bytes(whole)
files.read(lambda: {me: (start, os.getuid())})
stop = threading.Event()
def cut():
    while not stop.is_set():
        os.truncate(path, 0)
        with open(path, "r+b") as out:
            out.write(whole)
writer = threading.Thread(target=cut)
writer.start()
for _ in range(3000):
    files.sample(me)
    files.read(lambda: {me: (start, os.getuid())})
stop.set()
writer.join()
"""


def test_a_file_truncated_while_read_gives_no_figure_and_no_sigbus(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    child = subprocess.run([sys.executable, "-c", TRUNCATED_READER, str(tmp_path)], capture_output=True, text=True,
                           timeout=120, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert child.returncode == 0, f"exit {child.returncode}: {child.stderr[-2000:]}"
    assert "100 bytes, not 16384 (truncated" in child.stdout


def test_a_fifo_under_the_counter_name_is_refused_at_once(tmp_path: Path) -> None:
    # `sleep 600 & mkfifo /dev/shm/memtop-heap.$!` hung every mode of memtop before issue 13.
    me, start = os.getpid(), own_starttime()
    fifo = tmp_path / f"memtop-heap.{me}"
    os.mkfifo(fifo)
    files = HeapFiles(tmp_path)
    assert call_or_release(lambda: files.read(lambda: {me: (start, os.getuid())}), [fifo]) == {}
    assert "a FIFO, not a regular file" in files.refused[me]


def test_a_link_or_a_file_others_may_write_is_refused(tmp_path: Path) -> None:
    me, start = os.getpid(), own_starttime()
    real = tmp_path / "elsewhere"
    real.write_bytes(counter_file(me, start, [(5 * MIB, 1, 0)]))
    (tmp_path / f"memtop-heap.{me}").symlink_to(real)
    files = HeapFiles(tmp_path)
    assert files.read(lambda: {me: (start, os.getuid())}) == {}
    assert "symbolic link" in files.refused[me]
    (tmp_path / f"memtop-heap.{me}").unlink()
    real.rename(tmp_path / f"memtop-heap.{me}")
    (tmp_path / f"memtop-heap.{me}").chmod(0o666)
    assert files.read(lambda: {me: (start, os.getuid())}) == {}
    assert "lets others write it" in files.refused[me]


def test_a_heap_beyond_any_address_space_is_not_a_figure(tmp_path: Path) -> None:
    me, start = os.getpid(), own_starttime()
    (tmp_path / f"memtop-heap.{me}").write_bytes(counter_file(me, start, [(1 << 62, 1, 0)]))
    files = HeapFiles(tmp_path)
    assert files.read(lambda: {me: (start, os.getuid())}) == {}
    assert "more than an address space holds" in files.refused[me]


@pytest.mark.live
def test_a_refused_file_is_said_in_the_snapshots_notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from memtop.collectors.paths import HostPaths
    from memtop.collectors.snapshot import Collector, Options

    me = os.getpid()
    fifo = tmp_path / f"memtop-heap.{me}"
    os.mkfifo(fifo)
    monkeypatch.setenv("MEMTOP_HEAP_DIR", str(tmp_path))
    collector = Collector(HostPaths(), Options(pids=(me,)))
    snap = call_or_release(lambda: collector.collect(thp=False, cgroups=False, container=False), [fifo])
    assert snap.heaps == ()
    assert any(n.startswith(f"no heap figure for pid {me}: ") and "a FIFO" in n for n in snap.notes), snap.notes


@pytest.mark.live
@pytest.mark.parametrize("mode", ["--json", "--once"])
def test_the_issues_fifo_repro_no_longer_hangs_memtop(tmp_path: Path, mode: str) -> None:
    # issue 13: `sleep 600 & mkfifo /dev/shm/memtop-heap.$!` blocked --json, --once and the dashboard forever.
    root = Path(__file__).resolve().parents[2]
    sleeper = subprocess.Popen(["sleep", "600"])
    try:
        os.mkfifo(tmp_path / f"memtop-heap.{sleeper.pid}")
        os.mkfifo(tmp_path / f"memtop-gdb.{sleeper.pid}")
        try:
            result = subprocess.run([sys.executable, "-m", "memtop", mode], capture_output=True, text=True, timeout=60,
                                    cwd=root, env={**os.environ, "MEMTOP_HEAP_DIR": str(tmp_path), "COLUMNS": "200"})
        except subprocess.TimeoutExpired:
            pytest.fail(f"memtop {mode} hung on a FIFO planted as a heap counter file")
    finally:
        sleeper.kill()
        sleeper.wait()
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert f"no heap figure for pid {sleeper.pid}: " in result.stdout


def test_no_descriptor_is_kept_between_reads(tmp_path: Path) -> None:
    # A user with a thousand processes, each with a file, would use up memtop's descriptors.
    me, start = os.getpid(), own_starttime()
    (tmp_path / f"memtop-heap.{me}").write_bytes(counter_file(me, start, [(5 * MIB, 1, 0)]))
    before = len(os.listdir("/proc/self/fd"))
    files = HeapFiles(tmp_path)
    assert files.read(lambda: {me: (start, os.getuid())})[me].in_use == 5 * MIB
    assert files.sample(me) is not None
    assert len(os.listdir("/proc/self/fd")) == before


def test_a_captured_tree_or_another_namespace_removes_nothing(tmp_path: Path) -> None:
    # The pids in the names are the host's; a /proc without the initial namespace's link
    # (a captured tree here) cannot tell a dead process from another namespace's live one.
    proc = tmp_path / "proc"
    proc.mkdir()
    shm = tmp_path / "shm"
    shm.mkdir()
    path = shm / f"memtop-heap.{os.getpid()}"
    path.write_bytes(counter_file(os.getpid(), own_starttime(), [(MIB, 1, 0)]))
    half = shm / f".memtop-heap.{os.getpid()}.Ab12Cd"
    half.write_bytes(b"x")
    files = HeapFiles(shm, proc=proc)
    assert not files.sweeps and not in_initial_pid_namespace(proc)
    assert files.read(lambda: {}) == {}
    assert path.exists() and half.exists()
    assert HeapFiles(shm).sweeps == in_initial_pid_namespace(Path("/proc"))

