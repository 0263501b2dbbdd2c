"""``memtop capture DIR``: copy the /proc and /sys files memtop reads, to replay with --root."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from memtop.cli.common import UsageError, host_paths, os_error


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "capture", help="copy the /proc and /sys files memtop reads into DIR (replay with --root DIR)",
        description="Copy exactly the /proc and /sys files memtop reads into DIR, to replay with memtop --root DIR.",
    )
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--keep-cmdline", action="store_true",
                   help="keep command-line arguments (default: argv[0] only; they often hold secrets); "
                   "secret-looking words are masked either way")
    p.add_argument("--smaps", action="store_true", help="also copy every process's full smaps (large)")
    p.add_argument("--root", metavar="DIR", help="capture from a tree instead of the live host")
    p.set_defaults(handler=run)


#: Refused files named on stderr, one line each, before "and N more".
_NAMED = 10


def run(args: argparse.Namespace) -> int:
    from memtop.collectors.capture import REPORT_FILE, CaptureRefused, capture  # only this command needs it

    dest = Path(args.dir)
    paths = host_paths(args.root)
    try:
        if dest.exists() and not dest.is_dir():
            raise UsageError(f"capture: {dest} is not a directory; capture into a new or empty directory")
        if dest.exists() and any(dest.iterdir()):
            raise UsageError(f"{dest} is not empty; capture into a new or empty directory")
        result = capture(paths, dest, keep_cmdline=args.keep_cmdline, smaps=args.smaps)
    except CaptureRefused as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        # Unwritable, read-only or full (issue 13 item 7): one line; a copy cut short is no capture.
        raise UsageError(f"capture: {os_error(exc) if exc.filename else f'{dest}: {exc.strerror or exc}'}"
                         + (" (the files written before are incomplete)" if dest.is_dir() else "")) from None
    print(f"captured {result.files} files of {result.processes} processes into {dest} "
          f"({result.unreadable} not readable); replay with: memtop --root {dest} --once")
    # Say what was removed, so nobody takes the capture for the whole truth (issue 13, item 5).
    masked, lines = sum(result.masked.values()), len(result.masked)
    cut = "" if args.keep_cmdline else (
        f", the arguments after argv[0] of {len(result.dropped)} (--keep-cmdline keeps them)")
    print(f"removed: {masked} secret-looking word{'' if masked == 1 else 's'} in {lines} command "
          f"line{'' if lines == 1 else 's'} (masked as ***){cut}; per file in {dest / REPORT_FILE}")
    refused = sorted(result.refused.items())
    for where, why in refused[:_NAMED]:
        print(f"memtop: refused {where}: {why}", file=sys.stderr)
    if len(refused) > _NAMED:
        print(f"memtop: refused {len(refused) - _NAMED} more files (see {dest / REPORT_FILE})", file=sys.stderr)
    return 0
