"""The heap counter library (heapcount.c) meets a FIFO planted under its file's name (issue 13 item 1).

/dev/shm is everyone's: a user who guesses the pid plants ``memtop-heap.<pid>``
as a FIFO. The library opened an old file of that name without O_NONBLOCK to
borrow its generation: the instrumented program (root's, under ``sudo memtop
run``) hung in the library's constructor, before main. A process that execs
keeps its pid, so the test plants the FIFO itself and then execs.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from memtop.instrument import preload


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if preload.find_compiler() is None:
        pytest.skip("no C compiler: the heap counter library cannot be built")
    return preload.library_path(tmp_path_factory.mktemp("cache"))


def test_a_fifo_under_the_counter_files_name_does_not_hang_the_program(lib: Path, tmp_path: Path) -> None:
    # The shell's own file is removed and a FIFO made in its place; `exec true` keeps the pid.
    script = 'rm -f "$MEMTOP_HEAP_DIR/memtop-heap.$$"; mkfifo "$MEMTOP_HEAP_DIR/memtop-heap.$$"; exec /bin/true'
    try:
        result = subprocess.run(["/bin/sh", "-c", script], env={**os.environ, "LD_PRELOAD": str(lib),
                                "MEMTOP_HEAP_DIR": str(tmp_path)}, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the instrumented program hung opening a FIFO planted as its counter file")
    assert result.returncode == 0, result.stderr
