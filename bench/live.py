#!/usr/bin/env python3
"""memtop's live dashboard beside htop (PSS column on) in tmux: CPU %, RSS, and key-press latency (prints figures; not a test).

Usage (from the repo, with any Python >= 3.10; needs tmux and htop: apt-get install -y tmux htop):
  python3 bench/live.py [--seconds 30] [--warmup 5] [--spawn 0,500,2000] [--rounds 3]
                        [--latency-procs 5000] [--presses 20] [--json OUT.json]
                        [--captures DIR] [--shared DIR] [--keep-going]

memtop runs as a user runs it: the working tree (pyproject.toml, README.md, app/, widgets/,
collectors/) is copied into a temporary folder and pip-installed, non-editable, into a temporary
venv once per run; that venv's ``memtop --interval 1`` is what is measured.  Nothing in the work
tree is written.

CPU and memory, per population (the machine as it is, then +N idle processes from
shared/bench-peers/spawn_procs.py: fork mode, 1 MiB private + 4 MiB shared each):
  each round starts memtop and ``htop -d 10`` with a PSS column (htoprc ``fields=`` in a private
  $HOME, as shared/bench-peers/live_overhead.py does; htop then reads smaps_rollup), in an order
  rotated by one per round, each alone in a 200x50 window of a private tmux server (-L with its
  own socket name, -f /dev/null), both at a 1-second refresh.  After --warmup s (memtop's first
  pass reads every process's smaps_rollup) the tool's utime+stime (/proc/PID/stat, whole thread
  group) is sampled over --seconds of wall time: CPU % of one core = delta / wall.  Per-thread
  schedstat run time (ns) gives the same figure at a finer grain as a cross-check.  At the end of
  the window: VmRSS (/proc/PID/status) and Pss / USS (Private_*) from smaps_rollup.  The tmux
  server's CPU over the window (terminal emulation of what the tool draws) and the rest of the
  machine's (/proc/stat busy time minus tool and tmux server) are reported beside it: this
  machine is shared, and others' work inflates and jitters CPU figures.  A pane capture at the
  end checks what each tool shows (memtop: process count, rows with an old PSS marked "~";
  htop: "Tasks:" and the PSS column).

Key-press latency, at --latency-procs extra processes (default 5000; if pid or memory limits
forbid that, the largest count that fits, said so in the output): memtop in the same 200x50
pane; after a warm-up, --presses times ``tmux send-keys I`` (invert the sort order) at random
phases of the 1 s refresh, then ``tmux capture-pane -p`` polled back to back until the process
table's order has visibly flipped (the PSS column of the rows on screen runs the other way).
Latency = from just before send-keys to the end of the first capture that shows the flip; its
resolution is one capture round trip, and it includes one send-keys round trip: both are timed
on their own (a no-op capture, and send-keys alone) and printed beside it.

Goals (from the issue; PSS and USS on screen for every process under memtop's freshness rule):
  memtop CPU <= 1 % of one core at the machine's own population (~80 pids), the +0 population
  memtop CPU <= 5 % at ~2,070 pids, the +2000 population
  a key press answered on screen within 50 ms at 5,000 processes (judged on every press: max;
      the median is printed too)
  memtop's own RSS <= 80 MiB (judged on the largest VmRSS seen, latency run included)
CPU goals are judged on the median over rounds.  memtop re-reads every process's smaps_rollup at
least every 60 s (Scheduler.max_age); a window that ends before warm-up + 60 s misses that pass,
so the output says what it adds when --seconds is shorter (see the note it prints).

Cleanup on every exit path (normal, exception, SIGINT/SIGTERM/SIGHUP): tools stopped, tmux
server killed, populations stopped (spawn_procs.py also ends on stdin EOF), temporary folder
removed.  A watchdog process does the tmux and folder part if this script is SIGKILLed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared"
TREE = ("pyproject.toml", "README.md", "app", "widgets", "collectors")  # what pip needs to build memtop
SIZE = ("200", "50")
GOAL_CPU = {0: 1.0, 2000: 5.0}  # population (+N) -> max CPU % of one core
GOAL_KEY_MS = 50.0
GOAL_KEY_PROCS = 5000
GOAL_RSS_MIB = 80.0
MAX_AGE_S = 60.0  # memtop.state.session.Scheduler.max_age
# htop 3.2 field ids: PID USER RES PSS SWAP S CPU% MEM% TIME+ Command (118 = M_PSS), as live_overhead.py
HTOP_PSS_FIELDS = "0 48 39 118 119 2 46 47 49 1"
TOOLS = ("memtop", "htop-pss")

bl = None  # shared/bench-peers/benchlib.py, imported in main()


def log(msg: str = "") -> None:
    print(msg, flush=True)


def summarize(xs):
    ys = [x for x in xs if x is not None]
    if not ys:
        nan = float("nan")
        return nan, nan, nan
    return statistics.median(ys), min(ys), max(ys)


def fmt3(xs, digits=2):
    med, lo, hi = summarize(xs)
    if med != med:
        return "–"
    f = f"{{:.{digits}f}}"
    return f"{f.format(med)} [{f.format(lo)}–{f.format(hi)}]"


# --- tmux, watchdog, temporary install -------------------------------------------------------


class Tmux:
    def __init__(self, sock: str) -> None:
        self.sock = sock

    def argv(self, *args: str) -> list[str]:
        return ["tmux", "-L", self.sock, "-f", "/dev/null", *args]

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*args), check=check, capture_output=True, text=True)

    def socket_path(self) -> str:
        return os.path.join(os.environ.get("TMUX_TMPDIR") or "/tmp", f"tmux-{os.getuid()}", self.sock)

    def kill_server(self) -> None:
        self("kill-server", check=False)
        try:
            os.unlink(self.socket_path())  # tmux leaves it behind
        except OSError:
            pass

    def server_pid(self) -> int | None:
        r = self("display-message", "-p", "#{pid}", check=False)
        return int(r.stdout.strip()) if r.returncode == 0 and r.stdout.strip().isdigit() else None


WATCHDOG = r"""
import os, shutil, subprocess, sys
sock, tmp = sys.argv[1], sys.argv[2]
try:
    while sys.stdin.buffer.read(65536):
        pass
