"""Issue 13 item 8: a signal ends the dashboard as `q` does, and `memtop run` leaves no child behind.

Real processes under a pseudo-terminal: the escape sequences that restore the
terminal must follow the signal, and the process must end.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from memtop.instrument.preload import find_compiler

from tests.waiting import wait_until

CAPTURE = Path(__file__).resolve().parents[1] / "fixtures" / "captures" / "vm-6.18-root"

ALT_SCREEN_ON, ALT_SCREEN_OFF = b"\x1b[?1049h", b"\x1b[?1049l"
CURSOR_SHOWN = b"\x1b[?25h"
MOUSE_OFF = b"\x1b[?1000l"


class Terminal:
    """A process whose stdin, stdout and stderr are the slave side of a pty; the test reads the master."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.master, slave = os.openpty()
        os.set_blocking(self.master, False)
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40", **(env or {})}
        env.pop("NO_COLOR", None)
        self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                        start_new_session=True, cwd="/")
        os.close(slave)
        self.output = b""

    def read(self) -> bytes:
        """What the process wrote since the last read (answering Textual's terminal queries is not needed)."""
        while select.select([self.master], [], [], 0.05)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every slave side closed
                break
            if not chunk:
                break
            self.output += chunk
        return self.output

    def until(self, what: bytes, timeout: float = 30) -> None:
        wait_until(lambda: what in self.read() or self.process.poll() is not None, timeout=timeout,
                   what=f"{what!r} on the terminal")
        assert what in self.output, self.output[-2000:]

    def ended(self, timeout: float = 30) -> int:
        wait_until(lambda: self.read() is not None and self.process.poll() is not None, timeout=timeout,
                   what="the process's end")
        self.read()
        return self.process.returncode

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    made: list[Terminal] = []
    yield made
    for terminal in made:
        terminal.close()


def _restored_after(output: bytes, mark: int) -> None:
    after = output[mark:]
    assert ALT_SCREEN_OFF in after, after[-500:]
    assert CURSOR_SHOWN in after, after[-500:]
    assert MOUSE_OFF in after, after[-500:]
    assert b"Traceback" not in output


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_restores_the_terminal(sig: signal.Signals, terminals: list[Terminal]) -> None:
    term = Terminal([sys.executable, "-m", "memtop", "--root", str(CAPTURE), "--no-config"])
    terminals.append(term)
    term.until(ALT_SCREEN_ON)
    term.until(b"memtop")  # drawn
    mark = len(term.read())
    term.process.send_signal(sig)
    assert term.ended() == 128 + sig
    _restored_after(term.output, mark)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _alive(pid: int, starttime: str) -> bool:
    """The same process (pid and start time), not a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[19] == starttime and fields[0] != "Z"


needs_cc = pytest.mark.skipif(find_compiler() is None, reason="no C compiler: memtop run cannot build its library")

IGNORES_TERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"


@needs_cc
@pytest.mark.parametrize(("sig", "program", "status"), [
    (signal.SIGTERM, ["sleep", "600"], 128 + signal.SIGTERM),
    (signal.SIGINT, ["sleep", "600"], 128 + signal.SIGINT),
    (signal.SIGHUP, ["sleep", "600"], 128 + signal.SIGHUP),
    (signal.SIGTERM, [sys.executable, "-c", IGNORES_TERM], 128 + signal.SIGKILL),  # SIGKILL after the grace
])
def test_memtop_run_takes_its_child_along(sig: signal.Signals, program: list[str], status: int, tmp_path: Path,
                                          terminals: list[Terminal]) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_STATE_HOME": str(tmp_path / "state"), "MEMTOP_HEAP_DIR": str(tmp_path)}
    term = Terminal([sys.executable, "-m", "memtop", "run", "--log", str(tmp_path / "child.log"), "--", *program],
                    env=env)
    terminals.append(term)
    term.until(ALT_SCREEN_ON, timeout=120)  # the first run builds the counter library
    child = wait_until(lambda: _children(term.process.pid), what="memtop's child")[0]
    starttime = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[19]
    term.until(b"running")  # the header says it runs: the dashboard's loop holds the signals
    mark = len(term.read())
    term.process.send_signal(sig)
    assert term.ended() == status
    _restored_after(term.output, mark)
    assert not _alive(child, starttime)

