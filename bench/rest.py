#!/usr/bin/env python3
"""The dashboard at rest: memtop's CPU beside an older memtop, a minimal Textual app and htop (prints figures; not a test).

Usage (from the repo, any Python >= 3.10; needs tmux, and htop for --htop):
  python3 bench/rest.py [--before REV] [--seconds 30] [--warmup 8] [--rounds 3]
                        [--namespace 72] [--htop] [--size 200x50]

Each tool runs alone in a --size window of a private tmux server (as bench/live.py does), in an
order rotated by one per round; after --warmup s its CPU is read over --seconds of wall time from
/proc/PID/task/*/schedstat (run time in ns, every thread: exact, where utime+stime are sampled at
the tick and charge a process that wakes on the tick boundary a whole tick). Tools:

  memtop         this working tree, pip-installed (non-editable) into a temporary venv
  memtop@REV     --before REV (a git revision of this repo), installed the same way
  textual-floor  the least a Textual app refreshing once a second can cost: one Static updated by
                 a 1-second timer, and a Footer (same venv, same Textual); ``textual-still``: the
                 same app with no timer (Textual's own wake-ups)
  htop-pss       htop -d 10 with a PSS column (--htop; reads every process's smaps_rollup)

--namespace N runs memtop and htop each in a private pid namespace (unshare --pid --mount-proc)
beside N idle sleepers: a quiet host of N+1 processes whatever else runs on this machine (a shared
machine with another benchmark's thousands of processes would otherwise change what they read
between rounds). 0 runs them on the host's own /proc.

Figures are CPU % of one core, median [min-max] over rounds, with the tmux server's CPU beside
them (the terminal emulation of what the tool draws). Compare within one run: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TREE = ("pyproject.toml", "README.md", "app", "widgets", "collectors")

FLOOR = '''
import sys, time
from textual.app import App
from textual.widgets import Footer, Static

class Floor(App):
    def compose(self):
        yield Static(id="s")
        yield Footer()

    def on_mount(self):
        if sys.argv[1:] != ["still"]:
            self.set_interval(1.0, self.tick)

    def tick(self):
        self.query_one("#s", Static).update(f"{time.time():.0f}")

Floor().run()
'''

HTOP_PSS_FIELDS = "0 48 39 118 119 2 46 47 49 1"  # as bench/live.py


def log(msg: str = "") -> None:
    print(msg, flush=True)


def install(src: Path, venv: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    r = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(src)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"pip install of {src} failed:\n{r.stdout}\n{r.stderr}")
    return venv / "bin"


def tree_copy(dest: Path, rev: str | None) -> Path:
    dest.mkdir(parents=True)
    if rev is None:
        for name in TREE:
            path = REPO / name
            if path.is_dir():
                shutil.copytree(path, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(path, dest)
    else:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, *TREE], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            kids = []
        out.extend(kids)
        todo.extend(kids)
    return out


def comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def run_ns(pid: int) -> int:
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except OSError:
                pass
    except OSError:
        pass
    return total


class Tmux:
    def __init__(self, sock: str, size: tuple[str, str]) -> None:
        self.sock, self.size = sock, size

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null", *args], check=check, capture_output=True, text=True)

    def server_pid(self) -> int:
        return int(self("display-message", "-p", "#{pid}").stdout.strip())


def measure(tmux: Tmux, name: str, argv: list[str], target: str, home: str, a: argparse.Namespace) -> dict:
    """CPU % of the process named ``target`` (comm) that ``argv`` starts, and the tmux server's."""
    env = {"HOME": home, "XDG_CONFIG_HOME": os.path.join(home, ".config"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "TERM": "tmux-256color", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    cmd = f"cd {shlex.quote(home)} && exec env -i {' '.join(f'{k}={shlex.quote(v)}' for k, v in env.items())} {shlex.join(argv)}"
    tmux("new-session", "-d", "-s", "t", "-x", tmux.size[0], "-y", tmux.size[1], cmd)
    try:
        pane = int(tmux("list-panes", "-t", "t", "-F", "#{pane_pid}").stdout.split()[0])
        pid = None
        deadline = time.monotonic() + 20
        while pid is None and time.monotonic() < deadline:
            pid = next((p for p in [pane, *descendants(pane)] if comm(p) == target), None)
            time.sleep(0.1)
        if pid is None:
            return {"error": f"no {target} process"}
        server = tmux.server_pid()
        time.sleep(a.warmup)
        n0, s0, w0 = run_ns(pid), run_ns(server), time.monotonic()
        time.sleep(a.seconds)
        n1, s1, w1 = run_ns(pid), run_ns(server), time.monotonic()
        if not os.path.exists(f"/proc/{pid}"):
            return {"error": "exited"}
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        return {"cpu": 100 * (n1 - n0) / 1e9 / (w1 - w0), "tmux": 100 * (s1 - s0) / 1e9 / (w1 - w0), "rss_mib": rss / 1024}
    finally:
        tmux("kill-session", "-t", "t", check=False)
        time.sleep(0.5)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", help="a git revision to measure beside this tree (e.g. main)")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=8.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--namespace", type=int, default=72, help="idle sleepers beside memtop in its own pid namespace (0: the host)")
    ap.add_argument("--htop", action="store_true", help="also htop with a PSS column (on the host's /proc)")
    ap.add_argument("--no-floor", action="store_true", help="leave out the minimal Textual apps")
    ap.add_argument("--size", default="200x50")
    a = ap.parse_args()
    size = tuple(a.size.split("x"))
    if shutil.which("tmux") is None or (a.htop and shutil.which("htop") is None):
        print("needs tmux (and htop for --htop): apt-get install -y tmux htop", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="memtop-rest-"))
    tmux = Tmux(f"memtop-rest-{os.getpid()}", size)  # type: ignore[arg-type]
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        log(f"# {time.strftime('%Y-%m-%d %H:%M:%S')}  {os.cpu_count()} CPUs  work tree {head}  {a.size}  "
            f"{a.rounds} rounds x {a.seconds:g} s after {a.warmup:g} s  namespace {a.namespace}")
        tools: dict[str, tuple[list[str], str]] = {}
        binaries = {"memtop": install(tree_copy(tmp / "src-now", None), tmp / "venv-now")}
        if a.before:
            rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", a.before], check=True,
                                 capture_output=True, text=True).stdout.strip()
            binaries[f"memtop@{rev}"] = install(tree_copy(tmp / "src-before", a.before), tmp / "venv-before")
        def host(argv: list[str]) -> list[str]:
            if not a.namespace:
                return argv
            sleepers = f"for i in $(seq {a.namespace}); do sleep 1000000 & done; exec \"$@\""
            return ["unshare", "--pid", "--fork", "--mount-proc", "bash", "-c", sleepers, "ns", *argv]

        for name, bin_dir in binaries.items():
            tools[name] = (host([str(bin_dir / "memtop"), "--interval", "1"]), "memtop")
        if not a.no_floor:
            (tmp / "floor.py").write_text(FLOOR)
            py = str(binaries["memtop"] / "python")
            tools["textual-floor"] = ([py, str(tmp / "floor.py")], "python")
            tools["textual-still"] = ([py, str(tmp / "floor.py"), "still"], "python")
        if a.htop:
            tools["htop-pss"] = (host(["htop", "-d", "10"]), "htop")
        homes = {}
        for name in tools:
            home = tmp / "home" / name.replace("@", "-")
            (home / ".config" / "htop").mkdir(parents=True)
            (home / ".config" / "htop" / "htoprc").write_text(f"fields={HTOP_PSS_FIELDS}\n")
            homes[name] = str(home)
        tmux("new-session", "-d", "-s", "keepalive", "-x", size[0], "-y", size[1], "sleep 7200")
        names = list(tools)
        results: dict[str, list[dict]] = {n: [] for n in names}
        for r in range(a.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                argv, target = tools[name]
                res = measure(tmux, name, argv, target, homes[name], a)
                results[name].append(res)
                log(f"# round {r + 1}: {name:16s} " + (f"cpu {res['cpu']:6.3f} %  tmux {res['tmux']:5.2f} %  VmRSS {res['rss_mib']:5.1f} MiB"
                                                       if "cpu" in res else res["error"]))
        log()
        log("| tool | CPU % of a core, median [min-max] | tmux server CPU % | VmRSS MiB |")
        log("|---|---|---|---|")
        for name in names:
            ok = [x for x in results[name] if "cpu" in x]
            if not ok:
                log(f"| {name} | failed | | |")
                continue
            cpu = [x["cpu"] for x in ok]
            log(f"| {name} | {statistics.median(cpu):.2f} [{min(cpu):.2f}-{max(cpu):.2f}] | "
                f"{statistics.median(x['tmux'] for x in ok):.2f} | {statistics.median(x['rss_mib'] for x in ok):.1f} |")
    finally:
        tmux("kill-server", check=False)
        try:  # tmux leaves its socket behind
            os.unlink(os.path.join(os.environ.get("TMUX_TMPDIR") or "/tmp", f"tmux-{os.getuid()}", tmux.sock))
        except OSError:
            pass
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
