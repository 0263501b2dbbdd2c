"""`memtop run`: the child under the heap counter library, its samples, its end, quitting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from memtop.cli import main as cli_main
from memtop.collectors.paths import HostPaths
from memtop.collectors.snapshot import Collector, Options
from memtop.instrument.preload import BuildError, find_compiler, library_path
from memtop.instrument.run import RunChild, RunError, exit_status, start
from memtop.rules.gap import LEAK, GapVerdict
from memtop.state.heap_sources import PRELOAD
from memtop.state.model import MemtopModel
from memtop.state.monitor import Monitor
from memtop.state.options import StartOptions
from memtop.tui.screens.run_quit import QuitRunScreen
from memtop.widgets.heap_chart import HeapChart

from tests.conftest import new_app
from tests.waiting import pilot_until, wait_until

MIB = 1 << 20

needs_cc = pytest.mark.skipif(find_compiler() is None, reason="no C compiler: memtop run cannot build its library")

HOLDER = """
import sys, time
blocks = [bytearray(1 << 20) for _ in range(48)]  # 48 x 1 MiB through malloc (mmap-sized chunks)
print("READY", flush=True)
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 60)
"""


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if find_compiler() is None:
        pytest.skip("no C compiler")
    try:
        return library_path(cache_dir=tmp_path_factory.mktemp("cache"))
    except BuildError as exc:
        pytest.skip(f"library does not build here: {exc}")


@pytest.fixture
def shm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Counter files in a private directory (both the library and the reader follow MEMTOP_HEAP_DIR)."""
    monkeypatch.setenv("MEMTOP_HEAP_DIR", str(tmp_path))
    return tmp_path


def holder(library: Path, tmp_path: Path, seconds: float = 60) -> RunChild:
    script = tmp_path / "holder.py"
    script.write_text(textwrap.dedent(HOLDER))
    child = start([sys.executable, str(script), str(seconds)], log=str(tmp_path / "child.log"), library=library)
    wait_until(lambda: "READY" in child.log.read_text() or child.poll() is not None, timeout=20, what="the child's READY")
    assert child.poll() is None, child.log.read_text()
    return child


def test_exit_status_is_the_shells() -> None:
    assert exit_status(3) == 3 and exit_status(-signal.SIGTERM) == 143


def test_nothing_to_run_or_no_such_program() -> None:
    with pytest.raises(RunError, match="no command"):
        start([])
    with pytest.raises(RunError, match="not found"):
        start(["memtop-no-such-program-here"])


def test_run_needs_a_terminal_but_print_preload_does_not(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["run", "--", "true"]) == 2
    assert "needs a terminal" in capsys.readouterr().err


