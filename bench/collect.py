#!/usr/bin/env python3
"""memtop's collector against the C floor and smem, in CPU time (prints figures; not a test).

Usage (from the repo, with the project's venv):
  .venv/bin/python bench/collect.py [--spawn 0,500,2000] [--rounds 7] [--json OUT.json]
                                    [--shared DIR] [--profile] [--no-smem]

What is measured, per population (the machine as it is, then +N idle processes started
with shared/bench-peers/spawn_procs.py), interleaved: each round runs every variant once,
in an order rotated by one each round, and every ratio is taken per round, then the median
[min-max] over rounds is printed (the protocol of shared/research/perf-baseline.md):

  floor          bench/floor.c (gcc -O2 into a temporary folder): the files one snapshot reads,
                 opened, read until EOF and closed, no parsing. Its host files are recorded, per
                 population, from one Collector.collect() of this process: os.open is patched to
                 note every path it opens that is not under /proc/<pid>/, names relative to a
                 directory fd (the THP reader's) joined to that fd's /proc/self/fd link: meminfo,
                 vmstat, pressure/memory, loadavg, self/status, self/mountinfo and every file
                 under /sys/kernel/mm/transparent_hugepage (khugepaged/*, hugepages-*kB/enabled
                 and stats/*), ~180 in all, in memtop's order and including those whose open
                 fails (memtop tried them). They go, one absolute path a line, into a list file:
                 ``floor -l LIST -f smaps_rollup,stat,status,oom_score,oom_score_adj,cgroup,cmdline``.
                 Per-pid files are read for every numeric /proc entry and stop at a pid's first
                 file that fails or is empty (proc_read -s's semantics), so smaps_rollup comes
                 first (kernel threads fail it with ESRCH: one open for a kernel thread, where
                 memtop reads one, stat) and cmdline last (empty for zombies); a user process
                 gets the same seven files memtop reads. The open counts of both are printed
                 and checked to agree. Not in the floor: the directories memtop lists to find
                 THP's files (about ten opens + getdents; the count is printed). Two figures come
                 out of one run: its own read-loop CPU (cpu_ns, CLOCK_PROCESS_CPUTIME_ID over the
                 whole pass, no exec) and its whole-process CPU (user+sys from wait4's rusage).
                 The goals are judged against this floor.
  proc_read      (reference) the earlier floor, shared/bench-peers/proc_read.c run as
                 ``proc_read -g -s -f <the same per-pid files>``: the per-pid files plus only
                 meminfo and vmstat (no PSI, loadavg, self/*, THP). Printed, with its ratios, as
                 labelled reference rows; no goal is judged against it.
  py-read        (diagnostic) bench/floor.c's exact open/read-until-EOF/close loop in Python, in
                 this process, no parsing: what Python's syscall wrappers cost before memtop parses.
  in-process     time.process_time() around one Collector(HostPaths(), Options()).collect(),
                 after a warm-up collect(); the Collector is built once per population (as a
                 live session would). This imports memtop from the project's venv (editable).
  memtop --json  memtop as a user installs it (README: ``pip install .``, not editable): once per
                 run the working tree (without .git, .venv, build/, bench/) is copied into a
                 temporary folder and installed with ``python -m venv TMP/venv &&
                 TMP/venv/bin/pip install TMP/src``; pip compiles the bytecode on install, so no
                 run recompiles under PYTHONDONTWRITEBYTECODE=1 (set on this machine, so the
                 editable checkout has no .pyc) and no editable finder sits on the import path.
                 ``TMP/venv/bin/memtop --json`` runs as a whole process, stdout to /dev/null;
                 user+sys from wait4. The output says which install and source were timed.
  smem           ``smem -c "pid pss uss rss"``, whole process (skipped with a note if absent).
  python         ``TMP/venv/bin/python -c pass``, for reference, and
                 ``TMP/venv/bin/python -c 'import memtop.cli'`` (start-up + the imports of
                 memtop --json from the same install, no work).

Each population's header also gives the CPU that other work used during the rounds
(/proc/stat busy time minus this script's and its children's): on a shared machine it
inflates the CPU times, and the per-round ratios are what to compare.

Goals (fixed; judged on the median of the per-round ratios, against bench/floor.c):
  in-process collect / C floor read loop            <= 1.2x  (every population)
  memtop --json whole / C floor whole process       <= 1.3x  at +2000

It also checks that ``memtop --once`` and ``memtop --json`` never import textual
(``python -X importtime -m memtop``, with the non-editable install's interpreter), and counts
the files one collect() opens against the floor's.
``--profile`` adds a cProfile of one collect() and of memtop --json's main() run in-process,
per population (top functions by tottime).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from memtop.collectors.paths import HostPaths
from memtop.collectors.snapshot import Collector, Options

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared"
FLOOR_SRC = Path(__file__).resolve().parent / "floor.c"
PER_PID_FILES = ("stat", "status", "smaps_rollup", "cmdline", "oom_score", "oom_score_adj", "cgroup")
# With -s, proc_read stops at a pid's first failed or empty file: smaps_rollup first (a kernel
# thread fails it with ESRCH, so it costs one file, as in memtop), cmdline last (empty for zombies).
FLOOR_FILES = ("smaps_rollup", "stat", "status", "oom_score", "oom_score_adj", "cgroup", "cmdline")
assert sorted(FLOOR_FILES) == sorted(PER_PID_FILES)
GOAL_INPROC = 1.2
GOAL_WHOLE = 1.3
GOAL_WHOLE_AT = 2000
UI_MODULES = ("textual", "rich", "plotext")

_PASS_RE = re.compile(r"pids=(\d+) files=(\d+) failed=(\d+) bytes=(\d+) wall_ns=(\d+) cpu_ns=(\d+)")
_HOST_RE = re.compile(r"host_files=(\d+) host_failed=(\d+)")
_PID_PATH_RE = re.compile(r"/proc/(\d+)/(.+)")
PIDS_MARKER = "@pids"  # in the host list: where, in memtop's order, the per-pid reads come


def log(msg: str) -> None:
    print(msg, flush=True)


# --- statistics -------------------------------------------------------------------------


def summarize(xs: list[float | None]) -> tuple[float, float, float]:
    ys = [x for x in xs if x is not None]
    if not ys:
        nan = float("nan")
        return nan, nan, nan
    return statistics.median(ys), min(ys), max(ys)


def fmt3(xs: list[float | None], scale: float = 1.0, digits: int = 1) -> str:
    med, lo, hi = summarize(xs)
    if med != med:
        return "–"
    f = f"{{:.{digits}f}}"
    return f"{f.format(med * scale)} [{f.format(lo * scale)}–{f.format(hi * scale)}]"


def ratios(xs: list[float | None], fs: list[float | None]) -> list[float | None]:
    return [x / f if x is not None and f else None for x, f in zip(xs, fs)]


# --- child processes --------------------------------------------------------------------


def _killpg_quiet(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_timed(argv: list[str], env: dict[str, str], capture: bool = False, timeout: float = 120) -> dict:
    """Run argv to completion: wall (perf_counter) and the child's own user+sys (wait4 rusage)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    out = b""
    timer = threading.Timer(timeout, _killpg_quiet, (p.pid,))
    timer.start()
    try:
        if capture:
            out = p.stdout.read()
            p.stdout.close()
        _, status, ru = os.wait4(p.pid, 0)
    finally:
        timer.cancel()
    t1 = time.perf_counter()
    p.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait for it again
    return {"wall_s": t1 - t0, "cpu_s": ru.ru_utime + ru.ru_stime, "user_s": ru.ru_utime,
            "sys_s": ru.ru_stime, "rc": p.returncode, "out": out.decode(errors="replace")}


