"""``memtop --replay DB [--at TIME]``: the dashboard (or ``--json``) at a recorded moment; ``memtop history``: one series."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from memtop.cli.common import UsageError, pid

# The history modules (sqlite3, datetime) are imported by the functions that open a
# recording: memtop without a command imports this module for its --replay flags, and
# `memtop --json` should not pay for them (issue 17, goal 5).
if TYPE_CHECKING:
    from memtop.history.replay import Replay
    from memtop.state.options import StartOptions
    from memtop.state.settings import SettingsStore


def add_arguments(p: argparse.ArgumentParser) -> None:
    """--replay and --at, on memtop without a command."""
    p.add_argument("--replay", metavar="DB", help="open a recording (memtop record) instead of the live host: the dashboard "
                   "over recorded time, or with --json or --once the report of one moment")
    p.add_argument("--at", metavar="TIME", help="with --replay: the moment shown: ISO 8601 (local time unless it says), "
                   "HH:MM[:SS] of the recording's last day, Unix seconds, or -90s/-5m/-2h from its end (default: the end)")


def open_replay(args: argparse.Namespace, options: StartOptions | None = None) -> Replay:
    """The recording of --replay, at --at (default: its end)."""
    from memtop.history.replay import Replay
    from memtop.history.schema import StoreError
    from memtop.history.timespec import SpecError, parse_time
    from memtop.state.options import StartOptions

    try:
        replay = Replay.open(Path(args.replay), options if options is not None else StartOptions())
        history = replay.history
        if args.at is None:
            replay.goto(len(history) - 1)
        else:
            replay.goto_time(parse_time(args.at, history.start, history.end))
    except (StoreError, SpecError) as exc:
        raise UsageError(f"--replay: {exc}") from None
    return replay


def run_replay(args: argparse.Namespace, settings: Callable[[argparse.Namespace], SettingsStore]) -> int:
    """--replay: the JSON of a moment, or the dashboard frozen at it; ``settings``: the dashboard's config file."""
    if args.at is not None and args.replay is None:
        raise UsageError("--at goes with --replay")
    if args.root is not None or args.interval is not None or args.maps is not None or args.wss is not None:
        raise UsageError("--replay shows a recording: not with --root, --interval, --maps or --wss")
    if args.json or args.once:
        return _report(args)
    if not sys.stdout.isatty():
        print("memtop: stdout is not a terminal; use `memtop --once --replay DB --at TIME` (a table) or --json for a "
              "recorded moment", file=sys.stderr)
        return 2
    from memtop.state.settings import start_options

    store = settings(args)
    options = start_options(store.current, text=args.filter or "", pid=args.pid[0] if args.pid else None, frozen=True)
    replay = open_replay(args, options)
    from memtop.tui.replay_app import run_replay_dashboard

    return run_replay_dashboard(replay, settings=store)


def _report(args: argparse.Namespace) -> int:
    """One recorded moment as ``--json`` or ``--once`` print it live (the moment's time above the table)."""
    import os

    from memtop.output.report import snapshot_json, table
    from memtop.tables.select import check_sort_field, select

    replay = open_replay(args)
    done = replay.model.last
    assert done is not None
    snap = done.snapshot
    pids = tuple(args.pid) if args.pid else None
    rows = select(snap.processes, sort=check_sort_field(args.sort or "pss"), reverse=args.reverse, text=args.filter,
                  pids=pids, limit=args.limit)
    if args.json:
        print(json.dumps(snapshot_json(snap, rows, done.verdicts, done.diagnoses), indent=None, separators=(", ", ": ")))
        return 0
    from memtop.history.timespec import describe_time

    width = os.get_terminal_size(sys.stdout.fileno()).columns if sys.stdout.isatty() else None
    print(f"recorded {describe_time(snap.time)} ({args.replay})")
    print(table(snap, rows, exact=args.bytes, width=width))
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "history", help="print one recorded series (time, RSS, PSS, USS, swap, heap) for plotting or alerting",
        description="Print one series from a recording (memtop record): for each sample, the sum over the matching "
        "processes of RSS, PSS, USS, swap and heap in use.",
    )
    p.add_argument("--replay", required=True, metavar="DB", help="the recording")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--pid", type=pid, metavar="PID", help="the process with this pid (each process that had it)")
    which.add_argument("--name", metavar="TEXT", help="processes whose name or command line contains TEXT")
    which.add_argument("--cgroup", metavar="PATH", help="processes in the cgroup PATH or below it")
    p.add_argument("--from", dest="since", metavar="TIME", help="from this moment (the --at forms; default: the start)")
    p.add_argument("--to", dest="until", metavar="TIME", help="to this moment (default: the end)")
    p.add_argument("--json", action="store_true", help="one JSON object (memtop.history/1) instead of a table")
    p.add_argument("--bytes", action="store_true", help="exact byte counts instead of KiB/MiB/GiB")
    p.set_defaults(handler=run_history)


def run_history(args: argparse.Namespace) -> int:
    from memtop.history.schema import StoreError
    from memtop.history.series import Match, series
    from memtop.history.store import History
    from memtop.history.timespec import SpecError, describe_time, parse_time
    from memtop.views.format import human

    try:
        history = History(Path(args.replay))
        start = parse_time(args.since, history.start, history.end) if args.since else history.start
        end = parse_time(args.until, history.start, history.end) if args.until else history.end
    except (StoreError, SpecError) as exc:
        raise UsageError(f"history: {exc}") from None
    match = Match(pid=args.pid, name=args.name, cgroup=args.cgroup)
    try:
        points = series(history, match, start, end)
    except StoreError as exc:
        raise UsageError(f"history: {exc}") from None
    if args.json:
        print(json.dumps({"schema": "memtop.history/1", "match": match.describe(), "points": [p.json() for p in points]}))
        return 0
    size = (lambda v: "-" if v is None else str(v)) if args.bytes else human
    print(f"{'TIME':19}  {'PROCS':>5}  {'RSS':>9}  {'PSS':>9}  {'USS':>9}  {'SWAP':>9}  {'HEAP':>9}")
    for pt in points:
        print(f"{describe_time(pt.time):19}  {pt.processes:>5}  {size(pt.rss):>9}  {size(pt.pss):>9}  {size(pt.uss):>9}  "
              f"{size(pt.swap):>9}  {size(pt.heap):>9}")
    if not points:
        print(f"memtop: no recorded process matches {match.describe()}", file=sys.stderr)
        return 1
    return 0


#: Flags whose value may start with "-" (-90s: relative to the recording's end), which argparse would take for a flag.
TIME_FLAGS = frozenset({"--at", "--from", "--to"})


def join_time_values(argv: list[str]) -> list[str]:
    """``--at -5m`` as ``--at=-5m``, so that argparse reads the value."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in TIME_FLAGS and i + 1 < len(argv) and argv[i + 1].startswith("-"):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out
