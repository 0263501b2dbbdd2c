"""The gdb attach (key H): every refusal on fixture trees, the parsers, and live C targets.

The live tests compile small C programs (cc) and attach the real gdb; they
skip, saying why, only where there is no compiler or no gdb (CI installs
gdb: .ci/run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memtop.instrument import attach
from memtop.instrument.attach import AttachResult, parse_output, sample_heap, write_sample
from memtop.collectors.attach_target import Attacher, check_target, libraries, parse_syscall, safe_threads
from memtop.collectors.heap_block import BlockFigures
from memtop.collectors.heap_shm import GDB_PREFIX, HeapFiles
from memtop.collectors.paths import HostPaths
from memtop.output.report import heap_json

from tests.dashboard_fixtures import MIB, proc
from tests.waiting import wait_until

GDB = shutil.which("gdb")
CC = shutil.which("cc") or shutil.which("gcc")
needs_gdb = pytest.mark.skipif(GDB is None or CC is None,
                               reason=f"no {'gdb' if GDB is None else 'C compiler'}: .ci/run installs gdb as root")

ROOT = Attacher(euid=0, pid=1, cap_sys_ptrace=True)
ALICE = Attacher(euid=1000, pid=1, cap_sys_ptrace=False)
GLIBC_MAPS = ("55d0a0000000-55d0a0001000 r-xp 00000000 fe:00 1 /usr/bin/prog\n"
              "7f0000000000-7f0000100000 r-xp 00000000 fe:00 2 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
              "7f0000200000-7f0000201000 r-xp 00000000 fe:00 3 /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n")


def stat_line(pid: int, state: str = "S", flags: int = 0, start: int = 500, ppid: int = 1) -> str:
    return f"{pid} (prog) {state} {ppid} {pid} {pid} 0 -1 {flags} 0 0 0 0 0 0 0 0 20 0 1 0 {start} 1000 100 0\n"


def tree(tmp_path: Path, pid: int = 42, *, state: str = "S", flags: int = 0, uid: int = 1000, tracer: int = 0,
         maps: str = GLIBC_MAPS, syscalls: tuple[str, ...] = ("230 0x1 0x0 0x0 0x0 0x0 0x0 0x7ffd 0x7f00",),
         scope: int | None = None) -> HostPaths:
    """A /proc with one process (pid 42), threads 42, 43, ... in the given syscalls."""
    proc_dir = tmp_path / "proc"
    base = proc_dir / str(pid)
    (base / "task").mkdir(parents=True)
    (base / "stat").write_text(stat_line(pid, state, flags))
    (base / "status").write_text(f"Name:\tprog\nState:\t{state}\nTracerPid:\t{tracer}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n")
    (base / "maps").write_text(maps)
    for index, text in enumerate(syscalls):
        task = base / "task" / str(pid + index)
        task.mkdir()
        (task / "syscall").write_text(text + "\n")
    if scope is not None:
        (proc_dir / "sys" / "kernel" / "yama").mkdir(parents=True)
        (proc_dir / "sys" / "kernel" / "yama" / "ptrace_scope").write_text(f"{scope}\n")
    return HostPaths(proc=proc_dir, sys=tmp_path / "sys", live=False)


# -- parsers ------------------------------------------------------------------

def test_syscall_file_forms() -> None:
    assert parse_syscall("230 0x1 0x0 0x7ffc 0x0 0x0 0x0 0x7ffc12 0x7f12\n") == 230
    assert parse_syscall("running\n") is None
    assert parse_syscall("-1 0x7ffc 0x7f12\n") == -1
    assert parse_syscall("") is None and parse_syscall("garbage") is None


@given(st.text(max_size=200))
def test_parse_syscall_never_raises(text: str) -> None:
    result = parse_syscall(text)
    assert result is None or isinstance(result, int)


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\n"), max_size=120), max_size=20))
def test_libraries_never_raises_and_finds_only_paths(lines: list[str]) -> None:
    libc, shared, musl = libraries("\n".join(lines))
    assert libc is None or (libc.startswith("/") and shared)
    assert not musl or shared


def test_libraries_tell_glibc_musl_and_static_apart() -> None:
    assert libraries(GLIBC_MAPS) == ("/usr/lib/x86_64-linux-gnu/libc.so.6", True, False)
    assert libraries("00-01 r-xp 0 fe:00 1 /lib/ld-musl-x86_64.so.1\n") == (None, True, True)
    assert libraries("00-01 r-xp 0 fe:00 1 /usr/bin/static\n00-01 rw-p 0 00:00 0 [heap]\n") == (None, False, False)


# -- refusals: nothing is attempted, the message says which -------------------

@pytest.mark.parametrize("kwargs, me, machine, says", [
    ({}, Attacher(0, 42, True), "x86_64", "memtop itself"),
    ({"state": "Z"}, ROOT, "x86_64", "zombie"),
    ({"state": "T"}, ROOT, "x86_64", "stopped"),
    ({"flags": 0x00200000}, ROOT, "x86_64", "kernel thread"),
    ({"tracer": 77}, ROOT, "x86_64", "already traced by pid 77"),
    ({}, ROOT, "aarch64", "x86-64 only"),
    ({"uid": 0}, ALICE, "x86_64", "another user's process"),
    ({}, ALICE, "x86_64", "not dumpable"),  # /proc/42 of the tree belongs to root, not to uid 1000
    ({"scope": 3}, ROOT, "x86_64", "ptrace_scope = 3"),
    ({"scope": 2}, Attacher(1000, 1, False), "x86_64", "ptrace_scope = 2"),
    ({"maps": "00-01 r-xp 0 fe:00 1 /usr/bin/static\n"}, ROOT, "x86_64", "static binary"),
    ({"maps": "00-01 r-xp 0 fe:00 1 /lib/ld-musl-x86_64.so.1\n"}, ROOT, "x86_64", "musl"),
    ({"maps": "00-01 r-xp 0 fe:00 1 /usr/lib/libfoo.so.1\n"}, ROOT, "x86_64", "no libc.so.6"),
    ({"maps": GLIBC_MAPS + "00-01 r-xp 0 fe:00 9 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2\n"}, ROOT, "x86_64",
     "allocates with jemalloc"),
    ({"syscalls": ("202 0x1 0x0 0x0 0x0 0x0 0x0 0x7ffd 0x7f00", "running", "-1 0x7ffd 0x7f00")}, ROOT, "x86_64",
     "no thread is waiting in a safe blocking syscall"),
])
def test_each_refusal_says_which(tmp_path: Path, kwargs: dict[str, object], me: Attacher, machine: str, says: str) -> None:
    paths = tree(tmp_path, **kwargs)  # type: ignore[arg-type]
    check = check_target(paths, 42, me, machine)
    assert check.refusal is not None and says in check.refusal


def test_a_vanished_process(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    check = check_target(HostPaths(proc=tmp_path / "proc", sys=tmp_path, live=False), 42, ROOT, "x86_64")
    assert check.refusal == "pid 42 has exited"


def test_an_old_glibc_without_mallinfo2(tmp_path: Path) -> None:
    old = tmp_path / "libc.so.6"
    old.write_bytes(b"\0malloc\0mallinfo\0free\0")  # glibc 2.32's names: mallinfo, no mallinfo2
    paths = tree(tmp_path, maps=f"00-01 r-xp 0 fe:00 1 {old}\n")
    check = check_target(paths, 42, ROOT, "x86_64")
    assert check.refusal is not None and "no mallinfo2" in check.refusal and "2.33" in check.refusal


def test_the_safe_threads_and_the_good_case(tmp_path: Path) -> None:
    paths = tree(tmp_path, syscalls=("202 0x1 0 0 0 0 0 0x7ffd 0x7f00", "0 0x3 0 0 0 0 0 0x7ffd 0x7f00", "running"))
    assert safe_threads(paths, 42) == ((43, "read"),)
    check = check_target(paths, 42, ROOT, "x86_64")
    assert check.refusal is None and check.safe_threads == ((43, "read"),) and check.starttime == 500


def test_no_gdb_is_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = sample_heap(os.getpid())
    assert result.refused and "no gdb" in result.message and result.figures is None


# -- gdb's output -------------------------------------------------------------

def test_gdb_output_forms() -> None:
    line = "MEMTOP-RESULT 77 230 " + " ".join(str(v) for v in (100, 3, 0, 1, 4096, 0, 0, 2000, 500, 10))
    ok = parse_output(5, "Attaching to process 5\n" + line + "\n[Inferior 1 (process 5) detached]\n", 0.1, 9.0)
    assert ok.figures is not None and ok.in_use == 2000 + 4096 and ok.figures.fordblks == 500
    assert ok.thread == "tid 77 in clock_nanosleep" and "100 ms" in ok.message
    refused = parse_output(5, "MEMTOP-REFUSED no thread is waiting in a safe blocking syscall now\n", 0.1, 9.0)
    assert refused.figures is None and "no call made" in refused.message
    old = parse_output(5, 'MEMTOP-FAILED No symbol "mallinfo2" in current context.\n', 0.1, 9.0)
    assert "glibc >= 2.33" in old.message
    denied = parse_output(5, "ptrace: Operation not permitted.\n", 0.1, 9.0)
    assert denied.message.startswith("not permitted")
    assert "no output" in parse_output(5, "", 0.1, 9.0).message


def test_a_gdb_that_hangs_is_interrupted_never_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "gdb"
    # Short sleeps in a loop, not `sleep 30 & wait`: dash can miss a SIGINT that lands
    # between its fork and its wait (the trap then waits for the sleep: a CI run under
    # load saw "did not finish in 10 s"); a trap always runs between two commands.
    fake.write_text("#!/bin/sh\ntrap 'echo MEMTOP-FAILED interrupted by memtop; exit 1' INT\n"
                    "i=0\nwhile [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done\n")
    fake.chmod(0o755)
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        wait_until(lambda: running(sleeper.pid, "sleep") and parked(sleeper.pid), what="sleep to be in its nanosleep()")
        result = sample_heap(sleeper.pid, gdb=str(fake), timeout=0.5, directory=tmp_path, me=ROOT)
        assert result.figures is None and "interrupted by memtop" in result.message
        stubborn = tmp_path / "gdb2"
        stubborn.write_text("#!/bin/sh\ntrap '' INT\nsleep 3\n")
        stubborn.chmod(0o755)
        monkeypatch.setattr(attach, "GRACE", 0.5)
        result = sample_heap(sleeper.pid, gdb=str(stubborn), timeout=0.3, directory=tmp_path, me=ROOT)
        assert "not killed" in result.message
    finally:
        sleeper.kill()
        sleeper.wait()


def test_the_sample_is_left_for_json_with_its_age(tmp_path: Path) -> None:
    me = os.getpid()
    stat = Path("/proc/self/stat").read_text()
    start = int(stat[stat.rindex(")") + 2:].split()[19])
    fig = BlockFigures(time=1000.0, arena=8 * MIB, uordblks=5 * MIB, hblkhd=MIB, fordblks=2 * MIB, cost=0.2)
    assert write_sample(me, start, fig, tmp_path) == tmp_path / f"{GDB_PREFIX}{me}"
    found = HeapFiles(tmp_path, prefix=GDB_PREFIX).read(lambda: {me: (start, os.getuid())})
    counters = found[me]
    assert counters.source == "gdb" and counters.in_use == 6 * MIB and counters.allocs is None
    doc = heap_json(proc(me, "x", 10, rss=20), counters, now=1042.5)
    assert doc is not None and doc["source"] == "gdb" and doc["age"] == 42.5 and doc["gap"] == 14 * MIB
    assert doc["free_in_heap"] == 2 * MIB and doc["mmapped"] == MIB



def test_a_planted_temporary_name_is_not_written_through(tmp_path: Path) -> None:
    """/dev/shm is writable by all: the old fixed temporary name could be pre-made by another user."""
    me = os.getpid()
    victim = tmp_path / "victim"
    victim.write_text("keep")
    for name in (f".{GDB_PREFIX}{me}.{me}", f".{GDB_PREFIX}{me}"):
        (tmp_path / name).symlink_to(victim)
    fig = BlockFigures(time=1000.0, arena=8 * MIB, uordblks=5 * MIB, hblkhd=MIB, fordblks=2 * MIB, cost=0.2)
    path = write_sample(me, 1, fig, tmp_path)
    assert path == tmp_path / f"{GDB_PREFIX}{me}" and not path.is_symlink()
    assert victim.read_text() == "keep" and (path.stat().st_mode & 0o777) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["victim", f".{GDB_PREFIX}{me}.{me}", f".{GDB_PREFIX}{me}", f"{GDB_PREFIX}{me}"])  # no temporary left


def test_gdb_is_given_a_register_description_without_avx_state(tmp_path: Path) -> None:
    """gdb 13 on an AMX CPU fails to write XSAVE state back after a call (and the target died of it)."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(attach.sse_tdesc().split("\n", 2)[2])  # past the prolog and DOCTYPE
    features = [f.get("name") for f in root.iter("feature")]
    assert features == ["org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.linux",
                        "org.gnu.gdb.i386.segments"]
    argv = attach.gdb_command(42, "gdb", tmp_path / "s.py", tmp_path / "t.xml")
    assert argv.index(f"set tdesc filename {tmp_path / 't.xml'}") < argv.index("-p")