@needs_cc
def test_print_preload_prints_the_built_library(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["run", "--print-preload"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.is_file() and path.name.startswith("libmemtopheap-") and path.suffix == ".so"


async def test_dashboard_charts_the_childs_heap_at_10_hz_and_sees_it_end(library: Path, shm: Path, tmp_path: Path) -> None:
    child = holder(library, tmp_path)
    try:
        app = new_app(monitor=Monitor.build(Collector(HostPaths(), Options()), StartOptions(interval=0.5, pid=child.pid), run=child, own_stats=False))
        async with app.run_test(size=(160, 45)) as pilot:
            chart = app.screen.query_one(HeapChart)
            await pilot_until(pilot, lambda: chart.series and chart.series.heap and chart.series.heap[-1], timeout=15,
                              what="a heap figure for the child")
            series = chart.series
            assert series is not None
            assert series.heap_note == PRELOAD
            assert series.heap[-1] >= 48 * MIB  # 48 x 1 MiB held, and the interpreter's own
            assert series.rss[-1] is not None and series.rss[-1] >= series.heap[-1]
            assert app.model.run_status is not None and f"running {Path(sys.executable).name} (pid {child.pid})" in app.model.run_status
            child.stop(signal.SIGTERM)
            child.process.wait(5)
            await pilot_until(pilot, lambda: child.returncode is not None
                              and "exited with status 143" in (app.model.run_status or ""))
            await pilot.press("q")
            await pilot.pause()
        assert app.return_value == 143  # what run_dashboard returns as the exit status
    finally:
        child.process.kill()
        child.process.wait()


async def test_ten_samples_a_second_between_refreshes(library: Path, shm: Path, tmp_path: Path) -> None:
    child = holder(library, tmp_path)
    try:
        app = new_app(monitor=Monitor.build(Collector(HostPaths(), Options()), StartOptions(interval=2.0, pid=child.pid), run=child, own_stats=False))
        async with app.run_test(size=(160, 45)) as pilot:
            watch = app.model.run_watch
            assert watch is not None
            # The first refresh found the child; its history has a heap figure.
            await pilot_until(pilot, lambda: watch.key is not None and app.model.history.samples(watch.key))
            assert watch.key is not None
            before = len(app.model.history.samples(watch.key))
            # The interpreter's RSS and heap move a little all the time; force a move.
            os.kill(child.pid, 0)
            await pilot.pause(1.5)  # less than a refresh (2 s): what comes now is the sampler's
            samples = app.model.history.samples(watch.key)
            assert samples and all(s.heap is not None for s in samples[-3:])
            gaps = [b.time - a.time for a, b in zip(samples, samples[1:])]
            # Refreshes are 2 s apart: samples closer than that came from the 10 Hz sampler.
            assert len(samples) >= before and (not gaps or min(gaps) < 1.0 or len(samples) == 1)
    finally:
        child.process.kill()
        child.process.wait()


@pytest.mark.parametrize("answer, code, alive", [("#stop", 143, False), ("#leave", 0, True)])
async def test_quitting_while_the_child_runs_asks(library: Path, shm: Path, tmp_path: Path, answer: str, code: int, alive: bool) -> None:
    child = holder(library, tmp_path)
    try:
        app = new_app(monitor=Monitor.build(Collector(HostPaths(), Options()), StartOptions(pid=child.pid), run=child, own_stats=False))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot_until(pilot, lambda: app.model.last is not None)  # the first pass is in
            await pilot.press("q")
            await pilot.pause()
            assert isinstance(app.screen, QuitRunScreen)
            await pilot.click(answer)
            await pilot.pause()
        assert (app.return_value or 0) == code
        assert (child.process.poll() is None) == alive
    finally:
        child.process.kill()
        child.process.wait()


def test_json_reports_the_heap_of_a_preloaded_process(library: Path, shm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    child = holder(library, tmp_path)
    try:
        assert cli_main(["--json", "--pid", str(child.pid)]) == 0
        out = json.loads(capsys.readouterr().out)
        heap = out["processes"][0]["heap"]
        assert heap["source"] == "preload" and heap["in_use"] >= 48 * MIB
        assert heap["gap"] == out["processes"][0]["rss"] - heap["in_use"] and heap["trend"] is None
        assert heap["allocs"] >= heap["frees"] > 0
    finally:
        child.process.kill()
        child.process.wait()


LEAKY_C = r"""
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argv[1][0] == 'l') {
        /* A structural leak: each round takes 32 KiB more in 1 KiB blocks than the
           one before, keeps the last (taken from the top of the heap: the free
           space below is smaller than the round) and frees the rest. The free space
           is reused, but the top cannot be trimmed past the kept block and the
           pages below stay resident: RSS grows ~32 KiB a round while the heap in
           use grows 1 KiB. The gap's growth is far above the jitter of reading RSS
           and the heap at slightly different moments, however slowly a loaded
           machine runs the rounds (the first version, which kept one 1 KiB block in
           four, grew the gap by ~1.5 % of RSS and read as stable under load). */
        for (size_t round = 1;; round++) {
            size_t n = 32 * round;
            char **p = malloc(n * sizeof *p);
            for (size_t i = 0; i < n; i++) { p[i] = malloc(1024); p[i][0] = 1; }
            for (size_t i = 0; i + 1 < n; i++) free(p[i]);
            free(p);
            usleep(100000);
        }
    }
    for (;;) {  /* steady: the same blocks taken and given back each round */
        enum { M = 2048 };
        char *p[M];
        for (int i = 0; i < M; i++) { p[i] = malloc(1024); p[i][0] = 1; }
        for (int i = 0; i < M; i++) free(p[i]);
        usleep(100000);
    }
}
"""


@needs_cc
def test_a_slow_structural_leak_grows_and_a_steady_program_is_stable(library: Path, shm: Path, tmp_path: Path) -> None:
    source = tmp_path / "leaky.c"
    source.write_text(LEAKY_C)
    binary = tmp_path / "leaky"
    subprocess.run([*(find_compiler() or ["cc"]), "-O1", "-o", str(binary), str(source)], check=True)
    leaky = start([str(binary), "leak"], log=str(tmp_path / "leak.log"), library=library)
    steady = start([str(binary), "steady"], log=str(tmp_path / "steady.log"), library=library)
    try:
        collector = Collector(HostPaths(), Options(pids=(leaky.pid, steady.pid)))
        model = MemtopModel()  # as `memtop --json --interval 1` keeps them
        verdicts: Mapping[int, GapVerdict] = {}
        for _ in range(24):  # 24 s of history
            verdicts = model.ingest(collector.collect(thp=False, cgroups=False, container=False)).verdicts
            time.sleep(1.0)
        # RSS grows with holes the heap no longer holds: the gap grows, the heap hardly does.
        print("verdicts:", verdicts[leaky.pid], verdicts[steady.pid])
        assert verdicts[leaky.pid].trend == "growing" and verdicts[leaky.pid].flag == LEAK
        assert verdicts[steady.pid].trend == "stable" and verdicts[steady.pid].flag is None
    finally:
        for child in (leaky, steady):
            child.process.kill()
            child.process.wait()
