"""The preloaded heap counter (collectors/heapcount.c) run under real programs.

Every test builds the library through memtop.instrument.preload.library_path, runs a small C
workload (tests/heapcount_workload.c) under LD_PRELOAD with MEMTOP_HEAP_DIR in
tmp_path, and reads memtop-heap.<pid> with the tiny reader below (layout version 1).
The workloads stop at named steps, so the file and RSS are read while they run.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from memtop.instrument import preload

TESTS = Path(__file__).resolve().parent
MiB = 1 << 20
HEADER = struct.Struct("<8sIIIIQQIIQQ")
SLOT = struct.Struct("<qQQI")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Counter:
    """One reading of a counter file (the test's own reader; memtop's is elsewhere)."""

    pid: int
    starttime: int
    peak: int
    used_slots: int
    flags: int
    generation: int
    slots: tuple[tuple[int, int, int, int], ...]  # live, nalloc, nfree, tid

    @property
    def live(self) -> int:
        return sum(s[0] for s in self.slots[: self.used_slots])

    @property
    def nalloc(self) -> int:
        return sum(s[1] for s in self.slots[: self.used_slots])

    @property
    def nfree(self) -> int:
        return sum(s[2] for s in self.slots[: self.used_slots])


def read_counter(path: Path) -> Counter:
    data = path.read_bytes()
    assert len(data) == 16384
    magic, version, source, pid, nslots, starttime, peak, used, flags, generation, reserved = HEADER.unpack_from(data, 0)
    assert (magic, version, source, nslots, reserved) == (b"MEMTHEAP", 1, 1, 255, 0)
    assert 1 <= used <= 255
    slots = tuple(SLOT.unpack_from(data, 64 + 64 * i) for i in range(nslots))
    return Counter(pid, starttime, peak, used, flags, generation, slots)


def starttime(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[19])  # field 22; fields after comm start at 3


def rss(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


@pytest.fixture(scope="module")
def compiler() -> list[str]:
    found = preload.find_compiler()
    if found is None:
        print("no C compiler (cc, gcc, clang or $CC): the heap counter cannot be built here")
        pytest.skip("no C compiler: the heap counter library cannot be built")
    return found


@pytest.fixture(scope="module")
def lib(compiler: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return preload.library_path(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def workload(compiler: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bin") / "heapcount_workload"
    subprocess.run([*compiler, "-O2", "-pthread", "-o", str(out), str(TESTS / "heapcount_workload.c"), "-ldl"], check=True)
    return out


class Run:
    """A program under the counter, driven step by step through its stdin/stdout."""

    def __init__(self, argv: list[str], lib: Path, folder: Path, **env: str) -> None:
        self.folder = folder
        full = {**os.environ, "LD_PRELOAD": str(lib), "MEMTOP_HEAP_DIR": str(folder), **env}
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=full)
        # A workload that hangs is killed, so the test fails on its next line instead of hanging.
        self.watchdog = threading.Timer(120, self.proc.kill)
        self.watchdog.daemon = True
        self.watchdog.start()

    def expect(self, line: str) -> str:
        assert self.proc.stdout is not None
        got = self.proc.stdout.readline().strip()
        assert got.startswith(line), f"expected {line!r}, got {got!r}"
        return got

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def file(self, pid: int | None = None) -> Path:
        return self.folder / f"memtop-heap.{self.proc.pid if pid is None else pid}"

    def counter(self, pid: int | None = None) -> Counter:
        return read_counter(self.file(pid))

    def finish(self) -> int:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        code = self.proc.wait(timeout=60)
        self.watchdog.cancel()
        return code


def test_the_guides_structural_leak_heap_small_rss_large(lib: Path, workload: Path, tmp_path: Path) -> None:
    # feasibility.md A4: 1,000,000 x malloc(1024), free 99 %, then malloc_trim(0).
    run = Run([str(workload), "leak"], lib, tmp_path)
    run.expect("allocated")
    full = run.counter()
    assert full.pid == run.proc.pid and full.starttime == starttime(run.proc.pid)
    assert 1_000_000 * 1024 < full.live < 1_000_000 * 1100  # usable size of malloc(1024) is 1032
    assert full.peak >= full.live - 2 * MiB  # peak is exact to about 1 MiB per thread
    run.go()
    run.expect("freed")
    freed = run.counter()
    assert 17 * MiB <= freed.live <= 20 * MiB  # 10,000 kept blocks + the 8 MB pointer array
    assert rss(run.proc.pid) > 900 * MiB  # freed, but not given back
    assert freed.peak >= full.live - 2 * MiB
    assert freed.nfree - full.nfree >= 990_000
    run.go()
    run.expect("trimmed")
    assert run.counter().live == freed.live
    assert rss(run.proc.pid) < 200 * MiB  # malloc_trim gave the interior pages back
    run.go()
    assert run.finish() == 0


def worker_slots(c: Counter, main_tid: int) -> list[tuple[int, int, int, int]]:
    return [s for s in c.slots[1 : c.used_slots] if s[3] != main_tid]


def test_cross_thread_frees_are_exact_and_free_only_threads_are_folded(lib: Path, workload: Path, tmp_path: Path) -> None:
    run = Run([str(workload), "xthread"], lib, tmp_path)
    run.expect("start")
    before = run.counter()
    run.go()
    run.expect("joined")
    after = run.counter()
    items = 200_000
    # glibc's own per-thread allocations leave a few blocks (feasibility.md A1: a few
    # hundred bytes); a lost fold would leave up to 200,000 frees (~400 MB) unbalanced.
    assert abs(after.live - before.live) < 16384
    assert 0 <= after.nalloc - before.nalloc - items < 50
    assert 0 <= after.nfree - before.nfree - items < 50
    # The consumers only freed; at exit each one added its (negative) slot to slot 0.
    assert after.slots[0][2] >= items
    assert all(s == (0, 0, 0, 0) for s in worker_slots(after, run.proc.pid))
    run.go()
    assert run.finish() == 0


def test_more_threads_than_slots_share_slot_0_exactly(lib: Path, workload: Path, tmp_path: Path) -> None:
    run = Run([str(workload), "many"], lib, tmp_path)
    run.expect("start")
    before = run.counter()
    run.go()
    run.expect("alive")
    alive = run.counter()
    assert alive.used_slots == 255
    assert all(s[3] != 0 for s in alive.slots[1:])  # main + 253 workers own a slot each
    assert alive.slots[0][1] - before.slots[0][1] >= 47 * 10  # the other 47 count in slot 0
    kept = 300 * 5 * 2008  # usable size of malloc(2000)
    # Each thread also makes glibc allocate a little of its own (its DTV, < 1 KiB).
    assert 0 <= alive.live - before.live - kept < 300 * 1024
    assert 3000 <= alive.nalloc - before.nalloc < 3000 + 300 * 4
    run.go()
    run.expect("joined")
    joined = run.counter()
    assert all(s == (0, 0, 0, 0) for s in worker_slots(joined, run.proc.pid))
    assert 0 <= joined.live - before.live - kept < 300 * 1024
    run.go()
    run.expect("freed")
    freed = run.counter()
    assert abs(freed.live - before.live) < 300 * 1024
    assert freed.nalloc - freed.nfree - (before.nalloc - before.nfree) < 300 * 4
    run.go()
    assert run.finish() == 0


def test_fork_child_gets_its_own_file(lib: Path, workload: Path, tmp_path: Path) -> None:
    run = Run([str(workload), "fork"], lib, tmp_path)
    run.expect("before")
    parent_before = run.counter()
    run.go()
    child_pid = int(run.expect("child").split()[1])
    child = run.counter(child_pid)
    assert child.pid == child_pid != run.proc.pid
    assert child.starttime == starttime(child_pid)
    # The child inherited the parent's 10 MiB (slot 0 at fork) and added 20 MiB.
    assert child.slots[0][0] >= 10 * MiB
    assert 30 * MiB <= child.live < 31 * MiB
    parent = run.counter()
    assert abs(parent.live - parent_before.live) < 64 * 1024  # the child's 20 MiB are not here
    run.go()  # the child frees and exits normally: its file goes
    run.expect("parent")
    assert not run.file(child_pid).exists()
    assert abs(run.counter().live - parent_before.live) < 64 * 1024
    run.go()
    assert run.finish() == 0


@pytest.mark.parametrize("inherit", ["1", "0"])
def test_exec_inherits_unless_told_not_to(lib: Path, workload: Path, tmp_path: Path, inherit: str) -> None:
    run = Run([str(workload), "exec"], lib, tmp_path, MEMTOP_HEAP_INHERIT=inherit)
    child_pid = int(run.expect("pid").split()[1])
    parent = run.counter()
    if inherit == "0":
        assert parent.flags & 1
        assert not run.file(child_pid).exists()  # not even the forked child's file before exec
        assert sorted(tmp_path.iterdir()) == [run.file()]
    else:
        assert parent.flags == 0
        child = run.counter(child_pid)
        assert child.pid == child_pid and child.starttime == starttime(child_pid)
        assert MiB <= child.live < 2 * MiB  # the exec'd image's own counts, nothing of the parent's
    run.go()
    run.expect("done")
    assert not run.file(child_pid).exists()
    run.go()
    assert run.finish() == 0
    assert list(tmp_path.iterdir()) == []


def test_failing_dlsym_in_the_program_does_not_recurse(lib: Path, workload: Path, tmp_path: Path) -> None:
    run = Run([str(workload), "dlsym"], lib, tmp_path, WORKLOAD_EARLY_DLSYM="1")
    run.expect("survived")
    assert run.counter().nalloc >= 100
    run.go()
    assert run.finish() == 0


def test_file_is_valid_while_running_and_removed_at_normal_exit(lib: Path, workload: Path, tmp_path: Path) -> None:
    run = Run([str(workload), "idle"], lib, tmp_path)
    run.expect("running")
    c = run.counter()
    assert (c.pid, c.starttime, c.generation, c.flags) == (run.proc.pid, starttime(run.proc.pid), 1, 0)
    assert run.file().stat().st_mode & 0o777 == 0o644
    assert run.file().stat().st_uid == os.getuid()
    run.go()
    assert run.finish() == 0
    assert not run.file().exists()


def test_static_binary_is_reported_and_makes_no_file(lib: Path, compiler: list[str], tmp_path: Path) -> None:
    static = tmp_path / "static_workload"
    built = subprocess.run(
        [*compiler, "-static", "-O2", "-pthread", "-o", str(static), str(TESTS / "heapcount_workload.c"), "-ldl"],
        capture_output=True, text=True,
    )
    if built.returncode != 0:
        pytest.skip(f"cannot link statically here (no libc.a?): {built.stderr[:200]}")
    assert preload.instrumentable(str(static)) == preload.STATIC
    folder = tmp_path / "shm"
    folder.mkdir()
    run = Run([str(static), "idle"], lib, folder)
    run.expect("running")
    assert list(folder.iterdir()) == []
    run.go()
    assert run.finish() == 0


PY_WORKLOAD = """
import json, sys
blocks = [bytes([i % 256]) * 2000 for i in range(50_000)]  # > 512 B: malloc, not pymalloc
text = json.dumps([{"k": i, "v": str(i) * 20} for i in range(20_000)])
back = sorted(json.loads(text), key=lambda d: d["v"])
print("built", flush=True)
sys.stdin.readline()
del blocks
print("dropped", flush=True)
sys.stdin.readline()
"""


def test_python_runs_under_it_with_plausible_counts(lib: Path, tmp_path: Path) -> None:
    run = Run([sys.executable, "-c", PY_WORKLOAD], lib, tmp_path)
    run.expect("built")
    built = run.counter()
    assert 50_000 * 2000 < built.live < 50_000 * 2000 + 60 * MiB
    assert built.live < rss(run.proc.pid)
    run.go()
    run.expect("dropped")
    assert built.live - run.counter().live > 50_000 * 2000 * 0.95
    run.go()
    assert run.finish() == 0
    assert not run.file().exists()


def test_a_program_that_brings_its_own_allocator_keeps_it(lib: Path, compiler: list[str], workload: Path, tmp_path: Path) -> None:
    # feasibility.md A1: forwarding to __libc_malloc would mix two allocators; the
    # counter must forward to whichever allocator is next in line (jemalloc, tcmalloc).
    bump = tmp_path / "libbump.so"
    subprocess.run([*compiler, "-O2", "-fPIC", "-shared", "-o", str(bump), str(TESTS / "heapcount_bumpalloc.c")], check=True)
    folder = tmp_path / "shm"
    folder.mkdir()
    run = Run([str(workload), "owner"], lib, folder, LD_PRELOAD=f"{lib}:{bump}")
    run.expect("start")
    run.go()
    run.expect("owned 9/9")
    run.expect("checked")
    checked = run.counter()
    run.go()
    run.expect("freed")
    # The toy allocator's malloc_usable_size says n + 1000: the counter asked it, not glibc
    # (seven blocks of 100 B, aligned_alloc's 128 B and strdup's 30 B).
    assert checked.live - run.counter().live == 7 * 1100 + 1128 + 1030
    run.go()
    assert run.finish() == 0


def test_a_failed_exec_puts_the_file_back_and_counting_goes_on(lib: Path, workload: Path, tmp_path: Path) -> None:
    run = Run([str(workload), "execfail"], lib, tmp_path)
    run.expect("before")
    before = run.counter()
    inode = run.file().stat().st_ino
    run.go()
    run.expect("failed")
    after = run.counter()  # a new file (unlinked before the exec), same counts and generation
    assert run.file().stat().st_ino != inode
    assert (after.pid, after.starttime, after.generation) == (before.pid, before.starttime, before.generation)
    assert 2 * MiB <= after.live - before.live < 2 * MiB + 64 * 1024  # counted into the new file
    run.go()
    assert run.finish() == 0
    assert list(tmp_path.iterdir()) == []


def test_an_exec_it_did_not_see_replaces_the_file_and_bumps_the_generation(lib: Path, workload: Path, tmp_path: Path) -> None:
    run = Run([str(workload), "rawexec"], lib, tmp_path)
    run.expect("before")
    first = run.counter()
    run.go()
    run.expect("pid")
    second = run.counter()
    assert (second.pid, second.starttime, second.generation) == (first.pid, first.starttime, first.generation + 1)
    assert MiB <= second.live < 2 * MiB  # the new image's counts only
    assert [p.name for p in tmp_path.iterdir()] == [run.file().name]  # no temporary left over
    run.go()
    assert run.finish() == 0


@pytest.mark.parametrize("trouble", ["missing dir", "file size limit"])
def test_no_file_possible_means_plain_forwarding(lib: Path, workload: Path, tmp_path: Path, trouble: str) -> None:
    import resource

    folder = tmp_path / ("missing" if trouble == "missing dir" else "shm")
    if trouble == "file size limit":
        folder.mkdir()
    limit = (lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))) if trouble == "file size limit" else None
    env = {**os.environ, "LD_PRELOAD": str(lib), "MEMTOP_HEAP_DIR": str(folder)}
    # Past RLIMIT_FSIZE the kernel kills a writer with SIGXFSZ: the library must not try.
    result = subprocess.run([str(workload), "dlsym"], input="\n", capture_output=True, text=True, env=env, preexec_fn=limit)
    assert (result.returncode, result.stdout) == (0, "survived\n")
    assert not folder.exists() or list(folder.iterdir()) == []


def test_a_second_copy_of_the_library_forwards_without_counting_twice(lib: Path, workload: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.so"
    copy.write_bytes(lib.read_bytes())
    folder = tmp_path / "shm"
    folder.mkdir()
    run = Run([str(workload), "xthread"], lib, folder, LD_PRELOAD=f"{lib}:{copy}")
    run.expect("start")
    before = run.counter()
    run.go()
    run.expect("joined")
    after = run.counter()
    assert 0 <= after.nalloc - before.nalloc - 200_000 < 50
    # One counter file mapped, not a second one (replaced, "(deleted)") for the second copy.
    maps = Path(f"/proc/{run.proc.pid}/maps").read_text()
    assert sum("memtop-heap." in line for line in maps.splitlines()) == 1
    run.go()
    assert run.finish() == 0


def test_slots_of_threads_that_died_unfolded_are_taken_back(lib: Path, workload: Path, tmp_path: Path) -> None:
    run = Run([str(workload), "detached"], lib, tmp_path)
    run.expect("died")
    died = run.counter()
    # 100 threads left by a raw exit(2), no pthread cleanup: their slots are still taken.
    dead = [s for s in died.slots[1 : died.used_slots] if s[3] not in (0, run.proc.pid)]
    assert len(dead) == 100
    run.go()
    run.expect("start")
    run.go()
    run.expect("alive")
    alive = run.counter()
    tasks = {int(t) for t in os.listdir(f"/proc/{run.proc.pid}/task")}
    assert all(s[3] in tasks for s in alive.slots[1:])  # every slot is a live thread's again
    kept = 300 * 5 * 2008
    assert 0 <= alive.live - died.live - kept < 300 * 1024  # folding the dead lost nothing
    for _ in range(3):
        run.go()
    assert run.finish() == 0


def test_underscore_exit_removes_the_file_but_a_vfork_childs_does_not(lib: Path, workload: Path, tmp_path: Path) -> None:
    run = Run([str(workload), "_exit"], lib, tmp_path)
    run.expect("running")
    run.go()
    run.expect("vforked")
    assert run.counter().pid == run.proc.pid  # the vfork child's _exit left the parent's file
    run.go()
    assert run.finish() == 0
    assert list(tmp_path.iterdir()) == []


def test_a_relative_dir_still_gets_its_file_removed_after_chdir(lib: Path, tmp_path: Path) -> None:
    (tmp_path / "shm").mkdir()
    code = "import os; print(os.listdir('shm')); os.chdir('/')"
    env = {**os.environ, "LD_PRELOAD": str(lib), "MEMTOP_HEAP_DIR": "shm"}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert result.stdout.startswith("['memtop-heap.")
    assert list((tmp_path / "shm").iterdir()) == []
