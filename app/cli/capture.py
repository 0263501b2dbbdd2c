"""``memtop capture DIR``: copy the /proc and /sys files memtop reads, to replay with --root."""

from __future__ import annotations

import argparse
from pathlib import Path

from memtop.cli.common import UsageError, host_paths, os_error


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "capture", help="copy the /proc and /sys files memtop reads into DIR (replay with --root DIR)",
        description="Copy exactly the /proc and /sys files memtop reads into DIR, to replay with memtop --root DIR.",
    )
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--keep-cmdline", action="store_true", help="keep command-line arguments (default: argv[0] only; they often hold secrets)")
    p.add_argument("--smaps", action="store_true", help="also copy every process's full smaps (large)")
    p.add_argument("--root", metavar="DIR", help="capture from a tree instead of the live host")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from memtop.collectors.capture import capture  # only this command needs it

    dest = Path(args.dir)
    paths = host_paths(args.root)
    try:
        if dest.exists() and not dest.is_dir():
            raise UsageError(f"capture: {dest} is not a directory; capture into a new or empty directory")
        if dest.exists() and any(dest.iterdir()):
            raise UsageError(f"{dest} is not empty; capture into a new or empty directory")
        result = capture(paths, dest, keep_cmdline=args.keep_cmdline, smaps=args.smaps)
    except OSError as exc:
        # Unwritable, read-only or full (issue 13 item 7): one line; a copy cut short is no capture.
        raise UsageError(f"capture: {os_error(exc) if exc.filename else f'{dest}: {exc.strerror or exc}'}"
                         + (" (the files written before are incomplete)" if dest.is_dir() else "")) from None
    print(f"captured {result.files} files of {result.processes} processes into {dest} "
          f"({result.unreadable} not readable); replay with: memtop --root {dest} --once")
    return 0
