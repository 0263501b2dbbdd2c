"""memtop --once --textfile into a real node_exporter's textfile collector (Debian's prometheus-node-exporter)."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families as parse_text

from tests.live.serving import free_port, stop, which

pytestmark = pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="needs a Linux /proc")


def test_node_exporter_ships_the_textfile_with_its_types(tmp_path: Path) -> None:
    binary = which("prometheus-node-exporter") or which("node_exporter")
    if binary is None:
        pytest.skip("no node_exporter: Debian's prometheus-node-exporter has it (.ci/run installs it when run as root)")
    folder = tmp_path / "textfile"
    folder.mkdir()
    subprocess.run([sys.executable, "-m", "memtop", "--once", "--textfile", str(folder / "memtop.prom")], check=True)
    port = free_port()
    process = subprocess.Popen(
        [binary, f"--web.listen-address=127.0.0.1:{port}", "--collector.disable-defaults", "--collector.textfile",
         f"--collector.textfile.directory={folder}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
                    text = answer.read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        stop(process)
    families = {f.name: f for f in parse_text(text)}
    assert families["node_textfile_scrape_error"].samples[0].value == 0
    assert families["memtop_vmstat_compact_stall"].type == "counter"  # not "untyped": the types carried over
    assert families["memtop_memory_bytes"].type == "gauge" and families["memtop_memory_bytes"].samples
    assert "memtop_thp_info" in families and "memtop_process_memory_bytes" in families
