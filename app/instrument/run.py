"""`memtop run [--] CMD [ARGS...]`: start a program with the heap counter library and watch it.

The child gets /dev/null as stdin and a log file as stdout and stderr (the
terminal belongs to the dashboard), and LD_PRELOAD with memtop's heap
counter library in front of any it already had. The dashboard opens with
the child selected; its heap and RSS are sampled ten times a second into
the chart's history. memtop's exit status is the child's once it has exited
(128 + N for a child killed by signal N, as shells report it).

A SIGTERM, SIGINT or SIGHUP to memtop is forwarded to the child, which gets
GRACE seconds to end before SIGKILL: memtop never leaves it behind unasked
(issue 13 item 8); the quit dialog's "leave it running" is the only way to.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from memtop.instrument.preload import instrumentable, library_path

#: The signals after which memtop leaves (and the child with it); SIGQUIT too, which a
#: terminal in raw mode never sends but kill(1) can.
END_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)
#: Seconds a program gets to end after a SIGTERM (the quit dialog's "stop") or a forwarded signal.
GRACE = 3.0


class RunError(Exception):
    """The program could not be started; the message says why."""


def exit_status(returncode: int) -> int:
    """A shell's view of a child's end: its code, or 128 + the signal that killed it."""
    return 128 - returncode if returncode < 0 else returncode


@dataclass
class RunChild:
    """The program memtop started, its log and whether it could be instrumented."""

    argv: list[str]
    process: subprocess.Popen[bytes]
    log: Path
    #: Why its heap cannot be counted (a static or setuid binary), None when it is.
    not_instrumentable: str | None
    started: float = field(default_factory=time.time)
    returncode: int | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def name(self) -> str:
        return Path(self.argv[0]).name

    def poll(self) -> int | None:
        """The child's exit status once it has ended (reaped here), else None."""
        if self.returncode is None:
            code = self.process.poll()
            if code is not None:
                self.returncode = exit_status(code)
        return self.returncode

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.poll() is None:
            try:
                self.process.send_signal(sig)
            except ProcessLookupError:
                pass

    def end(self, sig: int) -> int:
        """Forward ``sig`` (memtop got it), wait GRACE seconds, then SIGKILL; the child's exit status."""
        # A second signal (an impatient kill, a hangup after a SIGTERM) must not cut this short. Main thread only.
        previous = {s: signal.signal(s, signal.SIG_IGN) for s in END_SIGNALS}
        try:
            self.stop(sig)
            try:
                self.process.wait(timeout=GRACE)
            except subprocess.TimeoutExpired:
                self.stop(signal.SIGKILL)  # it ignores the signal: memtop is leaving, so must it
                self.process.wait()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
        status = self.poll()
        assert status is not None
        return status

    def status_line(self) -> str:
        """What the header says about it."""
        where = f"log {self.log}"
        if self.returncode is None:
            return f"running {self.name} (pid {self.pid}) · {where}"
        return f"{self.name} (pid {self.pid}) exited with status {self.returncode} · {where}"


def start(argv: list[str], no_inherit: bool = False, log: str | None = None, library: Path | None = None) -> RunChild:
    """Start ``argv`` with the library preloaded; RunError or BuildError when it cannot be."""
    if not argv:
        raise RunError("no command to run")
    reason = instrumentable(argv[0])
    if reason == "not found":
        raise RunError(f"{argv[0]}: command not found")
    env = dict(os.environ)
    if reason is None:
        lib = library or library_path()
        # In front of any preload the user set, so it sees every allocation.
        env["LD_PRELOAD"] = f"{lib}:{env['LD_PRELOAD']}" if env.get("LD_PRELOAD") else str(lib)
        if no_inherit:
            env["MEMTOP_HEAP_INHERIT"] = "0"
    try:
        if log:
            log_path = Path(log)
            out = open(log_path, "ab")  # noqa: SIM115 - the child writes it for as long as it runs
        else:
            fd, name = tempfile.mkstemp(prefix=f"memtop-run-{Path(argv[0]).name}-", suffix=".log")
            log_path = Path(name)
            out = os.fdopen(fd, "ab")
    except OSError as exc:  # a missing or unwritable directory (issue 13 item 7)
        raise RunError(f"log {log or tempfile.gettempdir()}: {exc.strerror or exc}") from None
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
    except OSError as exc:
        raise RunError(f"{argv[0]}: {exc.strerror}") from None
    finally:
        out.close()
    return RunChild(argv, process, log_path, reason)
