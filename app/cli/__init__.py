"""The ``memtop`` command line.

``--once`` and ``--json`` import only the collectors and the text report, never
textual, so a scripted run costs what reading /proc costs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from memtop import __version__
from memtop.collectors.paths import HostPaths
from memtop.collectors.snapshot import Collector, HostError, Options
from memtop.collectors.working_set import Refused

from memtop.state.model import MemtopModel
from memtop.state.options import StartOptions
from memtop.state.working_sets import WorkingSets, measure_once
from memtop.output.report import snapshot_json, table
from memtop.tables.select import SelectError, check_sort_field, select

HINT = "memtop: stdout is not a terminal; use `memtop --once` for a table or `memtop --json` for JSON"


class UsageError(Exception):
    """Bad input from the user: one line on stderr, exit 2."""


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0 or value != value:
        raise argparse.ArgumentTypeError(f"must be a positive number: {text}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="memtop",
        description="Explain a Linux machine's memory: system taxonomy, per-process RSS/PSS/USS/swap.",
        epilog="memtop capture DIR [--keep-cmdline] [--smaps]: copy the /proc and /sys files memtop "
        "reads into DIR, to replay with --root DIR.",
    )
    p.add_argument("--version", action="version", version=f"memtop {__version__}")
    p.add_argument("--once", action="store_true", help="print one table and exit")
    p.add_argument("--json", action="store_true", help="print one JSON snapshot (memtop.snapshot/1); implies --once")
    p.add_argument("--interval", type=_positive, metavar="SECONDS",
                   help="dashboard refresh (default 1, at least 0.1); with --json: one snapshot per line every SECONDS (NDJSON)")
    p.add_argument("--count", type=_count, metavar="N", help="with --interval: stop after N snapshots")
    p.add_argument("--sort", default="pss", metavar="FIELD", help="process field to sort by (default pss; sizes largest first)")
    p.add_argument("--reverse", action="store_true", help="reverse the sort order")
    p.add_argument("--limit", type=int, metavar="N", help="show at most N processes")
    p.add_argument("--filter", metavar="TEXT", help="only processes whose name, command line or user contains TEXT (digits: also the pid)")
    p.add_argument("--pid", type=int, action="append", metavar="PID", help="only this process (repeatable)")
    p.add_argument("--kernel-threads", action="store_true", help="include kernel threads")
    p.add_argument("--bytes", action="store_true", help="exact byte counts instead of KiB/MiB/GiB")
    p.add_argument("--root", metavar="DIR", help="read DIR/proc and DIR/sys (a capture) instead of the live ones")
    p.add_argument("--wss", type=int, metavar="PID", help="measure this process's working set first (resets its page reference bits; waits --wss-window seconds); --json then reports it")
    p.add_argument("--wss-window", type=_positive, default=5.0, metavar="SECONDS", help="the working-set window (default 5)")
    p.add_argument("--maps", type=int, metavar="PID", help="one process's mappings grouped by kind and path (like pmap -X, with PSS and USS); with --json: memtop.maps/1")
    return p


def capture_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="memtop capture", description="Copy exactly the /proc and /sys files memtop reads into DIR.")
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--keep-cmdline", action="store_true", help="keep command-line arguments (default: argv[0] only; they often hold secrets)")
    p.add_argument("--smaps", action="store_true", help="also copy every process's full smaps (large)")
    p.add_argument("--root", metavar="DIR", help="capture from a tree instead of the live host")
    return p


def host_paths(root: str | None) -> HostPaths:
    if root is None:
        return HostPaths()
    paths = HostPaths.from_root(root)
    if not paths.proc.is_dir():
        raise UsageError(f"--root {root}: no proc/ directory there")
    return paths


def run_capture(argv: Sequence[str]) -> int:
    from memtop.collectors.capture import capture  # only this subcommand needs it

    args = capture_parser().parse_args(argv)
    dest = Path(args.dir)
    if dest.exists() and any(dest.iterdir()):
        raise UsageError(f"{dest} is not empty; capture into a new or empty directory")
    result = capture(host_paths(args.root), dest, keep_cmdline=args.keep_cmdline, smaps=args.smaps)
    print(f"captured {result.files} files of {result.processes} processes into {dest} "
          f"({result.unreadable} not readable); replay with: memtop --root {dest} --once")
    return 0


def run_once(args: argparse.Namespace) -> int:
    check_sort_field(args.sort)
    pids = tuple(args.pid) if args.pid else None
    collector = Collector(host_paths(args.root), Options(args.kernel_threads, pids))
    streaming = args.json and args.interval is not None
    if args.wss is not None:
        if args.root is not None:
            raise UsageError("--wss measures a live process: not with --root")
        try:
            measure_once(collector, args.wss, args.wss_window, lambda line: print(f"memtop: {line}", file=sys.stderr))
        except Refused as exc:
            raise UsageError(f"--wss {args.wss}: {exc}") from None
    # The dashboard's model derives the diagnoses and gap trends of the JSON
    # too: line after line, the histories build up as on the dashboard. The
    # working sets are the ones memtop keeps (w, --wss); not for a capture.
    sets = WorkingSets(collector.paths if args.root is None else None, None)
    model = MemtopModel(StartOptions(frozen=args.root is not None), working_sets=sets)
    count = 0
    while True:
        snap = collector.collect(cgroups=args.json, container=args.json)  # only the JSON has them
        if pids:
            missing = sorted(set(pids) - {p.pid for p in snap.processes})
            if missing and count == 0:
                raise UsageError(f"no such process: {', '.join(map(str, missing))}")
        rows = select(snap.processes, sort=args.sort, reverse=args.reverse, text=args.filter,
                      pids=pids, limit=args.limit)
        if args.json:
            sets.reload()  # another memtop may have measured one meanwhile
            done = model.ingest(snap)
            kept = sets.current(p.key for p in snap.processes)
            print(json.dumps(snapshot_json(snap, rows, done.verdicts, done.diagnoses, kept),
                             separators=(",", ":") if streaming else (", ", ": ")), flush=True)
        else:
            width = os.get_terminal_size(sys.stdout.fileno()).columns if sys.stdout.isatty() else None
            print(table(snap, rows, exact=args.bytes, width=width))
        count += 1
        if not streaming or (args.count is not None and count >= args.count):
            return 0
        time.sleep(args.interval)


def run_maps(args: argparse.Namespace) -> int:
    from memtop.output.maps_report import MapsError, maps_json, maps_table, read_maps

    try:
        maps = read_maps(args.maps, host_paths(args.root))
    except MapsError as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(maps_json(maps)) if args.json else maps_table(maps, exact=args.bytes))
    return 0


def run_live(args: argparse.Namespace) -> int:
    """The dashboard; textual is imported only here."""
    check_sort_field(args.sort)
    interval = 1.0 if args.interval is None else args.interval
    if interval < 0.1:
        raise UsageError("--interval must be at least 0.1 seconds")
    collector = Collector(host_paths(args.root), Options(args.kernel_threads))
    from memtop.tui.app import StartOptions, run_dashboard

    options = StartOptions(
        interval=interval, sort=args.sort, text=args.filter or "",
        pid=args.pid[0] if args.pid else None, frozen=args.root is not None,
    )
    return run_dashboard(collector, options)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["capture"]:
            return run_capture(argv[1:])
        if argv[:1] == ["run"]:
            from memtop.cli.run import main as run_main

            if not sys.stdout.isatty() and "--print-preload" not in argv:
                print("memtop run opens the dashboard: it needs a terminal", file=sys.stderr)
                return 2
            return run_main(argv[1:])
        args = build_parser().parse_args(argv)
        if args.count is not None and (args.interval is None or not args.json):
            raise UsageError("--count goes with --json --interval")
        if args.maps is not None:
            return run_maps(args)
        if args.once or args.json or args.wss is not None:
            return run_once(args)
        if not sys.stdout.isatty():
            print(HINT, file=sys.stderr)
            return 2
        return run_live(args)
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


if __name__ == "__main__":
    sys.exit(main())