except BaseException:
    pass
subprocess.run(["tmux", "-L", sock, "-f", "/dev/null", "kill-server"], capture_output=True)
try:
    os.unlink(sys.argv[3])
except OSError:
    pass
shutil.rmtree(tmp, ignore_errors=True)
"""


def start_watchdog(sock: str, tmp: str, sock_path: str) -> subprocess.Popen:
    """Kills the tmux server and removes tmp once our end of its stdin closes (even on SIGKILL)."""
    return subprocess.Popen([sys.executable, "-c", WATCHDOG, sock, tmp, sock_path], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def build_install(tmp: str) -> tuple[str, str]:
    """Non-editable install of the working tree into tmp/venv; returns (memtop path, version)."""
    src = os.path.join(tmp, "src")
    os.makedirs(src)
    for name in TREE:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, os.path.join(src, name), ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src)
    venv = os.path.join(tmp, "venv")
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    r = subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", src], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"pip install of the working tree failed:\n{r.stdout}\n{r.stderr}")
    py = os.path.join(venv, "bin", "python")
    version = subprocess.run([py, "-c", "import memtop; print(memtop.__version__)"],
                             capture_output=True, text=True).stdout.strip()
    log(f"# built a non-editable install of {REPO} in {time.monotonic() - t0:.1f} s: memtop {version}")
    return os.path.join(venv, "bin", "memtop"), version


def setup_home(tmp: str, tool: str) -> str:
    """A private $HOME per tool: no tool reads or writes the real user's config."""
    home = os.path.join(tmp, "home", tool)
    os.makedirs(os.path.join(home, ".config", "htop"), exist_ok=True)
    if tool == "htop-pss":
        with open(os.path.join(home, ".config", "htop", "htoprc"), "w") as f:
            f.write(f"fields={HTOP_PSS_FIELDS}\n")
    return home


