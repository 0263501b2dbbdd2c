"""A real Prometheus (the distribution's package) scraping memtop serve on loopback, asked through its HTTP API.

.ci/run installs Debian's prometheus package when it is missing and CI runs
as root; elsewhere these tests skip and say so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live.serving import prometheus, serve, stop, which

pytestmark = pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="needs a Linux /proc")

PRIVILEGE = () if os.geteuid() == 0 else ("--unprivileged",)
MIB = 1 << 20

# A child with a name of its own (PR_SET_NAME) and 96 MiB of private memory, touched: its PSS stays put.
CHILD = """
import ctypes, mmap, os, sys
ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0)
m = mmap.mmap(-1, 96 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
for off in range(0, 96 << 20, 4096):
    m[off] = 1
os.write(1, f"READY {os.getpid()}\\n".encode())
sys.stdin.read()
"""


@pytest.fixture
def binary() -> str:
    found = which("prometheus")
    if found is None:
        pytest.skip("no prometheus server: Debian's prometheus package has it (.ci/run installs it when run as root)")
    return found


@pytest.fixture
def child() -> Iterator[tuple[int, str]]:
    name = f"mtchild{os.getpid() % 100000}"
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(CHILD), name],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("READY"), line
        yield int(line.split()[1]), name
    finally:
        assert process.stdin is not None
        process.stdin.close()
        stop(process)


def test_prometheus_scrapes_memtop_and_a_childs_pss_agrees_with_json(binary: str, child: tuple[int, str], tmp_path: Path) -> None:
    pid, name = child
    with serve("--interval", "1", *PRIVILEGE) as served, prometheus(binary, served.address, tmp_path) as server:
        found = server.wait_for(f'memtop_process_memory_bytes{{groupname="{name}",memtype="pss"}}')
        (target,) = server.targets()
        assert target["health"] == "up" and target["lastError"] == "", target
        exported = float(found[0]["value"][1])
        report = subprocess.run([sys.executable, "-m", "memtop", "--json", "--pid", str(pid)],
                                capture_output=True, text=True, check=True)
        (proc,) = json.loads(report.stdout)["processes"]
        assert proc["pss"] > 90 * MIB
        assert abs(exported - proc["pss"]) <= 0.02 * proc["pss"], (exported, proc["pss"])

        # The taxonomy adds up in Prometheus too, and the other families are there under their names.
        parts = server.query("sum(memtop_memory_bytes)")
        total = server.query("memtop_memory_total_bytes")
        assert float(parts[0]["value"][1]) == float(total[0]["value"][1])
        for name_ in ("memtop_vmstat_compact_stall_total", "memtop_memory_available_bytes", "memtop_snapshot_age_seconds",
                      "memtop_passes_total", "process_cpu_seconds_total", "memtop_processes"):
            assert server.query(name_), name_
        assert server.query('memtop_build_info{job="memtop"}')
        assert not server.query('{__name__=~".+_created"}')


def test_the_dashboards_queries_run_in_prometheus(binary: str, tmp_path: Path) -> None:
    """Every Grafana query, with the dashboard's variables filled in, is valid PromQL to a real server."""
    from memtop.export.grafana import queries

    with serve("--interval", "1", *PRIVILEGE) as served, prometheus(binary, served.address, tmp_path) as server:
        server.wait_for("memtop_passes_total")
        for title, expr in queries():
            promql = expr.replace("$__rate_interval", "1m").replace("$instance", ".*").replace("$top", "10")
            server.query(promql)  # raises on a PromQL error (status "error", HTTP 400)
