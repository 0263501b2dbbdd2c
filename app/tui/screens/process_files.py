"""``l`` and ``e``: a process's open files and its environment, read-only (htop's lsof and env screens).

Each reads once when it opens, in a thread (a process may hold a million
descriptors), and again on F5 or r; Esc goes back. What cannot be read says
why (another user's process, ptrace restricted, the process exited).
Secrets in the environment are redacted by the collector before they get here.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from memtop.collectors.environ import Environment, read_environ
from memtop.collectors.models import ProcessMemory
from memtop.collectors.open_files import MAX_FDS, OpenFiles, read_open_files
from memtop.collectors.paths import HostPaths
from memtop.views.columns import Column
from memtop.views.format import escape
from memtop.widgets.key_footer import KeyFooter
from memtop.widgets.text_table import TextRow, TextTable

FD_COLUMNS = (
    Column("fd", "FD", 6, "descriptor number"),
    Column("mode", "MODE", 4, "opened for r(ead), w(rite) or rw (fdinfo flags)", right=False),
    Column("kind", "TYPE", 7, "file, deleted (unlinked, still open), device, socket, pipe, anon (eventfd, epoll ...)", right=False),
    Column("pos", "OFFSET", 12, "file position (fdinfo pos)"),
    Column("target", "NAME", 0, "where the descriptor's link points (never opened)", right=False),
)
ENV_COLUMNS = (
    Column("name", "NAME", 28, "variable", right=False),
    Column("value", "VALUE", 0, "value; secret-looking ones redacted", right=False),
)


class _ProcessListing(Screen[None]):
    """What the two screens share: a title, a table, a status line, F5 to read again."""

    BINDINGS = [
        Binding("escape,backspace", "back", "Back"),
        Binding("f5,r", "reread", "Read again"),
        Binding("q,f10", "app.quit", "Quit"),
    ]
    COLUMNS: tuple[Column, ...] = ()
    WHAT = ""

    def __init__(self, proc: ProcessMemory, paths: HostPaths) -> None:
        super().__init__()
        self.proc = proc
        self.paths = paths

    def compose(self) -> ComposeResult:
        p = self.proc
        yield Static(Text.assemble((f"{self.WHAT} ", "bold"), f"of {escape(p.name)} (pid {p.pid}, user {p.user or p.uid})",
                                   "   read-only"), id="listing-title")
        yield TextTable(self.COLUMNS, id="listing")
        yield Static(f"reading /proc/{p.pid} ...", id="listing-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(TextTable).focus()
        self.action_reread()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_reread(self) -> None:
        self.read()

    @work(exclusive=True, group="listing")
    async def read(self) -> None:
        rows, status = await asyncio.to_thread(self.rows)
        if self not in self.app.screen_stack:
            return
        self.query_one(TextTable).set_rows(rows)
        self.query_one("#listing-status", Static).update(status)

    def rows(self) -> tuple[list[TextRow], str]:
        raise NotImplementedError


class OpenFilesScreen(_ProcessListing):
    """``l``: every descriptor, by number: the link's target, mode and offset."""

    COLUMNS = FD_COLUMNS
    WHAT = "open files"

    def rows(self) -> tuple[list[TextRow], str]:
        found: OpenFiles = read_open_files(self.paths, self.proc.pid, self.proc.starttime)
        if found.error:
            return [], f"cannot list: {found.error}"
        rows = [TextRow(("fd", f.fd), (str(f.fd), f.mode or "?", f.kind, "" if f.pos is None else str(f.pos), escape(f.target)),
                        muted=f.kind == "deleted") for f in found.files]
        kinds: dict[str, int] = {}
        for f in found.files:
            kinds[f.kind] = kinds.get(f.kind, 0) + 1
        cut = f" (first {MAX_FDS:,} shown)" if found.total > len(found.files) else ""
        summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
        return rows, f"{found.total} descriptors{cut}: {summary}.  Links are read, never opened.  F5 reads again."


class EnvironmentScreen(_ProcessListing):
    """``e``: the environment the process started with, secrets redacted."""

    COLUMNS = ENV_COLUMNS
    WHAT = "environment"

    def rows(self) -> tuple[list[TextRow], str]:
        env: Environment = read_environ(self.paths, self.proc.pid, self.proc.starttime)
        if env.error:
            return [], f"cannot show: {env.error}"
        rows = [TextRow(("env", i), (escape(name), escape(value)), muted="redacted" in value)
                for i, (name, value) in enumerate(env.variables)]
        cut = "  (first 1 MiB shown)" if env.truncated else ""
        return rows, (f"{len(rows)} variables, {env.redacted} redacted (names like PASSWORD, TOKEN, API_KEY; passwords in URLs)"
                      f"{cut}.  The environment the process started with (/proc/PID/environ).")


def open_listing(screen: Any, kind: str, proc: ProcessMemory | None, running: bool, paths: HostPaths | None) -> None:
    """``l`` or ``e`` on the selected process, or say why not."""
    if proc is None or not running:
        screen.notify("select a running process first", severity="warning")
    elif paths is None:
        screen.notify("a captured tree (--root) has no open files or environment", severity="warning")
    else:
        screen.app.push_screen((OpenFilesScreen if kind == "files" else EnvironmentScreen)(proc, paths))
