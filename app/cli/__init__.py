"""The ``memtop`` command line: memtop without a command (dashboard and reports) and its subcommands.

Each subcommand is a module here with ``register(commands)``, which adds its
parser and sets ``handler``; textual is imported only by the commands that
open the dashboard, and only when they do. A command line that names no
command (``memtop --json``, the dashboard) is parsed without importing the
subcommands' modules (history, the exporter's listener, the recorder):
``memtop --json`` is a one-shot process whose start-up is part of its cost
(issue 17, goal 5), and those imports were a fifth of it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from memtop import __version__
from memtop.cli import replay, view
from memtop.cli.common import Parser, UsageError, os_error
from memtop.cli.view import HINT
from memtop.collectors.snapshot import HostError
from memtop.tables.select import SelectError

__all__ = ["HINT", "UsageError", "build_parser", "main"]

#: The subcommands' modules, in the order ``memtop --help`` lists them.
COMMANDS = ("run", "capture", "serve", "record", "replay")
_USAGE = "%(prog)s [--once | --json | --maps PID] [options]\n       %(prog)s COMMAND [options]   (memtop COMMAND --help)"
_DESCRIPTION = ("Explain a Linux machine's memory: system taxonomy, per-process RSS/PSS/USS/swap. "
                "Without a command: the dashboard, or one report with --once, --json or --maps.")


def _top(parser_class: type[Parser]) -> Parser:
    p = parser_class(prog="memtop", usage=_USAGE, description=_DESCRIPTION)
    if parser_class is _PlainParser:  # it exits where it stands: a word before it is the whole parser's to judge
        p.add_argument("--version", action=_Refer, nargs=0, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    else:
        p.add_argument("--version", action="version", version=f"memtop {__version__}")
    view.add_arguments(p)
    p.set_defaults(handler=view.run, subcommand=None)
    return p


class _Commands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """The command word: memtop's own options before it are refused, not dropped.

    argparse lets the command's defaults overwrite the same names given before
    it: ``memtop --interval 5 record`` recorded every 10 s and ``memtop --root
    X capture D`` captured the live host, without a word.
    """

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        name = values[0] if values else ""
        given = [action.option_strings[-1] for action in parser._actions
                 if action.option_strings and action.dest != argparse.SUPPRESS and action.default != argparse.SUPPRESS
                 and getattr(namespace, action.dest, action.default) != action.default]
        if given and name in self.choices:
            parser.exit(2, f"memtop: {', '.join(given)} before the command {name}: options before a command are "
                           f"memtop's own; put the command's after it (see memtop {name} --help)\n")
        super().__call__(parser, namespace, values, option_string)


def build_parser() -> argparse.ArgumentParser:
    """The whole parser: memtop's own options and every command."""
    p = _top(Parser)
    commands = p.add_subparsers(dest="subcommand", metavar="COMMAND", title="commands", prog="memtop",
                                action=_Commands)
    for name in COMMANDS:
        importlib.import_module(f"memtop.cli.{name}").register(commands)
    return p


class _NotPlain(Exception):
    """The command line is not one the parser without commands reads as the whole parser would."""


class _PlainParser(Parser):
    """memtop's own options only: anything it does not read plainly goes to the whole parser.

    The same options make the same prefixes unique (argparse's abbreviations), and
    -h/--help is declared so that ``--he`` stays as ambiguous or as unique as it
    is there; help, --version, an error, a word left over (a command, a typo) or
    ``--`` raise _NotPlain and the whole parser reads the line again, giving its
    own help and its own messages (``memtop rss --version`` is its error, not
    the version).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(add_help=False, **kwargs)
        self.add_argument("-h", "--help", action=_Refer, nargs=0, default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    def error(self, message: str) -> NoReturn:
        raise _NotPlain(message)


class _Refer(argparse.Action):
    def __call__(self, *_: object, **__: object) -> NoReturn:
        raise _NotPlain("help")


def parse(argv: list[str]) -> argparse.Namespace:
    """``argv`` as ``build_parser()`` reads it, building that only when the line may name a command."""
    if "--" not in argv:
        try:
            args, rest = _top(_PlainParser).parse_known_args(argv)
        except _NotPlain:
            pass
        else:
            if not rest:
                return args
    return build_parser().parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    words = replay.join_time_values(list(sys.argv[1:] if argv is None else argv))
    try:
        args = parse(words)
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

