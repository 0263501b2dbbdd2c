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
from pathlib import Path

from memtop.cli import replay
from memtop.cli.common import UsageError, count, host_paths, interval, pid, window
from memtop.collectors.snapshot import Collector, Options
from memtop.collectors.working_set import Refused
from memtop.output.report import snapshot_json, table
from memtop.state.model import MemtopModel
from memtop.state.options import StartOptions
from memtop.state.working_sets import WorkingSets, measure_once
from memtop.state.settings import SettingsStore, default_path, start_options
from memtop.state.trends import RssTrend, heap_gaps, rss_rates
from memtop.tables.select import check_sort_field, select
from memtop.views.columns import BY_KEY

HINT = "memtop: stdout is not a terminal; use `memtop --once` for a table or `memtop --json` for JSON"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of memtop without a command."""
    p.add_argument("--once", action="store_true", help="print one table and exit")
    p.add_argument("--json", action="store_true", help="print one JSON snapshot (memtop.snapshot/1); implies --once")
    p.add_argument("--interval", type=interval, metavar="SECONDS",
                   help="dashboard refresh (default 1, at least 0.1); with --once: a table every SECONDS, like top -b; "
                   "with --json: one snapshot per line every SECONDS (NDJSON)")
    p.add_argument("--count", type=count, metavar="N", help="with --once or --json and --interval: stop after N")
    p.add_argument("--sort", metavar="COLUMN",
                   help="sort by a column as the table names it (PSS, USS, RSS, ΔRSS/s or drss/s, GROW/m, COMMAND, ...) "
                   "or a process field of the JSON (default PSS; sizes largest first)")
    p.add_argument("--reverse", action="store_true", help="reverse the sort order")
    p.add_argument("--limit", type=count, metavar="N", help="show at most N processes")
    p.add_argument("--filter", metavar="TEXT", help="only processes whose name, command line or user contains TEXT (digits: also the pid)")
    p.add_argument("--pid", type=pid, action="append", metavar="PID", help="only this process (repeatable)")
    p.add_argument("--kernel-threads", action="store_true", help="include kernel threads")
    p.add_argument("--bytes", action="store_true", help="exact byte counts instead of KiB/MiB/GiB")
    p.add_argument("--root", metavar="DIR", help="read DIR/proc and DIR/sys (a capture) instead of the live ones")
    p.add_argument("--wss", type=pid, metavar="PID", help="measure this process's working set first (resets its page reference bits; waits --wss-window seconds); --json then reports it")
    p.add_argument("--wss-window", type=window, default=5.0, metavar="SECONDS", help="the working-set window (default 5)")
    p.add_argument("--openmetrics", action="store_true",
                   help="print memtop serve's metrics once as OpenMetrics text (for node_exporter's textfile collector); implies --once")
    p.add_argument("--textfile", metavar="PATH",
                   help="write memtop serve's metrics once to PATH in the text format of node_exporter's textfile "
                   "collector (PATH ending in .prom, replaced whole); implies --once")
    p.add_argument("--processes", metavar="MODE",
                   help="with --openmetrics or --textfile: per-process series, program[:N] (default), user[:N], top:N or none (see memtop serve --help)")
    p.add_argument("--maps", type=pid, metavar="PID", help="one process's mappings grouped by kind and path (like pmap -X, with PSS and USS); with --json: memtop.maps/1")
    p.add_argument("--json-schema", nargs="?", const="snapshot", choices=("snapshot", "maps"), metavar="snapshot|maps",
                   help="print the JSON Schema of --json (memtop.snapshot/1) or of --maps --json (memtop.maps/1) and exit")
    p.add_argument("--no-config", action="store_true", help="neither read nor write the dashboard's config file")
    p.add_argument("--config", metavar="FILE", help="the dashboard's config file (default: config.toml in the user's config directory)")
    replay.add_arguments(p)


def run(args: argparse.Namespace) -> int:
    """The dashboard, or the report the options ask for."""
    if args.json_schema is not None:
        from memtop.output.schemas import schema_text

        print(schema_text(args.json_schema), end="")
        return 0
    if args.count is not None and (args.interval is None or not (args.json or args.once)):
        raise UsageError("--count goes with --interval and --once or --json")
    if args.no_config and args.config is not None:
        raise UsageError("--config and --no-config: choose one")
    exporting = args.openmetrics or args.textfile is not None
    if args.processes is not None and not exporting:
        raise UsageError("--processes goes with --openmetrics or --textfile (or memtop serve)")
    if args.replay is not None or args.at is not None:
        return replay.run_replay(args, settings_store)
    if exporting:
        from memtop.cli.metrics_once import run_metrics_once

        return run_metrics_once(args)
    if args.maps is not None:
        return run_maps(args)
    if args.once or args.json or args.wss is not None:
        return run_once(args)
    if not sys.stdout.isatty():
        print(HINT, file=sys.stderr)
        return 2
    return run_live(args)


def run_once(args: argparse.Namespace) -> int:
    sort = check_sort_field(args.sort or "pss")
    pids = tuple(args.pid) if args.pid else None
    collector = Collector(host_paths(args.root), Options(args.kernel_threads, pids))
    # --json --interval: NDJSON; --once --interval: a table every interval (top -b).
    streaming = args.interval is not None
    trend = RssTrend()
    before = None
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
    if sort == "rate" and not streaming and args.root is None:
        # ΔRSS/s is a change: one read cannot give it. Read, wait a second, read again (as top -b -n 1 does for CPU).
        print("memtop: ΔRSS/s needs two reads: reading again in 1 s", file=sys.stderr)
        before = collector.collect(cgroups=False, container=False)
        time.sleep(1.0)
    count = 0
    while True:
        snap = collector.collect(cgroups=args.json, container=args.json)  # only the JSON has them
        if pids:
            missing = sorted(set(pids) - {p.pid for p in snap.processes})
            if missing and count == 0:
                raise UsageError(f"no such process: {', '.join(map(str, missing))}")
        if sort == "growth":  # only GROW/m needs the trend: 300 samples per process otherwise held for nothing
            trend.add(snap)
        derived = {"rate": rss_rates(before, snap), "growth": trend.slopes(), "heap_gap": heap_gaps(snap)}
        before = snap
        rows = select(snap.processes, sort=sort, reverse=args.reverse, text=args.filter,
                      pids=pids, limit=args.limit, derived=derived)
        if args.json:
            sets.reload()  # another memtop may have measured one meanwhile
            done = model.ingest(snap)
            kept = sets.current(p.key for p in snap.processes)
            print(json.dumps(snapshot_json(snap, rows, done.verdicts, done.diagnoses, kept),
                             separators=(",", ":") if streaming else (", ", ": ")), flush=True)
        else:
            width = os.get_terminal_size(sys.stdout.fileno()).columns if sys.stdout.isatty() else None
            if count:
                print()  # one blank line between the tables of the repeating mode, as top -b
            extra = (BY_KEY[sort].label, derived[sort]) if sort in derived else None
            # Why the sorted column is empty: among the table's notes, above it (`| head` keeps it).
            empty = ([f"no process has {BY_KEY[sort].label} yet ({_WHY_EMPTY[sort]}); sorted by pid"]
                     if sort in _WHY_EMPTY and not derived[sort] else [])
            print(table(snap, rows, exact=args.bytes, width=width, extra=extra, notes=empty), flush=True)
        count += 1
        if not streaming or (args.count is not None and count >= args.count):
            return 0
        time.sleep(args.interval)


_WHY_EMPTY = {
    "rate": "it needs two reads: use --interval",
    "growth": "it needs 60 s of history: use --interval",
    "heap_gap": "no process has a heap source: memtop run, memtop.probe",
}


def run_maps(args: argparse.Namespace) -> int:
    from memtop.output.maps_report import MapsError, maps_json, maps_table, read_maps

    try:
        maps = read_maps(args.maps, host_paths(args.root))
    except MapsError as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(maps_json(maps)) if args.json else maps_table(maps, exact=args.bytes))
    return 0


def settings_store(args: argparse.Namespace) -> SettingsStore:
    """The config file (unless --no-config) under the flags given for this run; problems on stderr, one line each."""
    flags: dict[str, object] = {}
    if args.sort is not None:
        flags["sort"] = check_sort_field(args.sort)
        flags["reverse"] = bool(args.reverse)
    elif args.reverse:
        flags["reverse"] = True
    if args.interval is not None:
        flags["interval"] = args.interval  # its type keeps it in the config's bounds
    if args.kernel_threads:
        flags["kernel_threads"] = True
    path = None if args.no_config else (Path(args.config) if args.config else default_path())
    store, problems = SettingsStore.open(path, flags)
    for line in problems:
        print(f"memtop: {line}", file=sys.stderr)
    return store


def run_live(args: argparse.Namespace) -> int:
    """The dashboard; textual is imported only here."""
    store = settings_store(args)
    collector = Collector(host_paths(args.root), Options(store.current.kernel_threads))
    from memtop.tui.app import run_dashboard

    options = start_options(store.current, text=args.filter or "", pid=args.pid[0] if args.pid else None,
                            frozen=args.root is not None)
    return run_dashboard(collector, options, settings=store)
