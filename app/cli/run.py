"""`memtop run [--] CMD [ARGS...]`: the command line of the program memtop starts and watches."""

from __future__ import annotations

import argparse
import sys

from memtop.instrument.preload import BuildError, library_path
from memtop.instrument.run import RunError, start

USAGE = "memtop run [--no-inherit] [--interval S] [--log FILE] [--] CMD [ARGS...]"


def run_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="memtop run",
        usage=USAGE,
        description="Run CMD with memtop's heap counter library preloaded and chart its heap against RSS, live.",
    )
    p.add_argument("--no-inherit", action="store_true",
                   help="do not instrument the programs CMD starts (LD_PRELOAD is removed from their environment)")
    p.add_argument("--interval", type=float, default=1.0, metavar="SECONDS", help="dashboard refresh (default 1)")
    p.add_argument("--log", metavar="FILE", help="where CMD's stdout and stderr go (default: a new file in $TMPDIR)")
    p.add_argument("--print-preload", action="store_true",
                   help="build the library if needed, print its path and exit (for LD_PRELOAD=... by hand)")
    p.add_argument("command", nargs=argparse.REMAINDER, help="the program and its arguments")
    return p


def main(argv: list[str]) -> int:
    """`memtop run ...`; textual is imported only when the dashboard opens."""
    args = run_parser().parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    try:
        if not command and not args.print_preload:
            raise RunError(f"no command to run: {USAGE}")
        if args.print_preload:
            print(library_path())
            return 0
        if args.interval < 0.1:
            raise RunError("--interval must be at least 0.1 seconds")
        child = start(command, args.no_inherit, args.log)
    except (RunError, BuildError) as exc:
        print(f"memtop run: {exc}", file=sys.stderr)
        return 2
    from memtop.collectors.paths import HostPaths
    from memtop.collectors.snapshot import Collector, Options

    from memtop.tui.app import StartOptions, run_dashboard

    collector = Collector(HostPaths(), Options())
    return run_dashboard(collector, StartOptions(interval=args.interval, pid=child.pid), run=child)
