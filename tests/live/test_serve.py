"""memtop serve as a process: SIGTERM, scrapes that never read /proc, promtool, churn, and refusals."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from tests.live.serving import serve, stop, which

pytestmark = pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="needs a Linux /proc")

# Root sees every process's PSS; anyone else must say so (--unprivileged) or is refused.
PRIVILEGE = () if os.geteuid() == 0 else ("--unprivileged",)


def value(text: str, name: str, default: float | None = None, **labels: str) -> float:
    for family in parse_text(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    if default is not None:
        return default
    raise AssertionError(f"{name}{labels} not in the scrape")


def test_sigterm_stops_it_cleanly_and_frees_the_port() -> None:
    with serve("--interval", "1", *PRIVILEGE) as served:
        assert "memtop_memory_bytes" in served.get()
        process = served.process
        host, port = served.address.rsplit(":", 1)
        assert stop(process) == 0
        time.sleep(0.2)  # the reader thread takes the last lines
        assert "Traceback" not in "".join(served.lines), served.lines
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the scrape's connection may be in TIME_WAIT
        again.bind((host, int(port)))  # no listener holds it any more
        again.listen()


def test_a_scrape_answers_from_the_last_pass_and_never_makes_one() -> None:
    with serve("--interval", "60", *PRIVILEGE) as served:
        first = served.get()
        for _ in range(30):
            text = served.get()
        assert value(text, "memtop_passes_total") == value(first, "memtop_passes_total") == 1
        assert value(text, "memtop_snapshot_age_seconds") > value(first, "memtop_snapshot_age_seconds")
        assert value(text, "memtop_snapshot_timestamp_seconds") == value(first, "memtop_snapshot_timestamp_seconds")


@pytest.mark.parametrize("mode", ["program", "top:10", "user", "none"])
def test_promtool_finds_no_problem_in_a_real_scrape(mode: str, tmp_path: Path) -> None:
    promtool = which("promtool")
    if promtool is None:
        pytest.skip("promtool missing: Debian's prometheus package has it (.ci/run installs it as root)")
    with serve("--interval", "1", "--processes", mode, *PRIVILEGE) as served:
        text = served.get()
        openmetrics = served.get(accept="application/openmetrics-text; version=1.0.0")
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(), result.stdout + result.stderr
    names = {f.name for f in parse_openmetrics(openmetrics)}
    assert {"memtop_memory_bytes", "memtop_snapshot_age_seconds", "process_cpu_seconds"} <= names
    assert ("memtop_process_memory_bytes" in names) == (mode != "none")
    assert "_created" not in text


CHURN = """
import ctypes, os, sys, time
libc = ctypes.CDLL(None)
alive = []
for i in range(int(sys.argv[1])):
    pid = os.fork()
    if pid == 0:
        libc.prctl(15, f"churn-{i}".encode(), 0, 0, 0)  # PR_SET_NAME: a new program name each time
        block = bytearray(1 << 20)
        time.sleep(0.05 + (i % 7) * 0.05)
        os._exit(0)
    alive.append(pid)
    time.sleep(float(sys.argv[2]))
    alive = [p for p in alive if os.waitpid(p, os.WNOHANG) == (0, 0)]
for p in alive:
    os.waitpid(p, 0)
"""


def test_series_stay_bounded_while_hundreds_of_children_come_and_go() -> None:
    scrapes: dict[str, list[str]] = {"top:5": [], "program:10": []}
    with serve("--interval", "1", "--processes", "top:5", *PRIVILEGE) as top, \
            serve("--interval", "1", "--processes", "program:10", *PRIVILEGE) as program:
        churn = subprocess.Popen([sys.executable, "-c", textwrap.dedent(CHURN), "400", "0.02"])
        try:
            while churn.poll() is None:
                scrapes["top:5"].append(top.get())
                scrapes["program:10"].append(program.get())
                time.sleep(0.1)
        finally:
            stop(churn)
        assert churn.returncode == 0
        time.sleep(1.5)  # one more pass: every child gone
        scrapes["program:10"].append(program.get())
    limits = {"top:5": 6, "program:10": 11}
    for mode, texts in scrapes.items():
        assert len(texts) >= 10
        for text in texts:
            per_memtype = Counter(s.labels["memtype"] for f in parse_text(text) for s in f.samples
                                  if s.name == "memtop_process_memory_bytes")
            assert per_memtype and max(per_memtype.values()) <= limits[mode], (mode, per_memtype)
    others = [value(t, "memtop_processes", 0.0, groupname="other") for t in scrapes["program:10"][:-1]]
    assert max(others) > min(others)  # the children were seen, and summed into other


def test_a_port_in_use_and_a_bad_listen_are_one_line_and_exit_2() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        for listen, says in ((f"127.0.0.1:{port}", f"port {port} is in use"), ("nowhere", "expected ADDR:PORT"),
                             ("127.0.0.1:99999", "from 0 to 65535")):
            result = subprocess.run([sys.executable, "-m", "memtop", "serve", "--listen", listen],
                                    capture_output=True, text=True, timeout=60)
            assert result.returncode == 2, result.stderr
            assert says in result.stderr and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def _unprivileged() -> list[str]:
    """How to run this interpreter as nobody, when it can be (else the test skips)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv missing: cannot drop root to test a non-root run")
    runner = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run([*runner, sys.executable, "-c", "import memtop"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"this interpreter or memtop is not readable by nobody: {probe.stderr.strip()[-200:]}")
    return runner


def test_a_non_root_run_is_refused_in_one_line_unless_unprivileged() -> None:
    runner = _unprivileged()
    result = subprocess.run([*runner, sys.executable, "-m", "memtop", "serve", "--listen", "127.0.0.1:0"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "not root" in result.stderr and "--unprivileged" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


PROBED = """
import memtop.probe, os, sys
memtop.probe.start()
keep = [bytearray(1 << 20) for _ in range(32)]  # 32 MiB of heap
os.write(1, f"READY {os.getpid()}\\n".encode())
sys.stdin.read()
"""


def test_an_instrumented_processs_heap_and_gap_are_served_from_the_model() -> None:
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(PROBED)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        pid = child.stdout.readline().split()[1]
        with serve("--interval", "1", *PRIVILEGE) as served:
            deadline = time.monotonic() + 30
            while True:
                text = served.get()
                heap = value(text, "memtop_heap_in_use_bytes", -1.0, pid=pid)
                if heap >= 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert heap >= 32 << 20, "the probe's heap never reached the scrape"
            gap = value(text, "memtop_heap_gap_bytes", pid=pid)
            status = Path(f"/proc/{pid}/status").read_text()
            rss = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) * 1024
            assert 0 < gap < rss - heap + (4 << 20)  # RSS minus heap (RSS moves a little between the reads)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        stop(child)
