"""Facts about a host that a /proc tree may not carry: names, page size, users.

A live host answers from the running system. A capture (``memtop capture``)
stores them in ``memtop-host.json`` beside its proc/ and sys/.
"""

from __future__ import annotations

import json
import os
import pwd
from collections.abc import Callable
from dataclasses import dataclass, field

from .fs import read_optional
from .paths import HostPaths

HOST_FILE = "memtop-host.json"


@dataclass(frozen=True, slots=True)
class HostFacts:
    hostname: str
    kernel: str
    page_size: int
    clock_ticks: int
    users: dict[int, str] = field(default_factory=dict)
    #: Files of a capture that were refused when it was taken ("PID/smaps_rollup"),
    #: so a replay says "permission denied" where the live host did.
    denied: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, object]:
        return {
            "hostname": self.hostname, "kernel": self.kernel, "page_size": self.page_size,
            "clock_ticks": self.clock_ticks, "users": {str(k): v for k, v in sorted(self.users.items())},
            "denied": sorted(self.denied),
        }


def _proc_text(paths: HostPaths, name: str) -> str | None:
    text = read_optional(paths.proc / "sys" / "kernel" / name)
    return None if text is None else text.strip() or None


#: uid_t is 32 bits; (uid_t)-1 means "no uid" (chown's "leave it"), so no process has it.
_MAX_UID = 2**32 - 2


def _uid(key: object) -> bool:
    """Whether a key of the capture's users map is a uid (a hand-edited file may hold anything:
    int() of a 5000-digit key raises ValueError, issue 13 item 7)."""
    text = str(key)
    return text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= _MAX_UID


def load_facts(paths: HostPaths) -> HostFacts:
    """Facts for the host at ``paths``: the capture's file, else the running system."""
    stored: dict[str, object] = {}
    text = read_optional(paths.root / HOST_FILE) if not paths.live else None
    if text is not None:
        try:
            loaded = json.loads(text)
            stored = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            stored = {}
    users_raw = stored.get("users")
    users = {int(k): str(v) for k, v in users_raw.items() if _uid(k)} if isinstance(users_raw, dict) else {}
    denied_raw = stored.get("denied")
    denied = frozenset(str(d) for d in denied_raw) if isinstance(denied_raw, list) else frozenset()
    uname = os.uname()

    def pick(key: str, fallback: object) -> object:
        value = stored.get(key)
        return value if value is not None else fallback

    def number(key: str, fallback: int) -> int:
        value = stored.get(key)
        return value if isinstance(value, int) and value > 0 else fallback  # a hand-edited file: ignore

    live = paths.live
    return HostFacts(
        hostname=str(pick("hostname", _proc_text(paths, "hostname") or (uname.nodename if live else "unknown"))),
        kernel=str(pick("kernel", _proc_text(paths, "osrelease") or (uname.release if live else "unknown"))),
        page_size=number("page_size", os.sysconf("SC_PAGE_SIZE") or 4096),
        clock_ticks=number("clock_ticks", os.sysconf("SC_CLK_TCK") or 100),
        users=users,
        denied=denied,
    )


def user_lookup(facts: HostFacts, live: bool) -> Callable[[int], str | None]:
    """A cached uid -> name function (the capture's map, else the passwd database)."""
    cache: dict[int, str | None] = dict(facts.users)

    def lookup(uid: int) -> str | None:
        if uid in cache:
            return cache[uid]
        name: str | None = None
        if live:
            try:
                name = pwd.getpwuid(uid).pw_name
            except (KeyError, OverflowError):
                name = None
        cache[uid] = name if name is not None else (str(uid) if live else None)
        return cache[uid]

    return lookup
