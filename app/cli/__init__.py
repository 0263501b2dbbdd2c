"""The ``memtop`` command line: memtop without a command (dashboard and reports) and its subcommands.

Each subcommand is a module here with ``register(commands)``, which adds its
parser and sets ``handler``; textual is imported only by the commands that
open the dashboard, and only when they do.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from memtop import __version__
from memtop.cli import capture, record, replay, run, serve, view
from memtop.cli.common import Parser, UsageError, os_error
from memtop.cli.view import HINT
from memtop.collectors.snapshot import HostError
from memtop.tables.select import SelectError

__all__ = ["HINT", "UsageError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="memtop",
        usage="%(prog)s [--once | --json | --maps PID] [options]\n       %(prog)s COMMAND [options]   (memtop COMMAND --help)",
        description="Explain a Linux machine's memory: system taxonomy, per-process RSS/PSS/USS/swap. "
        "Without a command: the dashboard, or one report with --once, --json or --maps.",
    )
    p.add_argument("--version", action="version", version=f"memtop {__version__}")
    view.add_arguments(p)
    p.set_defaults(handler=view.run)
    commands = p.add_subparsers(dest="subcommand", metavar="COMMAND", title="commands", prog="memtop")
    for command in (run, capture, serve, record, replay):
        command.register(commands)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = replay.join_time_values(list(sys.argv[1:] if argv is None else argv))
    try:
        args = build_parser().parse_args(argv)
        result: int = args.handler(args)
        return result
    except (UsageError, SelectError, HostError) as exc:
        print(f"memtop: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `memtop --json | head`: the reader left; that is not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:
        # What the system refused that no command turned into its own message (a
        # directory of mode 000 under --root, a full disk): one line, not a traceback.
        print(f"memtop: {os_error(exc)}", file=sys.stderr)
        return 2

