"""A pass that fails: its traceback kept in a file the header names, and a wait that grows until one succeeds.

The dashboard's collect loop catches whatever a pass raises (a kernel that
changed a format, a bug), so memtop stays up and says so in its header. The
header has room for one line: the whole traceback goes to a file in the
user's state directory ($XDG_STATE_HOME/memtop, else ~/.local/state/memtop,
after the XDG base directory spec), and the header names it.

memtop often runs as root: the directory is made mode 0700 and used only if
the effective user owns it and nobody else may write in it
(collectors/safe_open.py: trusted_directory, as for the cache); the file is created new
in it (O_EXCL, no link followed, mode 0600), never an existing one
appended to. Otherwise the header says why nothing was saved.

Retries back off: the refresh interval after the first failure, doubled
after each further one in a row, up to MAX_BACKOFF; a pass that fails at
once every time neither spins a CPU nor fills a disk (a traceback seen
before is one line, and the file stops at LOG_LIMIT).
"""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path

from memtop.collectors.safe_open import UnsafeFile, trusted_directory

#: The longest wait between two failed passes, in seconds (unless the interval is longer).
MAX_BACKOFF = 60.0
#: A log stops growing here.
LOG_LIMIT = 1 << 20


def state_home() -> Path:
    """$XDG_STATE_HOME/memtop, else ~/.local/state/memtop."""
    xdg = os.environ.get("XDG_STATE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".local" / "state"
    return base / "memtop"


def create_new(directory: int, stem: str) -> tuple[int, str]:
    """A file created new in ``directory`` (O_EXCL, no link followed, mode 0600): (descriptor, name).

    ``stem``.log, else ``stem``-2.log ... when a file (or anything) has the name already.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_APPEND
    for n in range(1, 101):
        name = f"{stem}.log" if n == 1 else f"{stem}-{n}.log"
        try:
            return os.open(name, flags, 0o600, dir_fd=directory), name
        except FileExistsError:
            continue
    raise FileExistsError(f"{stem}.log to {stem}-100.log all exist")


class FailureLog:
    """Failed passes in a row, where their tracebacks go, how long to wait before the next."""

    def __init__(self, directory: Path | None = None, stem: str | None = None) -> None:
        """``directory``: where the log goes (None: state_home(), looked up at the first failure);
        ``stem``: its name before .log (default: collect-PID)."""
        self.directory = directory
        self.stem = stem or f"collect-{os.getpid()}"
        #: Failed passes since the last that worked.
        self.failures = 0
        #: The log, once a failure was written to it.
        self.path: Path | None = None
        #: Why no log could be written (said in the header instead of a path).
        self.refused: str | None = None
        self._fd: int | None = None
        self._last = ""
        self._repeats = 0
        self._written = 0

    def failed(self, exc: BaseException, interval: float) -> tuple[str, float]:
        """A pass raised ``exc``: (the header's line, seconds to wait before the next pass)."""
        self.failures += 1
        wait = min(interval * 2 ** (self.failures - 1), max(MAX_BACKOFF, interval))
        self._write(exc)
        where = f"traceback in {self.path}" if self.refused is None else f"traceback not saved: {self.refused}"
        return f"{type(exc).__name__}: {exc} ({where}; next try in {wait:g} s)", wait

    def succeeded(self) -> None:
        self.failures = 0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _write(self, exc: BaseException) -> None:
        if self.refused is not None or self._written >= LOG_LIMIT:
            return
        when = time.strftime("%Y-%m-%d %H:%M:%S")
        text = "".join(traceback.format_exception(exc))
        if text == self._last:
            self._repeats += 1
            entry = f"{when} the same again ({self._repeats} in a row)\n"
        else:
            self._last, self._repeats = text, 0
            entry = f"{when} a pass failed:\n{text}\n"
        try:
            if self._fd is None:
                directory = self.directory if self.directory is not None else state_home()
                folder = trusted_directory(directory)
                try:
                    self._fd, name = create_new(folder, self.stem)
                finally:
                    os.close(folder)
                self.path = directory / name
            data = entry.encode("utf-8", "backslashreplace")
            os.write(self._fd, data)
            self._written += len(data)
        except OSError as error:
            plain = error.strerror and error.filename and not isinstance(error, UnsafeFile)
            self.refused = f"{error.strerror}: {error.filename}" if plain else str(error)
            self.close()
