"""A process's environment (htop's ``e``), with what looks like a secret redacted before it leaves here.

/proc/PID/environ is the initial environment (Documentation/filesystems/proc.rst,
Table 1-1), readable by root and the same user (ptrace read access). Values
of variables whose names suggest a secret (PASSWORD, TOKEN, API_KEY, ...) and
passwords inside URLs (``postgres://user:pw@host``) are replaced here, in the
collector, so the secret is never on screen, in a screenshot or in memory past
the parse.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from memtop.collectors.fs import decode
from memtop.collectors.open_files import denied, open_pid_dir
from memtop.collectors.paths import HostPaths

#: At most this much of the environment is read (the kernel allows far more; nobody reads it on screen).
MAX_BYTES = 1 << 20
REDACTED = "•••••• (redacted: looks like a secret)"

#: Names that hold secrets by convention (case-insensitive, anywhere in the name).
_SECRET_NAME = re.compile(
    r"PASS|PASSWD|PASSWORD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE|CREDENTIAL|AUTH|COOKIE|SIGNATURE|"
    r"SALT|_KEY$|^KEY$|DSN|WEBHOOK|BEARER|JWT|OTP",
    re.IGNORECASE,
)
#: user:password@ in a URL: the password goes, the rest stays (it tells where the process connects).
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@ \t\r\n]*:)(?P<secret>[^@/ \t\r\n]+)(?P<at>@)")


@dataclass(frozen=True, slots=True)
class Environment:
    pid: int
    #: (name, value) in the order the process got them; redacted values replaced.
    variables: tuple[tuple[str, str], ...]
    redacted: int
    truncated: bool = False
    error: str | None = None


def redact(name: str, value: str) -> tuple[str, bool]:
    """The value to show, and whether something was hidden."""
    if _SECRET_NAME.search(name) and value:
        return REDACTED, True
    hidden, count = _URL_PASSWORD.subn(r"\g<head>••••••\g<at>", value)
    return hidden, count > 0


def parse_environ(raw: bytes) -> tuple[tuple[tuple[str, str], ...], int]:
    """NUL-separated NAME=value entries, redacted; and how many values were."""
    out = []
    redacted = 0
    for entry in raw.split(b"\0"):
        if not entry:
            continue
        name, _, value = decode(entry).partition("=")
        shown, hid = redact(name, value)
        redacted += hid
        out.append((name, shown))
    return tuple(out), redacted


def read_environ(paths: HostPaths, pid: int, starttime: int | None = None) -> Environment:
    """One process's environment, redacted; an error instead when it cannot be read."""
    try:
        base = open_pid_dir(paths, pid, starttime)
    except ProcessLookupError:
        return Environment(pid, (), 0, error="the process has exited")
    except OSError as exc:
        return Environment(pid, (), 0, error=exc.strerror or str(exc))
    try:
        fd = os.open("environ", os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=base)
        try:
            chunks: list[bytes] = []
            size = 0
            while size <= MAX_BYTES:
                data = os.read(fd, 1 << 16)
                if not data:
                    break
                chunks.append(data)
                size += len(data)
        finally:
            os.close(fd)
    except PermissionError:
        return Environment(pid, (), 0, error=denied())
    except OSError as exc:
        return Environment(pid, (), 0, error=exc.strerror or str(exc))
    finally:
        os.close(base)
    raw = b"".join(chunks)
    truncated = len(raw) > MAX_BYTES
    variables, redacted = parse_environ(raw[:MAX_BYTES])
    if not variables and not truncated:
        return Environment(pid, (), 0, error="empty: a kernel thread, a zombie, or a process that cleared it")
    return Environment(pid, variables, redacted, truncated)