def tool_argv(tool: str, memtop: str) -> list[str]:
    if tool == "memtop":
        return [memtop, "--interval", "1"]
    if tool == "htop-pss":
        return ["htop", "-d", "10"]
    raise ValueError(tool)


class Running:
    """One tool alone in its own session of the private tmux server; stop() always stops it."""

    def __init__(self, tmux: Tmux, tmp: str, tool: str, argv: list[str]) -> None:
        self.tmux = tmux
        self.session = f"lv-{tool}"
        home = setup_home(tmp, tool)
        env = {"HOME": home, "XDG_CONFIG_HOME": os.path.join(home, ".config"), "LANG": "C.UTF-8",
               "LC_ALL": "C.UTF-8", "TERM": "tmux-256color", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        envs = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        cmd = f"cd {shlex.quote(home)} && exec env -i {envs} {shlex.join(argv)}"
        tmux("kill-session", "-t", self.session, check=False)
        tmux("new-session", "-d", "-s", self.session, "-x", SIZE[0], "-y", SIZE[1], cmd)
        self.pid = int(tmux("list-panes", "-t", self.session, "-F", "#{pane_pid}").stdout.split()[0])

    def capture(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session, check=False).stdout

    def stop(self) -> None:
        self.tmux("kill-session", "-t", self.session, check=False)
        deadline = time.monotonic() + 5
        while bl.pid_alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if bl.pid_alive(self.pid):  # our own tool process, started above
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# --- /proc sampling --------------------------------------------------------------------------


def busy_ticks() -> int:
    """All CPUs' busy time (clock ticks) from /proc/stat: everything but idle and iowait."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v[:8]) - v[3] - v[4]  # user nice system idle iowait irq softirq steal


def vm_rss_kb(pid: int) -> int | None:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def memtop_screen(cap: str) -> dict:
    out: dict = {}
    m = re.search(r"(\d+) processes", cap)
    if m:
        out["shown_processes"] = int(m.group(1))
    m = re.search(r"memtop: CPU ([\d.]+)%\s+RSS ([\d.]+ \w+)", cap)
    if m:
        out["self_reported"] = f"CPU {m.group(1)}% RSS {m.group(2)}"
    rows = table_rows(cap)
    out["rows_on_screen"] = len(rows)
    out["stale_rows_on_screen"] = sum(1 for r in rows if r[2])
    out["rows_without_pss"] = sum(1 for r in rows if r[1] is None)
    return out


def htop_screen(cap: str) -> dict:
    out: dict = {}
    m = re.search(r"Tasks: (\d+)", cap)
    if m:
        out["shown_processes"] = int(m.group(1))
    out["pss_column"] = any(re.search(r"\bPID\b.*\bPSS\b", line) for line in cap.splitlines())
    return out


_UNITS = {"B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(tok: str) -> tuple[float | None, bool]:
    stale = tok.startswith("~")
    tok = tok.lstrip("~")
    # the table writes binary units with an "i" (48.1Mi) and may mark an odd PSS with "!"
    m = re.fullmatch(r"([\d.]+)([BKMGT])i?!?", tok)
    if not m:
        return None, stale
    return float(m.group(1)) * _UNITS[m.group(2)], stale


def table_rows(cap: str) -> list[tuple[int, float | None, bool]]:
    """(pid, PSS bytes or None, stale) for each process row of memtop's table on screen."""
    lines = cap.splitlines()
    for i, line in enumerate(lines):
        toks = [t.strip("▼▲") for t in line.split()]  # the sorted column's header carries an arrow
        if toks[:1] == ["PID"] and "PSS" in toks and "USS" in toks:
            col = toks.index("PSS")
            rows = []
            for row in lines[i + 1:]:
                t = row.split()
                if len(t) <= col or not t[0].isdigit() or t[1] == "processes":  # the totals line below the rows
                    break
                pss, stale = parse_size(t[col])
                rows.append((int(t[0]), pss, stale))
            return rows
    return []


def table_order(cap: str) -> str | None:
    """'desc' or 'asc': which way the PSS column of the rows on screen runs (None: cannot tell)."""
    vals = [pss for _, pss, _ in table_rows(cap) if pss is not None]
    if len(vals) < 2 or vals[0] == vals[-1]:
        return None
    return "desc" if vals[0] > vals[-1] else "asc"


# --- one CPU / memory measurement -------------------------------------------------------------


def measure(tmux: Tmux, tmp: str, tool: str, memtop: str, a, capdir: str | None, tag: str) -> dict:
    run = Running(tmux, tmp, tool, tool_argv(tool, memtop))
    pid, spid = run.pid, tmux.server_pid()
    res: dict = {"tool": tool, "pid": pid}
    try:
        time.sleep(a.warmup)
        if not bl.pid_alive(pid):
            res["error"] = "exited during warm-up: " + " | ".join(run.capture().split("\n")[:5])
            return res
        w0, c0, n0, s0, b0 = (time.monotonic(), bl.cpu_ticks(pid), bl.task_runtime_ns(pid),
                              bl.cpu_ticks(spid) if spid else 0, busy_ticks())
        time.sleep(a.seconds)
        w1, c1, n1, s1, b1 = (time.monotonic(), bl.cpu_ticks(pid), bl.task_runtime_ns(pid),
                              bl.cpu_ticks(spid) if spid else 0, busy_ticks())
        wall = w1 - w0
        res.update(bl.rss_pss_kb(pid))
        res["vmrss_kb"] = vm_rss_kb(pid)
        res["cpu_pct"] = 100.0 * (c1 - c0) / bl.CLK_TCK / wall
        res["cpu_pct_ns"] = 100.0 * sum(v - n0.get(t, 0) for t, v in n1.items()) / 1e9 / wall
        res["threads"] = len(n1)
        res["tmux_cpu_pct"] = 100.0 * (s1 - s0) / bl.CLK_TCK / wall
        res["others_cpu_pct"] = 100.0 * ((b1 - b0) - (c1 - c0) - (s1 - s0)) / bl.CLK_TCK / wall
        res["wall_s"] = wall
        cap = run.capture()
        res["screen"] = memtop_screen(cap) if tool == "memtop" else htop_screen(cap)
        if capdir:
            with open(os.path.join(capdir, f"{tag}-{tool}.txt"), "w") as f:
                f.write(cap)
    except OSError as e:  # the tool died mid-window
        res["error"] = f"{type(e).__name__}: {e}"
    finally:
        run.stop()
    return res


# --- populations -----------------------------------------------------------------------------


def max_spawnable() -> tuple[int, str]:
    """How many more idle children pid_max, the user's process limit and MemAvailable allow."""
    import resource

    pids = sum(1 for n in os.listdir("/proc") if n.isdigit())
    threads = int(open("/proc/loadavg").read().split()[3].split("/")[1])
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[0]
    with open("/proc/meminfo") as f:
        avail_kb = next(int(line.split()[1]) for line in f if line.startswith("MemAvailable:"))
    per_child_kb = 2.6 * 1024  # measured ~2 MiB each (1 MiB private + Python pages + page tables), margin
    limits = {"pid_max": pid_max - threads - 1000,
              "ulimit -u": (nproc - threads - 1000) if nproc != resource.RLIM_INFINITY else 1 << 30,
              "MemAvailable": int(0.8 * avail_kb / per_child_kb)}
    which = min(limits, key=limits.get)
    return max(0, limits[which]), f"{which} (pids now {pids}, threads {threads})"


def start_population(n: int, pops: list):
    """A started benchlib.Population of n children, or fewer when limits forbid n (said so)."""
    want = n
    cap, why = max_spawnable()
    if n > cap:
        log(f"# NOTE: {n} extra processes do not fit ({why}): using {cap}")
        n = cap
    while n > 0:
        pop = bl.Population(n, log=log)
        pops.append(pop)
        try:
            pop.start()
            return pop, n
        except (RuntimeError, OSError) as e:
            pops.remove(pop)
            pop.stop()
            log(f"# NOTE: spawning {n} processes failed ({e}); trying {int(n * 0.75)}")
            n = int(n * 0.75)
    raise RuntimeError(f"could not spawn any of {want} processes")


# --- key latency -----------------------------------------------------------------------------


def key_latency(tmux: Tmux, tmp: str, memtop: str, a, capdir: str | None) -> dict:
    run = Running(tmux, tmp, "memtop", tool_argv("memtop", memtop))
    res: dict = {"pid": run.pid}
    rng = random.Random(a.seed)
    cap_argv = tmux.argv("capture-pane", "-p", "-t", run.session)
    key_argv = tmux.argv("send-keys", "-t", run.session, a.key)

    def capture() -> str:
        return subprocess.run(cap_argv, capture_output=True, text=True).stdout

    try:
        time.sleep(a.latency_warmup)
        if not bl.pid_alive(run.pid):
            res["error"] = "memtop exited during warm-up"
            return res
        cap = capture()
        res["screen_before"] = memtop_screen(cap)
        # the method's own cost: a capture of an unchanged pane and a send-keys round trip
        noop = []
        for _ in range(30):
            t0 = time.perf_counter()
            table_order(capture())
            noop.append((time.perf_counter() - t0) * 1e3)
        res["noop_capture_ms"] = noop
        state = table_order(cap)
        deadline = time.monotonic() + 10
        while state is None and time.monotonic() < deadline:  # not drawn yet
            time.sleep(0.2)
            state = table_order(capture())
        if state is None:
            res["error"] = "cannot tell the sort order of the rows on screen"
            return res
        lat, sends, polls, timeouts = [], [], [], 0
        c0, w0 = bl.cpu_ticks(run.pid), time.monotonic()
        for _ in range(a.presses):
            want = "asc" if state == "desc" else "desc"
            n = 0
            t0 = time.perf_counter()
            subprocess.run(key_argv, capture_output=True)
            sends.append((time.perf_counter() - t0) * 1e3)
            while True:
                seen = table_order(capture())
                t = time.perf_counter()
                n += 1
                if seen == want:
                    lat.append((t - t0) * 1e3)
                    state = want
                    break
                if t - t0 > a.key_timeout:
                    timeouts += 1
                    state = seen or state
                    break
                if a.poll_sleep:
                    time.sleep(a.poll_sleep)
            polls.append(n)
            time.sleep(rng.uniform(0.2, 1.2))  # the next press at another phase of the refresh
        res["cpu_pct_during"] = 100.0 * (bl.cpu_ticks(run.pid) - c0) / bl.CLK_TCK / (time.monotonic() - w0)
        res.update(latency_ms=lat, send_keys_ms=sends, polls=polls, timeouts=timeouts)
        res["vmrss_kb"] = vm_rss_kb(run.pid)
        res.update(bl.rss_pss_kb(run.pid))
        cap = capture()
        res["screen_after"] = memtop_screen(cap)
        if capdir:
            with open(os.path.join(capdir, "latency-memtop.txt"), "w") as f:
                f.write(cap)
    finally:
        run.stop()
    return res


# --- report ----------------------------------------------------------------------------------


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "NOT MET")


