"""memtop without a command: the dashboard, or one report (``--once``, ``--json``, ``--maps``, ``--wss``).

``--once`` and ``--json`` import the collectors, the model and the text report,
never textual, so a scripted run costs what reading /proc costs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from memtop.cli.common import UsageError, count, host_paths, positive
from memtop.collectors.snapshot import Collector, Options
from memtop.collectors.working_set import Refused
from memtop.output.report import snapshot_json, table
from memtop.state.model import MemtopModel
from memtop.state.options import StartOptions
from memtop.state.working_sets import WorkingSets, measure_once
from memtop.tables.select import check_sort_field, select

HINT = "memtop: stdout is not a terminal; use `memtop --once` for a table or `memtop --json` for JSON"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of memtop without a command."""
    p.add_argument("--once", action="store_true", help="print one table and exit")
    p.add_argument("--json", action="store_true", help="print one JSON snapshot (memtop.snapshot/1); implies --once")
    p.add_argument("--interval", type=positive, metavar="SECONDS",
                   help="dashboard refresh (default 1, at least 0.1); with --json: one snapshot per line every SECONDS (NDJSON)")
    p.add_argument("--count", type=count, metavar="N", help="with --interval: stop after N snapshots")
    p.add_argument("--sort", default="pss", metavar="FIELD", help="process field to sort by (default pss; sizes largest first)")
    p.add_argument("--reverse", action="store_true", help="reverse the sort order")
    p.add_argument("--limit", type=int, metavar="N", help="show at most N processes")
    p.add_argument("--filter", metavar="TEXT", help="only processes whose name, command line or user contains TEXT (digits: also the pid)")
    p.add_argument("--pid", type=int, action="append", metavar="PID", help="only this process (repeatable)")
    p.add_argument("--kernel-threads", action="store_true", help="include kernel threads")
    p.add_argument("--bytes", action="store_true", help="exact byte counts instead of KiB/MiB/GiB")
    p.add_argument("--root", metavar="DIR", help="read DIR/proc and DIR/sys (a capture) instead of the live ones")
    p.add_argument("--wss", type=int, metavar="PID", help="measure this process's working set first (resets its page reference bits; waits --wss-window seconds); --json then reports it")
    p.add_argument("--wss-window", type=positive, default=5.0, metavar="SECONDS", help="the working-set window (default 5)")
    p.add_argument("--maps", type=int, metavar="PID", help="one process's mappings grouped by kind and path (like pmap -X, with PSS and USS); with --json: memtop.maps/1")


def run(args: argparse.Namespace) -> int:
    """The dashboard, or the report the options ask for."""
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
    from memtop.tui.app import run_dashboard

    options = StartOptions(
        interval=interval, sort=args.sort, text=args.filter or "",
        pid=args.pid[0] if args.pid else None, frozen=args.root is not None,
    )
    return run_dashboard(collector, options)
