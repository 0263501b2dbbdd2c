"""``memtop run [--] CMD [ARGS...]``: start a program with the heap counter library and watch it."""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING

from memtop.cli.common import UsageError, interval

if TYPE_CHECKING:
    from memtop.instrument.run import RunChild

USAGE = "memtop run [--no-inherit] [--interval SECONDS] [--log FILE] [--] CMD [ARGS...]"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "run", usage=USAGE, help="run a program with memtop's heap counter and chart its heap against RSS",
        description="Run CMD with memtop's heap counter library preloaded and chart its heap against RSS, live.",
    )
    p.add_argument("--no-inherit", action="store_true",
                   help="do not instrument the programs CMD starts (LD_PRELOAD is removed from their environment)")
    p.add_argument("--interval", type=interval, default=1.0, metavar="SECONDS", help="dashboard refresh (default 1, at least 0.1)")
    p.add_argument("--log", metavar="FILE", help="where CMD's stdout and stderr go (default: a new file in $TMPDIR)")
    p.add_argument("--print-preload", action="store_true",
                   help="build the library if needed, print its path and exit (for LD_PRELOAD=... by hand)")
    p.add_argument("command", nargs=argparse.REMAINDER, help="the program and its arguments")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """The command; textual is imported only when the dashboard opens."""
    # Imported here: every other command (`memtop --json` first) would pay ~6 ms for them (issue 17, goal 5).
    from memtop.instrument.preload import BuildError, library_path
    from memtop.instrument.run import END_SIGNALS, RunError, start

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    try:
        if args.print_preload:
            print(library_path())
            return 0
        if not command:
            raise UsageError(f"run: no command to run: {USAGE}")
        if not sys.stdout.isatty():
            raise UsageError("run opens the dashboard: it needs a terminal")
    except (RunError, BuildError) as exc:
        raise UsageError(f"run: {exc}") from None
    # From the child's start until the dashboard's loop takes them (tui/exit_signals.py), these
    # signals end the child too: memtop never leaves it behind (issue 13 item 8).
    previous = {sig: signal.signal(sig, _raise_signalled) for sig in END_SIGNALS}
    child: RunChild | None = None
    try:
        child = start(command, args.no_inherit, args.log)
        return _watch(child, args)
    except (RunError, BuildError) as exc:
        raise UsageError(f"run: {exc}") from None
    except Signalled as got:
        return child.end(got.signal) if child is not None else 128 + got.signal
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Signalled(Exception):
    """memtop got one of END_SIGNALS before its dashboard ran (or after it ended)."""

    def __init__(self, sig: int) -> None:
        super().__init__(sig)
        self.signal = sig


def _raise_signalled(sig: int, _frame: FrameType | None) -> None:
    raise Signalled(sig)


def _watch(child: RunChild, args: argparse.Namespace) -> int:
    """The dashboard with ``child`` selected; its exit status."""
    from memtop.collectors.paths import HostPaths
    from memtop.collectors.snapshot import Collector, Options
    from memtop.tui.app import run_dashboard

    from memtop.state.settings import SettingsStore, default_path, start_options

    # The remembered settings (theme, columns, sort ...) apply here too; the interval is run's flag.
    store, problems = SettingsStore.open(default_path(), {"interval": args.interval})
    for line in problems:
        print(f"memtop: {line}", file=sys.stderr)
    collector = Collector(HostPaths(), Options(store.current.kernel_threads))
    return run_dashboard(collector, start_options(store.current, pid=child.pid), run=child, settings=store)