def cpu_table(results: list[dict], a, rss_seen: list) -> None:
    log()
    log(f"| population | /proc pids (all, user) | tool | CPU % med [min–max] | CPU % (schedstat) | "
        f"tmux server CPU % | others' CPU % | VmRSS MiB | PSS MiB | USS MiB | on screen (last capture) |")
    log("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in a.spawn_list:
        for tool in TOOLS:
            rs = [r for r in results if r["spawn"] == n and r["tool"] == tool]
            ok = [r for r in rs if "cpu_pct" in r]
            counts = [r["counts"] for r in rs]
            cnt = (f"{summarize([c[0] for c in counts])[0]:.0f}, {summarize([c[1] for c in counts])[0]:.0f}"
                   if counts else "–")
            if not ok:
                log(f"| +{n} | {cnt} | {tool} | failed: {[r.get('error') for r in rs]} ||||||||")
                continue
            scr = ok[-1].get("screen", {})
            if tool == "memtop":
                shown = (f"{scr.get('shown_processes', '?')} processes, {scr.get('rows_on_screen', 0)} rows, "
                         f"{scr.get('stale_rows_on_screen', 0)} marked old")
                rss_seen += [(r["vmrss_kb"] / 1024, f"+{n}") for r in ok if r.get("vmrss_kb")]
            else:
                shown = f"Tasks: {scr.get('shown_processes', '?')}, PSS column {'on' if scr.get('pss_column') else 'MISSING'}"
            log(f"| +{n} | {cnt} | {tool} | {fmt3([r['cpu_pct'] for r in ok])} | "
                f"{summarize([r['cpu_pct_ns'] for r in ok])[0]:.2f} | "
                f"{summarize([r['tmux_cpu_pct'] for r in ok])[0]:.2f} | "
                f"{summarize([r['others_cpu_pct'] for r in ok])[0]:.1f} | "
                f"{summarize([r['vmrss_kb'] for r in ok])[0] / 1024:.1f} | "
                f"{summarize([r['pss_kb'] for r in ok])[0] / 1024:.1f} | "
                f"{summarize([r['uss_kb'] for r in ok])[0] / 1024:.1f} | {shown} |")
    log()
    log("memtop / htop-pss CPU, per round: " + "; ".join(
        f"+{n}: {fmt3(_ratios(results, n))}" for n in a.spawn_list))
    if a.seconds + a.warmup < MAX_AGE_S:
        log(f"note: the windows ({a.warmup:g} s warm-up + {a.seconds:g} s) end before memtop's "
            f"{MAX_AGE_S:.0f}-s re-read of every process, which these figures therefore leave out; it "
            f"adds about one full smaps_rollup pass per {MAX_AGE_S:.0f} s (~0.45 s CPU at +2000 on "
            f"this machine, perf-baseline.md A1: ~0.75 % of a core). Use --seconds {MAX_AGE_S:.0f} or "
            f"more to include it.")


def report(results: list[dict], latency: dict | None, a) -> list[dict]:
    goals: list[dict] = []
    rss_seen: list[tuple[float, str]] = []
    if a.spawn_list:
        cpu_table(results, a, rss_seen)
    if latency is not None:
        log()
        lat = latency.get("latency_ms", [])
        n = latency.get("procs")
        if lat:
            med, lo, hi = summarize(lat)
            noop = latency["noop_capture_ms"]
            sends = latency["send_keys_ms"]
            log(f"key latency at +{n} extra processes ({latency.get('counts')} /proc pids (all, user); memtop "
                f"showed {latency.get('screen_after', {}).get('shown_processes', '?')} processes): key "
                f"{a.key!r}, {len(lat)} presses ({latency['timeouts']} timed out after {a.key_timeout:g} s)")
            log(f"  press -> flipped order on screen: median {med:.1f} ms, min {lo:.1f}, max {hi:.1f}, "
                f"p90 {_pct(lat, 90):.1f} ms; captures per press median {statistics.median(latency['polls']):.0f}")
            log(f"  method's own cost: one capture-pane + parse median {statistics.median(noop):.1f} ms "
                f"[{min(noop):.1f}–{max(noop):.1f}] (the resolution); send-keys round trip median "
                f"{statistics.median(sends):.1f} ms [{min(sends):.1f}–{max(sends):.1f}] (included in the latency)")
            log(f"  memtop during the presses: CPU {latency.get('cpu_pct_during', float('nan')):.1f} %, "
                f"VmRSS {latency.get('vmrss_kb', 0) / 1024:.1f} MiB, PSS {latency.get('pss_kb', 0) / 1024:.1f} MiB")
            if latency.get("vmrss_kb"):
                rss_seen.append((latency["vmrss_kb"] / 1024, f"+{n} (latency run)"))
        else:
            log(f"key latency at +{n}: no measurement ({latency.get('error', 'no press answered')})")

    log()
    log("Goals:")
    for n, goal in GOAL_CPU.items():
        if n not in a.spawn_list:
            continue
        cpu = [r["cpu_pct"] for r in results if r["spawn"] == n and r["tool"] == "memtop" and "cpu_pct" in r]
        counts = [r["counts"][0] for r in results if r["spawn"] == n and r["tool"] == "memtop"]
        med = summarize(cpu)[0]
        ok = None if med != med else med <= goal
        goals.append({"goal": f"cpu<={goal}%@+{n}", "value": med, "met": ok})
        log(f"  memtop CPU <= {goal:g} % at +{n} (~{summarize(counts)[0]:.0f} pids): median {med:.2f} % "
            f"-> {verdict(ok)}")
    if latency is not None:
        lat = latency.get("latency_ms", [])
        n = latency.get("procs")
        at = "" if n == GOAL_KEY_PROCS else f" (measured at +{n} extra processes, not +{GOAL_KEY_PROCS})"
        if lat and not latency.get("timeouts"):
            ok = max(lat) <= GOAL_KEY_MS
            goals.append({"goal": f"key<={GOAL_KEY_MS}ms@+{n}", "value": max(lat), "median": statistics.median(lat), "met": ok})
            log(f"  key press on screen <= {GOAL_KEY_MS:g} ms at +{GOAL_KEY_PROCS} processes{at}: every press "
                f"(max {max(lat):.1f} ms) -> {verdict(ok)}; median {statistics.median(lat):.1f} ms -> "
                f"{verdict(statistics.median(lat) <= GOAL_KEY_MS)}")
        else:
            goals.append({"goal": f"key<={GOAL_KEY_MS}ms@+{n}", "value": None, "met": False})
            log(f"  key press on screen <= {GOAL_KEY_MS:g} ms at +{GOAL_KEY_PROCS} processes{at}: "
                f"{latency.get('timeouts', 0)} presses unanswered within {a.key_timeout:g} s -> NOT MET")
    if rss_seen:
        top, where = max(rss_seen)
        ok = top <= GOAL_RSS_MIB
        goals.append({"goal": f"rss<={GOAL_RSS_MIB}MiB", "value": top, "met": ok})
        cpu_runs = [x for x in rss_seen if "latency" not in x[1]]
        also = f"; in the CPU runs {max(cpu_runs)[0]:.1f} MiB at {max(cpu_runs)[1]}" if cpu_runs and where != max(cpu_runs)[1] else ""
        log(f"  memtop's own RSS <= {GOAL_RSS_MIB:g} MiB: largest VmRSS {top:.1f} MiB (at {where}{also}) -> {verdict(ok)}")
    return goals


def _ratios(results, n):
    out = []
    for r in {x["round"] for x in results if x["spawn"] == n}:
        pair = {x["tool"]: x.get("cpu_pct") for x in results if x["spawn"] == n and x["round"] == r}
        if pair.get("memtop") is not None and pair.get("htop-pss"):
            out.append(pair["memtop"] / pair["htop-pss"])
    return out


def _pct(xs, p):
    ys = sorted(xs)
    k = min(len(ys) - 1, max(0, round(p / 100 * (len(ys) - 1))))
    return ys[k]


# --- main ------------------------------------------------------------------------------------


def main() -> int:
    global bl
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="measurement window per tool (default 30)")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds before the window (default 5)")
    ap.add_argument("--spawn", default="0,500,2000", help="extra idle processes, comma-separated (default 0,500,2000)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per population (default 3)")
    ap.add_argument("--latency-procs", type=int, default=GOAL_KEY_PROCS,
                    help=f"extra processes for the key-latency run; 0 skips it (default {GOAL_KEY_PROCS})")
    ap.add_argument("--presses", type=int, default=20)
    ap.add_argument("--key", default="I", help="the key pressed; it must flip the sort order (default I)")
    ap.add_argument("--key-timeout", type=float, default=5.0)
    ap.add_argument("--latency-warmup", type=float, default=10.0)
    ap.add_argument("--poll-sleep", type=float, default=0.0, help="seconds between captures (default 0: back to back)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="write every sample here")
    ap.add_argument("--captures", help="save each tool's last pane capture in this folder")
    ap.add_argument("--shared", default=str(DEFAULT_SHARED), help="the shared/ folder (bench-peers/)")
    a = ap.parse_args()
    a.spawn_list = [int(x) for x in a.spawn.split(",") if x.strip()]

    peers = os.path.join(a.shared, "bench-peers")
    sys.path.insert(0, peers)
    import benchlib  # noqa: E402  (shared/bench-peers/benchlib.py)

    bl = benchlib
    for exe in ("tmux", "htop"):
        if shutil.which(exe) is None:
            print(f"{exe} is not installed (apt-get install -y {exe})", file=sys.stderr)
            return 2

    def _term(signum, _frame):  # run the finally-blocks
        raise SystemExit(f"stopped by signal {signum}")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _term)

    if a.captures:
        os.makedirs(a.captures, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="memtop-live-")
    tmux = Tmux(f"memtop-live-{os.getpid()}")
    watchdog = start_watchdog(tmux.sock, tmp, tmux.socket_path())
    pops: list = []
    results: list[dict] = []
    latency = None
    started = time.monotonic()
    try:
        htop_v = subprocess.run(["htop", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
        tmux_v = subprocess.run(["tmux", "-V"], capture_output=True, text=True).stdout.strip()
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.split("\n")
        dirty = [d[3:] for d in dirty if d.strip()]
        log(f"# {datetime.datetime.now().isoformat(timespec='seconds')}  {platform.node()}  "
            f"kernel {platform.release()}  {os.cpu_count()} CPUs  {htop_v}  {tmux_v}  "
            f"work tree {head}{' + changes to ' + ', '.join(dirty) if dirty else ''}")
        log(f"# {a.rounds} rounds x {a.seconds:g} s (after {a.warmup:g} s warm-up) per tool per population "
            f"+{', +'.join(map(str, a.spawn_list))}; tmux -L {tmux.sock}, {SIZE[0]}x{SIZE[1]}, 1 s refresh")
        memtop, version = build_install(tmp)
        tmux("kill-server", check=False)
        # a keep-alive session keeps the private server (and its pid) up across tools
        tmux("new-session", "-d", "-s", "keepalive", "-x", SIZE[0], "-y", SIZE[1], "sleep 7200")
        per_tool = a.seconds + a.warmup + 6
        for n in a.spawn_list:
            pop = None
            if n > 0:
                pop, got = start_population(n, pops)
                if got != n:
                    log(f"# NOTE: +{n} population has only {got} processes")
            for r in range(a.rounds):
                order = list(TOOLS[r % len(TOOLS):] + TOOLS[:r % len(TOOLS)])
                for tool in order:
                    if pop is not None:
                        pop.ensure(need_s=per_tool + 5)
                    counts = bl.proc_counts()
                    res = measure(tmux, tmp, tool, memtop, a, a.captures, f"n{n}-round{r}")
                    res.update(spawn=n, round=r, counts=counts)
                    results.append(res)
                    scr = res.get("screen", {})
                    scr = ", ".join(f"{k} {v}" for k, v in scr.items() if k != "self_reported")
                    log(f"# +{n} round {r + 1}: {tool:9s} cpu {res.get('cpu_pct', float('nan')):6.2f}%  "
                        f"tmux {res.get('tmux_cpu_pct', float('nan')):5.2f}%  others {res.get('others_cpu_pct', float('nan')):5.1f}%  "
                        f"VmRSS {(res.get('vmrss_kb') or 0) / 1024:6.1f} MiB  PSS {res.get('pss_kb', 0) / 1024:6.1f} MiB  "
                        f"/proc {counts}  [{scr}] {res.get('error', '')}")
            if pop is not None:
                pops.remove(pop)
                pop.stop()
        if a.latency_procs > 0:
            pop, got = start_population(a.latency_procs, pops)
            counts = bl.proc_counts()
            latency = key_latency(tmux, tmp, memtop, a, a.captures)
            latency.update(procs=got, wanted=a.latency_procs, counts=counts)
            pops.remove(pop)
            pop.stop()
    finally:
        for pop in pops:
            pop.stop()
        tmux.kill_server()
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            watchdog.stdin.close()
            watchdog.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
    goals = report(results, latency, a)
    log(f"\n# total {time.monotonic() - started:.0f} s")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"args": {k: v for k, v in vars(a).items()}, "memtop_version": version,
                       "results": results, "latency": latency, "goals": goals}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