# -- live: real gdb, real targets ---------------------------------------------

TARGET = textwrap.dedent(r"""
    #include <pthread.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    static void *churn(void *arg) {
        (void)arg;
        for (;;) {  /* always inside malloc or free: its arena lock taken all the time */
            void *p[64];
            for (int i = 0; i < 64; i++) p[i] = malloc(16 + i * 40);
            for (int i = 0; i < 64; i++) free(p[i]);
        }
        return NULL;
    }
    int main(int argc, char **argv) {
        static char *keep[2000];
        for (int i = 0; i < 2000; i++) { keep[i] = malloc(10000); memset(keep[i], 1, 10000); }
        if (argc > 1 && strcmp(argv[1], "busy-thread") == 0) { pthread_t t; pthread_create(&t, NULL, churn, NULL); }
        if (argc > 1 && strcmp(argv[1], "busy-only") == 0) churn(NULL);  /* no thread ever in a safe syscall */
        char line[256];
        printf("ready\n"); fflush(stdout);
        while (fgets(line, sizeof line, stdin)) { printf("echo %s", line); fflush(stdout); }  /* parked in read() */
        return 0;
    }
""")


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if CC is None:
        pytest.skip("no C compiler")
    work = tmp_path_factory.mktemp("attach")
    (work / "target.c").write_text(TARGET)
    subprocess.run([CC, "-O1", "-pthread", "-o", str(work / "target"), str(work / "target.c")], check=True)
    return work / "target"


