#!/usr/bin/env python3
"""memtop serve beside process-exporter and node_exporter: scrape latency and CPU at a 15 s scrape (prints figures; not a test).

Usage (from the repo, with the venv that has memtop installed; the peers from Debian's packages:
apt-get install prometheus-process-exporter prometheus-node-exporter):
  .venv/bin/python bench/exporter.py [--procs 2000] [--seconds 240] [--scrapes 50] [--interval 15]
                                     [--tools memtop,process-exporter,node-exporter] [--processes MODE]
                                     [--json OUT.json]

For each tool, on its own fresh population (--procs idle children from
shared/bench-peers/spawn_procs.py: fork mode, 1 MiB private + 4 MiB shared each, so PSS < RSS):
  1. the tool starts on a free loopback port; memtop serve with its defaults (--processes program,
     --interval 15): its first pass reads every smaps_rollup and is left out of the window;
     process-exporter grouping by {{.Comm}} with smaps (PSS) on, as its README suggests;
     node_exporter with its default collectors;
  2. scrape latency: --scrapes scrapes back to back, each timed from the request to the last byte,
     in the text format and in OpenMetrics (what Prometheus asks for first), after 3 warm-up scrapes;
  3. CPU: one scrape every 15 s (Prometheus's common interval) for --seconds; utime + stime of the
     tool's process (/proc/PID/stat, all threads) over the window, as % of one core. memtop's
     window should span whole minutes: every process's PSS is re-read at least every 60 s
     (the script prints how many smaps_rollup reads the window held, per process, and the oldest
     PSS served, memtop_pss_oldest_age_seconds, at each scrape).
The rest of the machine's CPU over each window (/proc/stat busy minus the tool) is printed beside it:
the machine is shared, and others' work inflates and jitters the figures.

Goals (issue 16): a memtop scrape at ~2,000 processes answers in under 20 ms; memtop serve costs at
most 1 % of one core at a 15 s scrape with every PSS refreshed within 60 s.

Every process this starts (population, tools) is stopped on every exit path the script sees.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests/live/serving.py starts and stops the servers of the exporter's tests

from tests.live.serving import free_port, stop  # noqa: E402

SPAWN = REPO.parent / "shared" / "bench-peers" / "spawn_procs.py"
TICK = os.sysconf("SC_CLK_TCK")
OPENMETRICS = "application/openmetrics-text; version=1.0.0"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15)


def machine_busy() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / TICK


@contextmanager
def population(count: int) -> Iterator[int]:
    if count <= 0:
        yield 0
        return
    process = subprocess.Popen([sys.executable, str(SPAWN), str(count), "--until-stdin-eof", "--quiet", "--timeout", "600"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().split()
        if not line or line[0] != "READY":
            raise SystemExit(f"spawn_procs.py did not start its children: {line}")
        yield int(line[1])
    finally:
        assert process.stdin is not None
        process.stdin.close()  # spawn_procs.py's cue to stop and reap its children
        stop(process, timeout=30.0, term=False)


@contextmanager
def started(argv: list[str], url: str, ready: Callable[[str], bool], folder: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = (folder / "tool.log").open("wb")
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if ready(scrape(url)[1]):
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{argv[0]} did not serve: {(folder / 'tool.log').read_text()[-1500:]}")
            time.sleep(0.5)
        yield process
    finally:
        stop(process)
        log.close()


def scrape(url: str, accept: str | None = None) -> tuple[float, str]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    begin = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as answer:
        body = answer.read()
    return time.perf_counter() - begin, body.decode()


def sample(text: str, name: str) -> float | None:
    found = re.search(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    return float(found.group(1)) if found else None


def latency(url: str, count: int) -> dict[str, object]:
    out: dict[str, object] = {}
    for label, accept in (("text", None), ("openmetrics", OPENMETRICS)):
        for _ in range(3):
            scrape(url, accept)
        times, body = [], ""
        for _ in range(count):
            seconds, body = scrape(url, accept)
            times.append(seconds * 1000)
        times.sort()
        out[label] = {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
                      "max_ms": round(times[-1], 2), "bytes": len(body),
                      "samples": sum(1 for line in body.splitlines() if line and not line.startswith("#"))}
    return out


def window(process: subprocess.Popen[bytes], url: str, seconds: float, every: float = 15.0) -> dict[str, object]:
    """One scrape every ``every`` s for ``seconds``; the tool's CPU and the rest of the machine's over it."""
    oldest: list[float] = []
    texts: list[str] = []
    cpu0, busy0, wall0 = cpu_seconds(process.pid), machine_busy(), time.monotonic()
    next_at = wall0
    while True:
        _seconds, text = scrape(url)
        texts.append(text)
        if (age := sample(text, "memtop_pss_oldest_age_seconds")) is not None:
            oldest.append(age)
        next_at += every
        if next_at - wall0 > seconds:
            break
        time.sleep(max(next_at - time.monotonic(), 0))
    wall = time.monotonic() - wall0
    cpu = cpu_seconds(process.pid) - cpu0
    others = machine_busy() - busy0 - cpu
    out: dict[str, object] = {"wall_s": round(wall, 1), "cpu_s": round(cpu, 3), "cpu_pct_of_core": round(100 * cpu / wall, 3),
                              "rest_of_machine_cores": round(others / wall, 2), "scrapes": len(texts)}
    reads = [sample(t, "memtop_smaps_rollup_reads_total") for t in (texts[0], texts[-1])]
    if reads[0] is not None and reads[1] is not None:
        out["rollup_reads_in_window"] = int(reads[1] - reads[0])
    if oldest:
        out["oldest_pss_age_s_max"] = round(max(oldest), 1)
    return out


def tools(args: argparse.Namespace, folder: Path) -> dict[str, tuple[list[str], str, Callable[[str], bool]]]:
    found: dict[str, tuple[list[str], str, Callable[[str], bool]]] = {}
    port = free_port()
    found["memtop"] = ([sys.executable, "-m", "memtop", "serve", "--listen", f"127.0.0.1:{port}",
                        "--interval", str(args.interval), "--processes", args.processes],
                       f"http://127.0.0.1:{port}/metrics", lambda text: (sample(text, "memtop_passes_total") or 0) >= 1)
    process_exporter = shutil.which("prometheus-process-exporter") or shutil.which("process-exporter")
    if process_exporter:
        config = folder / "process-exporter.yml"
        config.write_text('process_names:\n  - name: "{{.Comm}}"\n    cmdline:\n      - ".+"\n')
        port = free_port()
        found["process-exporter"] = ([process_exporter, "-config.path", str(config), "-gather-smaps=true",
                                      "-web.listen-address", f"127.0.0.1:{port}"],
                                     f"http://127.0.0.1:{port}/metrics", lambda text: "namedprocess_namegroup" in text)
    node_exporter = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    if node_exporter:
        port = free_port()
        found["node-exporter"] = ([node_exporter, f"--web.listen-address=127.0.0.1:{port}"],
                                  f"http://127.0.0.1:{port}/metrics", lambda text: "node_memory_MemTotal_bytes" in text)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--procs", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=240.0)
    parser.add_argument("--scrapes", type=int, default=50)
    parser.add_argument("--interval", type=float, default=15.0, help="memtop serve --interval")
    parser.add_argument("--processes", default="program", help="memtop serve --processes (top:1000: a scrape of ~7,000 process series)")
    parser.add_argument("--tools", default="memtop,process-exporter,node-exporter")
    parser.add_argument("--json", metavar="OUT")
    args = parser.parse_args()
    if args.procs and not SPAWN.exists():
        raise SystemExit(f"needs {SPAWN} (the shared bench harness) for --procs")
    results: dict[str, object] = {"procs": args.procs, "cores": os.cpu_count(),
                                  "loadavg_before": Path("/proc/loadavg").read_text().split()[:3]}
    with tempfile.TemporaryDirectory(prefix="memtop-bench-exporter-") as tmp:
        available = tools(args, Path(tmp))
        for name in args.tools.split(","):
            if name not in available:
                print(f"{name}: not installed, skipped", flush=True)
                continue
            argv, url, ready = available[name]
            folder = Path(tmp) / name
            folder.mkdir()
            with ExitStack() as stack:
                count = stack.enter_context(population(args.procs))
                process = stack.enter_context(started(argv, url, ready, folder))
                pids = len([p for p in os.listdir("/proc") if p.isdigit()])
                figures: dict[str, object] = {"children": count, "pids_on_host": pids}
                figures["latency"] = latency(url, args.scrapes)
                figures["cpu"] = window(process, url, args.seconds)
                figures["rss_mib"] = round(int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{process.pid}/status").read_text())
                                               .group(1)) / 1024, 1)  # type: ignore[union-attr]
            results[name] = figures
            print(name, json.dumps(figures), flush=True)
    results["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
