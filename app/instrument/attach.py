"""One mallinfo2 sample of a running glibc process through gdb (key H), never on a timer.

The rules come from feasibility.md §A2, measured on this machine:

- every check of collectors/attach_target.py passes first; a refusal says
  which and nothing is attempted;
- gdb runs in batch mode with ``--readnever`` and debuginfod off (debug
  info made the pause 190-450 ms instead of 15-54 ms), no init files, no
  auto-loaded scripts, in its own session, off the event loop (the caller
  runs this in a worker thread);
- once attached (all threads stopped) a gdb-Python script re-reads
  /proc/PID/task/*/syscall and calls only into a thread parked in a safe
  blocking syscall: never into the one gdb stopped inside malloc;
- before that it compares the pid's start time with the one of the process
  the user was asked about: a pid that passed to another process before
  the attach gets no call (issue 13);
- mallinfo2 returns an 80-byte struct through a hidden pointer: without
  debug info gdb wants the call cast, so the script mallocs 80 bytes and
  calls ``((void *(*)(void *))mallinfo2)(buf)`` (x86-64 SysV: the pointer
  goes first), reads the ten fields and frees the buffer;
- an overall timeout interrupts gdb with SIGINT (``unwindonsignal`` makes
  it unwind an interrupted call) and never kills it: SIGKILL mid-call left
  the target blocked in a futex for good.

The sample is also written as ``memtop-gdb.<pid>`` (source 3) in the heap
counter directory, so `memtop --json` shows it with its age.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from memtop.collectors.attach_target import SAFE_SYSCALLS_X86_64, Attacher, check_target
from memtop.collectors.heap_block import BLOCK_NSLOTS, BLOCK_OFFSET, BlockFigures, pack_block
from memtop.collectors.heap_shm import FILE_SIZE, GDB_PREFIX, HEADER, MAGIC, VERSION, default_directory
from memtop.collectors.paths import HostPaths
from memtop.instrument.identity import changed

GDB_SOURCE = 3
TIMEOUT = 20.0  # seconds before gdb is interrupted (a healthy sample takes 0.1-0.6 s)
GRACE = 10.0  # after the interrupt, before memtop stops waiting (gdb is left to finish)
TDESC = "amd64-sse.xml"  # package data beside this module
PAUSE_NOTE = "the process is paused for tens of milliseconds (up to a few hundred with a large heap)"

# Runs inside gdb (its Python), after the attach stopped every thread.
SCRIPT = r'''
import gdb
SAFE = %(safe)r
EXPECT = %(starttime)r
inf = gdb.selected_inferior()
def started():
    try:
        with open("/proc/%%d/stat" %% inf.pid, "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None
# Attached, the process is stopped: if the pid still has the start time
# memtop asked about, the process gdb holds is that one (issue 13).
moved = EXPECT is not None and started() != EXPECT
def number(tid):
    try:
        with open("/proc/%%d/task/%%d/syscall" %% (inf.pid, tid)) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
chosen = None
for th in [] if moved else sorted(inf.threads(), key=lambda t: t.ptid[1]):
    nr = number(th.ptid[1])
    if nr in SAFE:
        chosen = (th, th.ptid[1], nr)
        break
if moved:
    print("MEMTOP-REFUSED pid %%d is now a different process" %% inf.pid)
elif chosen is None:
    print("MEMTOP-REFUSED no thread is waiting in a safe blocking syscall now")
else:
    th, tid, nr = chosen
    th.switch()
    try:
        gdb.execute("set scheduler-locking off", to_string=True)
        gdb.execute("set unwindonsignal on", to_string=True)
        gdb.execute("set $memtop_buf = ((void *(*)(unsigned long))malloc)(80)", to_string=True)
        if int(gdb.parse_and_eval("(unsigned long)$memtop_buf")) == 0:
            print("MEMTOP-FAILED malloc(80) returned NULL in the target")
        else:
            gdb.execute("call ((void *(*)(void *))mallinfo2)($memtop_buf)", to_string=True)
            values = [int(gdb.parse_and_eval("((unsigned long *)$memtop_buf)[%%d]" %% i)) for i in range(10)]
            gdb.execute("call ((void (*)(void *))free)($memtop_buf)", to_string=True)
            print("MEMTOP-RESULT %%d %%d %%s" %% (tid, nr, " ".join(str(v) for v in values)))
    except gdb.error as exc:
        print("MEMTOP-FAILED " + str(exc).replace("\n", " "))
'''


@dataclass(frozen=True, slots=True)
class AttachResult:
    """What one H did: figures, or a refusal or failure that says why."""

    pid: int
    message: str
    figures: BlockFigures | None = None
    refused: bool = False  # nothing was attempted
    thread: str = ""  # "tid 123 in clock_nanosleep"

    @property
    def in_use(self) -> int | None:
        f = self.figures
        return None if f is None or f.uordblks is None else f.uordblks + (f.hblkhd or 0)


def gdb_command(pid: int, gdb: str, script: Path, tdesc: Path | None = None) -> list[str]:
    """gdb's argv; ``tdesc`` replaces the register description gdb would probe (see amd64-sse.xml)."""
    early = ["-iex", f"set tdesc filename {tdesc}"] if tdesc is not None else []
    return [gdb, "-nx", "-batch", "--readnever", "-iex", "set debuginfod enabled off", "-iex", "set auto-load off",
            "-iex", "set pagination off", "-iex", "set confirm off", *early, "-p", str(pid), "-x", str(script)]