def proc_counts() -> tuple[int, int]:
    """(pids in /proc, pids with a readable non-empty smaps_rollup = user processes)."""
    total = user = 0
    for n in os.listdir("/proc"):
        if not n.isdigit():
            continue
        total += 1
        try:
            with open(f"/proc/{n}/smaps_rollup", "rb") as f:
                if f.read(1):
                    user += 1
        except OSError:
            pass
    return total, user


_CLK_TCK = os.sysconf("SC_CLK_TCK")


def busy_cpu_s() -> float:
    """Machine-wide busy CPU seconds (user+nice+system+irq+softirq+steal) from /proc/stat."""
    with open("/proc/stat", "rb") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / _CLK_TCK


def own_cpu_s() -> float:
    """CPU of this process and of its reaped children (the variants; not the live spawner)."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def count_comm(name: bytes) -> int:
    n = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/comm", "rb") as f:
                    n += f.read().rstrip(b"\n") == name
            except OSError:
                pass
    return n


class Population:
    """N extra idle processes from spawn_procs.py while in use (it prints READY, always cleans up).

    The spawner watches our stdin pipe (--until-stdin-eof): if this script dies, the pipe
    closes and it kills its children, which also die on their own (lifeline pipe, PDEATHSIG).
    """

    MAX_AGE_S = 480  # spawn_procs.py holds at most 600 s: renew before that

    def __init__(self, spawner: Path, n: int) -> None:
        self.spawner, self.n = spawner, n
        self.proc: subprocess.Popen | None = None
        self.started = 0.0

    def start(self) -> None:
        if self.n <= 0:
            return
        argv = [sys.executable, str(self.spawner), str(self.n), "--until-stdin-eof", "--quiet",
                "--timeout", "600"]
        t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("READY"):
            self.stop()
            raise RuntimeError(f"spawn_procs.py failed: {line!r}")
        self.started = time.monotonic()
        log(f"# population: {line.split()[1]} extra processes up in {self.started - t0:.1f} s; "
            f"/proc (all, user) = {proc_counts()}")

    def ensure(self, need_s: float = 0.0) -> None:
        """(Re)start when dead or when it would expire within need_s seconds."""
        if self.n <= 0:
            return
        if (self.proc is None or self.proc.poll() is not None
                or time.monotonic() - self.started + need_s > self.MAX_AGE_S):
            self.stop()
            self.start()

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is None:
            return
        try:
            p.stdin.close()  # the spawner sees EOF, kills and reaps its children
        except OSError:
            pass
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        p.stdout.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and count_comm(b"memtop-child") > 0:
            time.sleep(0.2)


# --- the floor --------------------------------------------------------------------------


def build_c(src: Path, outdir: Path) -> Path:
    if not src.is_file():
        sys.exit(f"no {src}")
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        sys.exit("gcc is needed to build the C floor")
    out = outdir / src.stem
    subprocess.run([cc, "-O2", "-o", str(out), str(src)], check=True)
    return out


def build_proc_read(shared: Path, outdir: Path) -> Path:
    src = shared / "bench-peers" / "proc_read.c"
    if not src.is_file():
        sys.exit(f"no {src}; pass --shared DIR (the folder holding bench-peers/)")
    return build_c(src, outdir)


def parse_pass(out: str) -> dict:
    m = _PASS_RE.search(out)
    if not m:
        return {}
    res = {"pids": int(m.group(1)), "files": int(m.group(2)), "failed": int(m.group(3)),
           "bytes": int(m.group(4)), "loop_wall_s": int(m.group(5)) / 1e9,
           "loop_cpu_s": int(m.group(6)) / 1e9}
    h = _HOST_RE.search(out)
    if h:
        res.update(host_files=int(h.group(1)), host_failed=int(h.group(2)))
    return res


# --- the install timed as a whole process -----------------------------------------------


def _copy_ignore(folder: str, names: list[str]) -> set[str]:
    """Not copied: VCS, venvs, build output, caches; at the top also bench/ (not installed)."""
    skip = {n for n in names if n in ("__pycache__", ".pytest_cache", ".hypothesis")}
    if Path(folder).resolve() == REPO:
        skip |= {n for n in names if n in (".git", ".venv", "build", "dist", "bench") or n.endswith(".egg-info")}
    return skip


def build_install(tmp: Path) -> dict:
    """A non-editable install of the working tree, as the README installs memtop (pip install .).

    The tree is copied first (pip builds in the source folder; the copy keeps build/ and
    *.egg-info out of the checkout and freezes the source measured), then
    ``python -m venv TMP/venv && TMP/venv/bin/pip install TMP/src``: pip compiles every
    module's bytecode on install, so runs do not recompile under PYTHONDONTWRITEBYTECODE=1,
    and no editable finder is on the import path.
    """
    src, venv = tmp / "src", tmp / "venv"
    t0 = time.monotonic()
    state = git_state()
    shutil.copytree(REPO, src, ignore=_copy_ignore, symlinks=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    p = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(src)], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"pip install of the working tree failed:\n{p.stdout}{p.stderr}")
    py = venv / "bin" / "python"
    probe = subprocess.run([str(py), "-c", "import importlib.util as u, memtop.cli as c; "
                            "print(c.__file__); print(u.cache_from_source(c.__file__))"],
                           capture_output=True, text=True, check=True).stdout.split("\n")
    cli_file, cli_pyc = probe[0], probe[1]
    script = venv / "bin" / "memtop"
    return {"venv": str(venv), "python": str(py), "memtop": str(script), "cli_file": cli_file,
            "pyc": Path(cli_pyc).is_file(), "source": state, "build_s": time.monotonic() - t0}


# --- memtop -----------------------------------------------------------------------------


def _read_all(dir_fd: int, name: str) -> int:
    fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        n = 0
        while True:
            data = os.read(fd, 1 << 16)
            if not data:
                return n
            n += len(data)
    finally:
        os.close(fd)


def _py_per_pid() -> int:
    proc = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    nread = 0
    try:
        for pid in os.listdir(proc):
            if not pid.isdigit():
                continue
            for f in FLOOR_FILES:
                try:
                    n = _read_all(proc, f"{pid}/{f}")
                except OSError:
                    n = -1
                if n >= 0:
                    nread += 1
                if n <= 0:
                    break
    finally:
        os.close(proc)
    return nread


def py_read_same(host: list[str]) -> int:
    """bench/floor.c in Python: the same opens and reads in the same order, no parsing; files read."""
    nread = 0
    did_pids = False
    for path in host:
        if path == PIDS_MARKER:
            nread += _py_per_pid()
            did_pids = True
            continue
        try:
            _read_all(None, path)
            nread += 1
        except OSError:
            pass
    if not did_pids:
        nread += _py_per_pid()
    return nread


def timed_py_read(host: list[str]) -> dict:
    gc.collect()
    w0, c0 = time.perf_counter(), time.process_time()
    n = py_read_same(host)
    w1, c1 = time.perf_counter(), time.process_time()
    return {"wall_s": w1 - w0, "cpu_s": c1 - c0, "files": n}


def timed_collect(collector: Collector) -> dict:
    gc.collect()
    w0, c0 = time.perf_counter(), time.process_time()
    snap = collector.collect()
    w1, c1 = time.perf_counter(), time.process_time()
    return {"wall_s": w1 - w0, "cpu_s": c1 - c0, "processes": len(snap.processes)}


def record_opens(collector: Collector) -> dict:
    """Every os.open of one collect(), resolved to an absolute path.

    A name relative to a directory fd (the /proc fd of ProcessReader, the THP directory fd
    of collectors/thp.py) is joined to that fd's /proc/self/fd link. Returns:
    per_pid: Counter of per-pid file names (any path /proc/<digits>/NAME);
    host: the other files in the order opened, PIDS_MARKER where the first per-pid open came
    (the list given to bench/floor.c); host_failed: those whose open failed;
    dirs: directory opens (O_DIRECTORY; memtop lists them, the floor does not);
    floor_rule: the per-pid opens bench/floor.c makes for the same pids (all FLOOR_FILES when
    smaps_rollup opens, else one), and partial: the pids where memtop reads more than that
    (smaps_rollup refused or a zombie: memtop still reads their other files) with its extra opens.
    """
    per_pid: Counter = Counter()
    by_pid: dict[str, list] = {}  # pid -> [opens, smaps_rollup opened]
    host: list[str] = []
    host_failed: list[str] = []
    dirs: list[str] = []
    real_open = os.open

    def recording_open(path, flags, mode=0o777, *, dir_fd=None):
        name = os.fsdecode(path)
        if dir_fd is not None and not name.startswith("/"):
            name = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), name)
        name = os.path.normpath(name)
        m = _PID_PATH_RE.fullmatch(name)
        is_host = False
        if flags & os.O_DIRECTORY:
            dirs.append(name)
        elif m:
            per_pid[m.group(2)] += 1
            by_pid.setdefault(m.group(1), [0, False])[0] += 1
            if PIDS_MARKER not in host:
                host.append(PIDS_MARKER)
        else:
            host.append(name)
            is_host = True
        try:
            fd = real_open(path, flags, mode, dir_fd=dir_fd)
        except OSError:
            if is_host:
                host_failed.append(name)
            raise
        if m and m.group(2) == FLOOR_FILES[0]:
            by_pid[m.group(1)][1] = True
        return fd

    os.open = recording_open
    try:
        collector.collect()
    finally:
        os.open = real_open
    floor_rule = sum(len(FLOOR_FILES) if ok else 1 for _, ok in by_pid.values())
    partial = [(pid, n - 1) for pid, (n, ok) in by_pid.items() if not ok and n > 1]
    return {"per_pid": per_pid, "host": host, "host_failed": host_failed, "dirs": dirs,
            "floor_rule": floor_rule, "partial": partial}


def profile_collect(collector: Collector, top: int = 20) -> str:
    prof = cProfile.Profile()
    prof.enable()
    collector.collect()
    prof.disable()
    return _top(prof, top)


def profile_cli(top: int = 15) -> str:
    """cProfile of ``memtop --json`` run in this process (modules already imported), output discarded."""
    from memtop.cli import main as cli_main

    prof = cProfile.Profile()
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        prof.enable()
        cli_main(["--json"])
        prof.disable()
    return _top(prof, top)


def _top(prof: cProfile.Profile, top: int) -> str:
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    text = buf.getvalue()
    # keep the summary line and the table, drop pstats' preamble
    lines = [ln for ln in text.splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if "function calls" in ln), 0)
    return "\n".join(lines[start:])


def import_check(python: str, env: dict[str, str]) -> list[dict]:
    """Which modules `python -X importtime -m memtop --once/--json` imports."""
    results = []
    for flag in ("--once", "--json"):
        p = subprocess.run([python, "-X", "importtime", "-m", "memtop", flag],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, env=env, timeout=120)
        names, top_us = [], 0
        for line in p.stderr.decode(errors="replace").splitlines():
            if not line.startswith("import time:") or "|" not in line:
                continue
            parts = line[len("import time:"):].split("|")
            if len(parts) != 3 or not parts[0].strip().isdigit():
                continue  # the header line
            raw = parts[2]
            name = raw.strip()
            names.append(name)
            if raw.startswith(" ") and not raw.startswith("  "):  # top level: indent of one space
                top_us += int(parts[1])
        ui = {m: sorted(n for n in names if n == m or n.startswith(m + ".")) for m in UI_MODULES}
        results.append({"flag": flag, "rc": p.returncode, "modules": len(names),
                        "import_ms": top_us / 1e3, "ui": ui})
    return results


def git_state() -> str:
    """HEAD and the uncommitted files of the source measured (the tree may be edited meanwhile)."""
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--short", "--", "app", "collectors",
                                "widgets"], capture_output=True, text=True, timeout=10).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    changed = [ln[3:] for ln in dirty if ln.strip()]
    return f"HEAD {head or '?'}" + (f", uncommitted: {', '.join(changed)}" if changed else ", clean")


# --- one population ---------------------------------------------------------------------


def measure(n: int, rounds: int, floor: Path, proc_read: Path | None, install: dict, tmp: Path,
            spawner: Path, env: dict[str, str], use_smem: bool, profile: bool) -> dict:
    log(f"\n# === +{n} idle processes ===")
    pop = Population(spawner, n)
    try:
        pop.ensure()
        collector = Collector(HostPaths(), Options())
        # warm-up: imports, caches, page cache for every executable; checks each one works
        collector.collect()
        # the host files one collect() reads, for bench/floor.c and py-read
        opens = record_opens(collector)
        host = opens["host"]
        host_list = tmp / f"host-files-{n}.txt"
        host_list.write_text("".join(f"{h}\n" for h in host))
        floor_argv = [str(floor), "-l", str(host_list), "-f", ",".join(FLOOR_FILES)]
        variants: dict[str, tuple[str, object]] = {
            "floor": ("proc", floor_argv),
            "collect": ("inproc", None),
            "py-read": ("inproc", None),
            "memtop-json": ("proc", [install["memtop"], "--json"]),
        }
        if proc_read is not None:
            variants["proc_read"] = ("proc", [str(proc_read), "-g", "-s", "-f", ",".join(FLOOR_FILES)])
        if use_smem:
            variants["smem"] = ("proc", ["smem", "-c", "pid pss uss rss"])
        variants["python"] = ("proc", [install["python"], "-c", "pass"])
        # start-up + the imports of `memtop --json` (argparse, json, the collectors, the report), no work
        variants["imports"] = ("proc", [install["python"], "-c", "import memtop.cli"])
        names = list(variants)
        samples: dict[str, list[dict]] = {k: [] for k in names}
        counts: list[tuple[int, int]] = []
        loads: list[float] = []
        extra: dict = {"spawn": n, "floor_argv": floor_argv, "host_files": host,
                       "memtop_argv": [install["memtop"], "--json"],
                       "proc_read_argv": variants.get("proc_read", (None, None))[1]}
        py_read_same(host)
        for name in names:
            kind, argv = variants[name]
            if kind == "proc":
                r = run_timed(argv, env, capture=(name in ("floor", "proc_read", "memtop-json")))
                if r["rc"] != 0:
                    raise RuntimeError(f"{name}: {' '.join(argv)} exited {r['rc']}")
                if name in ("floor", "proc_read"):
                    extra[f"{name}_pass"] = parse_pass(r["out"])
                elif name == "memtop-json":
                    extra["memtop_json_processes"] = len(json.loads(r["out"])["processes"])
        # counted again now (the population may have moved since the first record)
        again = record_opens(collector)
        extra["memtop_opens"] = {"per_pid": dict(again["per_pid"]),
                                 "host": sum(1 for h in again["host"] if h != PIDS_MARKER),
                                 "host_failed": again["host_failed"], "dirs": len(again["dirs"]),
                                 "same_host_files": again["host"] == host, "floor_rule": again["floor_rule"],
                                 "partial": again["partial"]}
        t_round = 0.0
        for r in range(rounds):
            pop.ensure(need_s=t_round * 1.5 + 10)
            t0 = time.monotonic()
            counts.append(proc_counts())
            busy0, own0, w0 = busy_cpu_s(), own_cpu_s(), time.monotonic()
            k = r % len(names)
            for name in names[k:] + names[:k]:
                kind, argv = variants[name]
                if name == "collect":
                    res = timed_collect(collector)
                elif name == "py-read":
                    res = timed_py_read(host)
                else:
                    res = run_timed(argv, env, capture=(name in ("floor", "proc_read")))
                    if res["rc"] != 0:
                        log(f"# warning: {name} exited {res['rc']} in round {r + 1}")
                    if name in ("floor", "proc_read"):
                        res.update(parse_pass(res["out"]))
                    res.pop("out", None)
                res["round"] = r
                samples[name].append(res)
            t_round = time.monotonic() - t0
            other = (busy_cpu_s() - busy0) - (own_cpu_s() - own0)
            loads.append(max(other, 0.0) / ((time.monotonic() - w0) * (os.cpu_count() or 1)))
            log(f"# round {r + 1}/{rounds}: {t_round:.1f} s, /proc (all, user) = {counts[-1]}")
        if profile:
            extra["profile"] = profile_collect(collector)
            extra["profile_cli"] = profile_cli()
    finally:
        pop.stop()
    return {"spawn": n, "rounds": rounds, "counts": counts, "other_load": loads, "samples": samples,
            "extra": extra}


def per_round(res: dict, name: str, key: str) -> list[float | None]:
    by = {s["round"]: s.get(key) for s in res["samples"].get(name, [])}
    return [by.get(r) for r in range(res["rounds"])]


def verdict(med: float, goal: float) -> str:
    if med != med:
        return "not measured"
    return "MET" if med <= goal else "NOT MET"


def report(res: dict, use_smem: bool) -> dict:
    n = res["spawn"]
    ex = res["extra"]
    pids = [c[0] for c in res["counts"]]
    users = [c[1] for c in res["counts"]]
    fp = ex.get("floor_pass", {})
    opens = ex["memtop_opens"]
    per_pid_total = sum(opens["per_pid"].values())
    print()
    print(f"## +{n} idle processes: /proc pids {summarize(pids)[0]:.0f} "
          f"(user processes {summarize(users)[0]:.0f}); {res['rounds']} rounds; other work "
          f"on the machine during the rounds: {fmt3(res['other_load'], 100, 0)} % of {os.cpu_count()} CPUs")
    floor_pid = fp.get("files", 0) + fp.get("failed", 0)
    floor_host = fp.get("host_files", 0) + fp.get("host_failed", 0)
    # the floor also sees itself, a user process: all of FLOOR_FILES
    expect_pid = opens["floor_rule"] + len(FLOOR_FILES)
    agree = floor_pid == expect_pid and floor_host == opens["host"] and opens.get("same_host_files")
    extra_opens = sum(k for _, k in opens["partial"])
    print(f"opens per pass (warm-up pass of each): C floor (bench/floor.c) {floor_pid} per-pid "
          f"({fp.get('failed', 0)} failed: smaps_rollup of kernel threads, zombies, refused) + "
          f"{floor_host} host files ({fp.get('host_failed', 0)} failed); "
          f"memtop collect() {per_pid_total} per-pid "
          f"({', '.join(f'{k} {v}' for k, v in sorted(opens['per_pid'].items()))}) "
          f"+ {opens['host']} host files ({len(opens['host_failed'])} failed"
          f"{': ' + ', '.join(opens['host_failed']) if opens['host_failed'] else ''}) "
          f"+ {opens['dirs']} directory opens (listed; not in the floor)")
    print(f"  check: the floor's rule over memtop's pids gives {opens['floor_rule']} per-pid opens "
          f"+ {len(FLOOR_FILES)} for the floor itself = {expect_pid}, measured {floor_pid}; host "
          f"{opens['host']} vs {floor_host} -> "
          f"{'counts agree' if agree else 'COUNTS DIFFER (the population moved between the passes?)'}"
          + (f"; memtop reads {extra_opens} more per-pid files than the floor, at the "
             f"{len(opens['partial'])} pid(s) whose smaps_rollup fails but which are no kernel "
             f"thread (refused or zombie: pid {', '.join(p for p, _ in opens['partial'][:5])})"
             if opens["partial"] else ""))
    if "proc_read_pass" in ex:
        pr = ex["proc_read_pass"]
        print(f"reference proc_read -g -s: {pr.get('files', 0) + pr.get('failed', 0)} per-pid opens "
              f"+ meminfo, vmstat only; memtop --json listed {ex.get('memtop_json_processes')} processes")
    else:
        print(f"memtop --json listed {ex.get('memtop_json_processes')} processes")

    floor_loop = per_round(res, "floor", "loop_cpu_s")
    floor_whole = per_round(res, "floor", "cpu_s")
    coll = per_round(res, "collect", "cpu_s")
    mj = per_round(res, "memtop-json", "cpu_s")
    smem = per_round(res, "smem", "cpu_s") if use_smem else []
    py = per_round(res, "python", "cpu_s")

    pr_loop = per_round(res, "proc_read", "loop_cpu_s")
    pr_whole = per_round(res, "proc_read", "cpu_s")
    has_pr = "proc_read" in res["samples"]
    rows = [("C floor, same files, read loop (bench/floor.c cpu_ns, no exec)", floor_loop,
             per_round(res, "floor", "loop_wall_s"))]
    if has_pr:
        rows.append(("(reference) C proc_read -g -s, per-pid + meminfo, vmstat only, read loop", pr_loop,
                     per_round(res, "proc_read", "loop_wall_s")))
    rows += [
        ("Python, the floor's reads, no parsing (diagnostic), in-process", per_round(res, "py-read", "cpu_s"),
         per_round(res, "py-read", "wall_s")),
        ("memtop Collector.collect(), in-process", coll, per_round(res, "collect", "wall_s")),
        ("C floor, same files, whole process", floor_whole, per_round(res, "floor", "wall_s")),
    ]
    if has_pr:
        rows.append(("(reference) C proc_read -g -s, whole process", pr_whole, per_round(res, "proc_read", "wall_s")))
    rows.append(("memtop --json, whole process (non-editable install)", mj, per_round(res, "memtop-json", "wall_s")))
    if use_smem:
        rows.append(('smem -c "pid pss uss rss", whole process', smem, per_round(res, "smem", "wall_s")))
    rows.append(("python -c pass (reference)", py, per_round(res, "python", "wall_s")))
    imp = per_round(res, "imports", "cpu_s")
    rows.append(("python -c 'import memtop.cli' (start-up + imports, no work)", imp,
                 per_round(res, "imports", "wall_s")))
    rows.append(("memtop --json minus in-process (warm) collect, per round",
                 [a - b if a is not None and b is not None else None for a, b in zip(mj, coll)], []))
    rows.append(("memtop --json minus start-up + imports, per round (cold collect + JSON)",
                 [a - b if a is not None and b is not None else None for a, b in zip(mj, imp)], []))
    print()
    print("| variant | CPU ms median [min–max] | wall ms median |")
    print("|---|---|---|")
    for label, cpu, wall in rows:
        w = f"{summarize(wall)[0] * 1e3:.1f}" if wall else ""
        print(f"| {label} | {fmt3(cpu, 1e3)} | {w} |")

    r_in = ratios(coll, floor_loop)
    r_whole = ratios(mj, floor_whole)
    r_smem = ratios(smem, mj) if use_smem else []
    pyr = per_round(res, "py-read", "cpu_s")
    med_in, med_whole = summarize(r_in)[0], summarize(r_whole)[0]
    whole_goal_here = n == GOAL_WHOLE_AT
    goals = {
        "inproc_over_floor": {"median": med_in, "goal": GOAL_INPROC, "verdict": verdict(med_in, GOAL_INPROC)},
        "json_whole_over_floor_whole": {
            "median": med_whole, "goal": GOAL_WHOLE,
            "verdict": verdict(med_whole, GOAL_WHOLE) if whole_goal_here else f"(goal is at +{GOAL_WHOLE_AT})"},
    }
    print()
    print("| ratio (per round, then median [min–max]) | value | goal | verdict |")
    print("|---|---|---|---|")
    print(f"| in-process collect / C floor (same files) read loop | {fmt3(r_in, 1, 2)} | <= {GOAL_INPROC}x "
          f"| {goals['inproc_over_floor']['verdict']} |")
    print(f"| memtop --json whole / C floor (same files) whole | {fmt3(r_whole, 1, 2)} | <= {GOAL_WHOLE}x at "
          f"+{GOAL_WHOLE_AT} | {goals['json_whole_over_floor_whole']['verdict']} |")
    print(f"| (diagnostic) Python reads, no parsing / C floor read loop | {fmt3(ratios(pyr, floor_loop), 1, 2)} "
          f"| – | – |")
    print(f"| (diagnostic) in-process collect / Python reads, no parsing | {fmt3(ratios(coll, pyr), 1, 2)} "
          f"| – | – |")
    if has_pr:
        print(f"| (reference) in-process collect / proc_read read loop | {fmt3(ratios(coll, pr_loop), 1, 2)} "
              f"| – | – |")
        print(f"| (reference) memtop --json whole / proc_read whole | {fmt3(ratios(mj, pr_whole), 1, 2)} "
              f"| – | – |")
    if use_smem:
        print(f"| smem / memtop --json (whole processes) | {fmt3(r_smem, 1, 2)} | – | – |")
    else:
        print("| smem / memtop --json | smem not installed: skipped | – | – |")
    if "profile" in ex:
        print()
        print(f"cProfile of one Collector.collect() at +{n} (top by tottime; cProfile inflates "
              f"Python-level calls relative to syscalls):")
        print("```")
        print(ex["profile"])
        print("```")
        print(f"cProfile of memtop --json's main() in-process at +{n} (imports excluded; top by tottime):")
        print("```")
        print(ex["profile_cli"])
        print("```")
    return goals


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spawn", default="0,500,2000", help="extra idle process counts (default 0,500,2000)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--json", metavar="OUT", help="write every sample and summary to OUT")
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                    help=f"the shared/ folder holding bench-peers/ (default {DEFAULT_SHARED})")
    ap.add_argument("--no-smem", action="store_true", help="do not run smem even if installed")
    ap.add_argument("--profile", action="store_true",
                    help="cProfile one collect() and one in-process memtop --json per population (by tottime)")
    a = ap.parse_args()
    spawns = [int(x) for x in a.spawn.split(",") if x.strip()]
    if a.rounds < 1 or any(x < 0 for x in spawns):
        ap.error("--rounds must be >= 1 and --spawn counts >= 0")
    spawner = a.shared / "bench-peers" / "spawn_procs.py"
    if not spawner.is_file():
        ap.error(f"no {spawner}; pass --shared DIR")

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    use_smem = shutil.which("smem") is not None and not a.no_smem
    env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")

    started = time.monotonic()
    meta = {"host": platform.node(), "kernel": platform.release(), "cpus": os.cpu_count(),
            "python": sys.version.split()[0], "rounds": a.rounds, "spawn": spawns,
            "euid": os.geteuid(), "repo": str(REPO), "git": git_state()}
    log(f"# memtop bench/collect.py: {meta['cpus']} CPUs, kernel {meta['kernel']}, Python "
        f"{meta['python']}, euid {meta['euid']}, rounds {a.rounds}, populations +{', +'.join(map(str, spawns))}")
    log(f"# memtop source: {meta['git']}")
    if not use_smem:
        log("# note: smem is not installed (or --no-smem): the smem column is skipped "
            "(apt-get install smem to add it)")
    if os.geteuid() != 0:
        log("# note: not root: other users' smaps_rollup is unreadable to both memtop and the floor")

    results, goals = [], {}
    with tempfile.TemporaryDirectory(prefix="memtop-bench-") as tmp_s:
        tmp = Path(tmp_s)
        floor = build_c(FLOOR_SRC, tmp)
        proc_read = build_proc_read(a.shared, tmp)
        install = build_install(tmp)
        meta["install"] = install
        log(f"# whole-process runs time a non-editable install: pip install of a copy of the working tree "
            f"({install['source']}) into a temporary venv, built in {install['build_s']:.0f} s; memtop from "
            f"{install['cli_file']}, bytecode {'compiled by pip' if install['pyc'] else 'MISSING'}")
        imports = import_check(install["python"], env)
        for n in spawns:
            results.append(measure(n, a.rounds, floor, proc_read, install, tmp, spawner, env, use_smem,
                                   a.profile))

    print()
    print(f"# Results (CPU = user+sys; floor = bench/floor.c -l <the host files one collect() opens> "
          f"-f {','.join(FLOOR_FILES)}; reference proc_read -g -s -f {','.join(FLOOR_FILES)}; "
          f"memtop --json, python -c pass and import memtop.cli from the non-editable install "
          f"{meta['install']['venv']} (removed at exit))")
    for res in results:
        goals[res["spawn"]] = report(res, use_smem)

    print()
    print("## memtop --once / --json never import textual (python -X importtime -m memtop ..., "
          "non-editable install)")
    ok = True
    for r in imports:
        bad = {m: v for m, v in r["ui"].items() if v}
        ok &= not r["ui"]["textual"] and r["rc"] == 0
        print(f"- memtop {r['flag']}: exit {r['rc']}, {r['modules']} modules imported in "
              f"{r['import_ms']:.1f} ms; textual imported: {'YES' if r['ui']['textual'] else 'no'}"
              f"; rich: {'yes' if r['ui']['rich'] else 'no'}; plotext: {'yes' if r['ui']['plotext'] else 'no'}"
              + (f" ({', '.join(v[0] for v in bad.values())} ...)" if bad else ""))
    print(f"  -> {'MET' if ok else 'NOT MET'}: no textual import in --once/--json")

    print()
    print("## Goals (median of per-round ratios)")
    for n, g in goals.items():
        gi, gw = g["inproc_over_floor"], g["json_whole_over_floor_whole"]
        line = f"- +{n}: in-process/floor {gi['median']:.2f}x (<= {GOAL_INPROC}x: {gi['verdict']})"
        line += f"; memtop --json/floor whole {gw['median']:.2f}x"
        line += (f" (<= {GOAL_WHOLE}x: {gw['verdict']})" if n == GOAL_WHOLE_AT else f" {gw['verdict']}")
        print(line)
    if GOAL_WHOLE_AT not in goals:
        print(f"- the whole-process goal is judged at +{GOAL_WHOLE_AT}, which this run did not measure")
    print(f"# total {time.monotonic() - started:.0f} s")

    if a.json:
        out = {"meta": meta, "imports": imports, "goals": {str(k): v for k, v in goals.items()},
               "populations": results}
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1, default=str)
        log(f"# wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