def running(pid: int, name: str) -> bool:
    """``pid`` runs the program ``name`` (its exec is done; its libraries may not be loaded yet)."""
    return Path(f"/proc/{pid}/comm").read_text().strip() == name[:15]


def loaded(pid: int) -> bool:
    """The dynamic loader has mapped glibc into ``pid``."""
    return "/libc.so" in Path(f"/proc/{pid}/maps").read_text()


def parked(pid: int) -> bool:
    """The main thread of ``pid`` sleeps in a system call (the target's read() of stdin)."""
    stat = Path(f"/proc/{pid}/task/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2] == "S"


def start_target(binary: Path, mode: str = "") -> subprocess.Popen[str]:
    child = subprocess.Popen([str(binary), *([mode] if mode else [])], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if mode == "busy-only":
        wait_until(lambda: running(child.pid, binary.name) and loaded(child.pid), what="the target to start")
    else:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        wait_until(lambda: parked(child.pid), what="the target to be in its read()")
    return child


def answers(child: subprocess.Popen[str]) -> bool:
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write("still there?\n")
    child.stdin.flush()
    return child.stdout.readline() == "echo still there?\n"


@needs_gdb
@pytest.mark.parametrize("mode", ["", "busy-thread"])
def test_attach_samples_a_live_process_and_it_keeps_running(target: Path, tmp_path: Path, mode: str) -> None:
    child = start_target(target, mode)
    try:
        result = sample_heap(child.pid, directory=tmp_path)
        assert result.figures is not None, result.message
        assert result.in_use is not None and result.in_use >= 19 * MIB  # its 2000 x 10 kB
        assert "in read" in result.thread  # the main thread, parked in read(), never the churning one
        assert answers(child) and child.poll() is None
        assert (tmp_path / f"{GDB_PREFIX}{child.pid}").exists()
        wait_until(lambda: parked(child.pid), what="the target back in its read() after answering")
        again = sample_heap(child.pid, directory=tmp_path)  # H again samples again
        assert again.figures is not None and again.figures.time >= result.figures.time
        assert answers(child)
    finally:
        child.kill()
        child.wait()


@needs_gdb
def test_a_process_with_no_thread_in_a_safe_syscall_is_not_touched(target: Path, tmp_path: Path) -> None:
    child = start_target(target, "busy-only")
    try:
        result = sample_heap(child.pid, directory=tmp_path)
        assert result.refused and "safe blocking syscall" in result.message
        assert not (tmp_path / f"{GDB_PREFIX}{child.pid}").exists()
        assert Path(f"/proc/{child.pid}/status").read_text().count("TracerPid:\t0") == 1  # never attached
    finally:
        child.kill()
        child.wait()


@needs_gdb
def test_a_static_binary_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "static.c"
    source.write_text("#include <unistd.h>\nint main(void) { sleep(30); return 0; }\n")
    built = subprocess.run([CC or "cc", "-static", "-o", str(tmp_path / "static"), str(source)], capture_output=True)
    if built.returncode != 0:
        pytest.skip(f"no static libc here: {built.stderr.decode()[:200]}")
    child = subprocess.Popen([str(tmp_path / "static")])
    try:
        wait_until(lambda: running(child.pid, "static") and parked(child.pid), what="the static binary in its sleep()")
        result = sample_heap(child.pid, directory=tmp_path)
        assert result.refused and "static binary" in result.message
    finally:
        child.kill()
        child.wait()


def test_attach_result_without_figures_has_no_heap() -> None:
    assert AttachResult(1, "x").in_use is None