def sse_tdesc() -> str:
    """The x86-64 target description without AVX/AVX-512/AMX (why: the comment in amd64-sse.xml).

    Saving and restoring only the SSE half of the vector registers around the
    call is enough: the chosen thread waits in a libc syscall wrapper, a function
    call, and the x86-64 SysV ABI makes every vector register caller-saved.
    """
    return resources.files(__package__).joinpath(TDESC).read_text()


def parse_output(pid: int, out: str, wall: float, when: float) -> AttachResult:
    """The script's verdict line in gdb's output."""
    for line in out.splitlines():
        if line.startswith("MEMTOP-RESULT "):
            words = line.split()
            tid, nr = int(words[1]), int(words[2])
            v = [int(w) for w in words[3:13]]
            figures = BlockFigures(time=when, arena=v[0], uordblks=v[7], hblkhd=v[4], fordblks=v[8], keepcost=v[9],
                                   cost=wall)
            where = f"tid {tid} in {SAFE_SYSCALLS_X86_64.get(nr, str(nr))}"
            return AttachResult(pid, f"heap sampled through gdb in {wall * 1000:.0f} ms ({where})", figures, thread=where)
        if line.startswith("MEMTOP-REFUSED "):
            return AttachResult(pid, f"not sampled: {line.split(' ', 1)[1]} (gdb attached and detached, no call made)")
        if line.startswith("MEMTOP-FAILED "):
            reason = line.split(" ", 1)[1]
            if "mallinfo2" in reason and "symbol" in reason.lower():
                reason = "its libc has no mallinfo2 (needs glibc >= 2.33)"
            return AttachResult(pid, f"gdb could not sample: {reason}")
    for line in out.splitlines():
        if "ptrace:" in line or "Operation not permitted" in line:
            return AttachResult(pid, f"not permitted: gdb said {line.strip()!r}")
    tail = " ".join(out.strip().splitlines()[-2:])[:200]
    return AttachResult(pid, f"gdb gave no sample: {tail or 'no output'}")


def refusal(pid: int, paths: HostPaths = HostPaths(), gdb: str | None = None, me: Attacher | None = None) -> str | None:
    """Why H would not sample ``pid``, before asking anything: a few /proc reads, no gdb run."""
    if (gdb if gdb is not None else shutil.which("gdb")) is None:
        return "no gdb: install it (apt install gdb) to sample a running process's heap"
    try:
        check = check_target(paths, pid, me if me is not None else Attacher.me(paths))
    except OSError as exc:
        return f"not sampled: {exc.strerror}"
    return None if check.refusal is None else f"not sampled: {check.refusal}"


