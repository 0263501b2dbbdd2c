"""Start `memtop serve` (and a real Prometheus) for the live exporter tests; stop them whatever happens."""

from __future__ import annotations

import json
import os
import re
import queue
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

URL = re.compile(r"http://(\S+)/metrics")


@dataclass
class Served:
    process: subprocess.Popen[str]
    address: str
    #: Every line it wrote on stderr so far (a thread keeps reading them).
    lines: list[str]

    def get(self, path: str = "/metrics", accept: str | None = None) -> str:
        request = urllib.request.Request(f"http://{self.address}{path}", headers={"Accept": accept} if accept else {})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return str(answer.read().decode())


@contextmanager
def serve(*args: str, timeout: float = 180.0) -> Iterator[Served]:
    """`python -m memtop serve --listen 127.0.0.1:0 ARGS`, until its URL line; SIGTERM (then KILL) at the end.

    The line comes after the first pass, which reads every smaps_rollup: on a busy shared machine
    with thousands of processes that has taken over a minute.
    """
    process = subprocess.Popen([sys.executable, "-m", "memtop", "serve", "--listen", "127.0.0.1:0", *args],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    arrived: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            arrived.put(line)
        arrived.put("")

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + timeout
        found = None
        while found is None:
            try:
                line = arrived.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                line = ""
            if not line:
                raise AssertionError(f"memtop serve did not start serving (status {process.poll()}): " + "".join(lines))
            found = URL.search(line)
        yield Served(process, found.group(1), lines)
    finally:
        stop(process)
        reader.join(timeout=5)


def stop(process: subprocess.Popen[Any], timeout: float = 10.0, term: bool = True) -> int:
    """SIGTERM (unless ``term`` is false: it was told to end otherwise), then SIGKILL after ``timeout`` s."""
    if process.poll() is None:
        if term:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def which(name: str) -> str | None:
    return shutil.which(name) or next((p for p in (f"/usr/bin/{name}", f"/usr/sbin/{name}") if os.access(p, os.X_OK)), None)


@dataclass
class Prometheus:
    process: subprocess.Popen[str]
    url: str

    def query(self, promql: str) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql}), timeout=10) as answer:
            body = json.load(answer)
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def wait_for(self, promql: str, timeout: float = 60.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.query(promql)
            if found:
                return found
            time.sleep(0.5)
        raise AssertionError(f"Prometheus had no result for {promql} within {timeout:.0f} s")

    def targets(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.url}/api/v1/targets", timeout=10) as answer:
            active: list[dict[str, Any]] = json.load(answer)["data"]["activeTargets"]
            return active


@contextmanager
def prometheus(binary: str, target: str, folder: Path, interval: str = "1s") -> Iterator[Prometheus]:
    """A real Prometheus on loopback scraping ``target`` every ``interval``, its data in ``folder``."""
    config = folder / "prometheus.yml"
    config.write_text(textwrap.dedent(f"""\
        global:
          scrape_interval: {interval}
          evaluation_interval: {interval}
        scrape_configs:
          - job_name: memtop
            static_configs:
              - targets: ["{target}"]
        """))
    port = free_port()
    log = (folder / "prometheus.log").open("w")
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={folder / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, text=True, cwd=folder)
    server = Prometheus(process, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{server.url}/-/ready", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("Prometheus did not start: " + (folder / "prometheus.log").read_text()[-2000:])
            time.sleep(0.25)
        yield server
    finally:
        stop(process, timeout=20)
        log.close()