def sample_heap(pid: int, paths: HostPaths = HostPaths(), gdb: str | None = None, timeout: float = TIMEOUT,
                directory: Path | None = None, me: Attacher | None = None, starttime: int | None = None) -> AttachResult:
    """Check, then attach gdb once and call mallinfo2 in a safe thread. Blocking: run it off the event loop.

    ``starttime``: the process the user was asked about; a pid that names another one now is refused.
    """
    if starttime is not None and (moved := changed(paths, pid, starttime)) is not None:
        return AttachResult(pid, f"not sampled: {moved}", refused=True)
    gdb = gdb if gdb is not None else shutil.which("gdb")
    if gdb is None:
        return AttachResult(pid, "no gdb: install it (apt install gdb) to sample a running process's heap", refused=True)
    check = check_target(paths, pid, me if me is not None else Attacher.me(paths))
    if check.refusal is not None:
        return AttachResult(pid, f"not sampled: {check.refusal}", refused=True)
    with tempfile.TemporaryDirectory(prefix="memtop-gdb-") as tmp:
        script = Path(tmp) / "sample.py"
        expected = starttime if starttime is not None else check.starttime
        script.write_text(SCRIPT % {"safe": set(SAFE_SYSCALLS_X86_64), "starttime": expected})
        tdesc = Path(tmp) / TDESC
        tdesc.write_text(sse_tdesc())
        log = Path(tmp) / "gdb.out"
        began = time.monotonic()
        when = time.time()
        # Output to a file, not a pipe: if memtop goes away mid-call, gdb must
        # not die of SIGPIPE while the process is stopped under it.
        with open(log, "w") as sink:
            proc = subprocess.Popen(gdb_command(pid, gdb, script, tdesc), stdin=subprocess.DEVNULL, stdout=sink,
                                    stderr=subprocess.STDOUT, text=True, start_new_session=True)
        finished = _wait(proc, timeout)
        wall = time.monotonic() - began
        out = log.read_text(errors="replace") if finished else None
    if out is None:
        return AttachResult(pid, f"gdb did not finish in {timeout + GRACE:.0f} s; it was interrupted, not killed "
                                 "(killing it mid-call can hang the process): check the process")
    result = parse_output(pid, out, wall, when)
    if result.figures is not None and check.starttime is not None:
        write_sample(pid, check.starttime, result.figures, directory)
    return result


def _wait(proc: subprocess.Popen[str], timeout: float) -> bool:
    """Whether gdb ended: interrupted (SIGINT) after ``timeout``, never killed."""
    try:
        proc.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        pass
    proc.send_signal(signal.SIGINT)  # gdb interrupts the call and unwinds it (unwindonsignal)
    try:
        proc.wait(timeout=GRACE)
        return True
    except subprocess.TimeoutExpired:
        # Never SIGKILL: reap it whenever it ends, in the background.
        threading.Thread(target=proc.wait, name="memtop-gdb-reaper", daemon=True).start()
        return False


def write_sample(pid: int, starttime: int, fig: BlockFigures, directory: Path | None = None) -> Path | None:
    """Leave the sample as ``memtop-gdb.<pid>`` (the counter format, source 3) for `memtop --json`."""
    directory = directory if directory is not None else default_directory()
    path = directory / f"{GDB_PREFIX}{pid}"
    data = bytearray(FILE_SIZE)
    HEADER.pack_into(data, 0, MAGIC, VERSION, GDB_SOURCE, pid, BLOCK_NSLOTS, starttime, 0, 1, 0)
    struct.pack_into("<Q", data, 48, 1)
    struct.pack_into("<qQQ", data, 64, (fig.uordblks or 0) + (fig.hblkhd or 0), 0, 0)
    data[BLOCK_OFFSET:] = pack_block(fig, 0)
    try:
        # A new name made with O_EXCL (mkstemp): the directory is /dev/shm, where another
        # user could have planted a file or a link under any name we could predict (issue 13).
        fd, name = tempfile.mkstemp(prefix=f".{GDB_PREFIX}{pid}.", dir=directory)
    except OSError:
        return None
    try:
        try:
            os.fchmod(fd, 0o644)  # readable by memtop run as another user; writable by us only
            os.write(fd, bytes(data))
        finally:
            os.close(fd)
        os.replace(name, path)  # a reader sees the old sample or the new one, whole
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(name)
        return None
    return path
