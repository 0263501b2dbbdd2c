"""``memtop record``: the recorder (issue 15): a pass every interval into an SQLite file, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from memtop.cli.common import UsageError, count, host_paths, interval
from memtop.collectors.models import Snapshot
from memtop.collectors.processes import DENIED
from memtop.collectors.snapshot import Collector, Options
from memtop.history.location import check_record_path, default_path
from memtop.history.schema import StoreError
from memtop.history.timespec import SpecError, describe_duration, parse_duration, parse_size
from memtop.views.format import human

DEFAULT_INTERVAL = 10.0
DEFAULT_RETAIN = "7d"
DEFAULT_MAX_SIZE = "1G"


def duration(text: str) -> float:
    try:
        return parse_duration(text)
    except SpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def size(text: str) -> int:
    try:
        return parse_size(text)
    except SpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _say_unreadable(snap: Snapshot, say: Callable[[str], None]) -> None:
    """Without root, other users' PSS, USS and swap are not recorded: say how many once (serve refuses; a
    recorder of what this user can read is still useful, e.g. one's own processes)."""
    refused = sum(1 for p in snap.processes if p.error is not None and DENIED in p.error)
    if refused:
        say(f"PSS, USS and swap of {refused} of {len(snap.processes)} processes are not readable here (other users' "
            "smaps_rollup needs root or CAP_SYS_PTRACE): they are recorded without them")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "record", help="record memory to a history file, for memtop --replay",
        description="Record, every --interval seconds, what the dashboard shows (the meminfo taxonomy, THP, "
        "compaction and OOM counters, PSI, every process's RSS/PSS/USS/swap with the dashboard's cost-aware PSS "
        "rule, cgroups, heap figures, diagnoses) and the kernel's OOM kills into one SQLite file. Only changes "
        "are stored. Runs in the foreground until SIGTERM or Ctrl-C; replay with memtop --replay FILE.",
    )
    p.add_argument("--db", metavar="PATH",
                   help="the history file (default: history.sqlite in $XDG_STATE_HOME/memtop, as root /var/lib/memtop)")
    p.add_argument("--interval", type=interval, default=DEFAULT_INTERVAL, metavar="SECONDS",
                   help=f"seconds between samples (default {DEFAULT_INTERVAL:g}, at least 1)")
    p.add_argument("--retain", type=duration, default=duration(DEFAULT_RETAIN), metavar="DURATION",
                   help=f"keep this long (90m, 12h, 7d; default {DEFAULT_RETAIN}); older samples are deleted while recording")
    p.add_argument("--max-size", type=size, default=size(DEFAULT_MAX_SIZE), metavar="SIZE",
                   help=f"keep the file under SIZE (500M, 2G; default {DEFAULT_MAX_SIZE}) by deleting the oldest samples")
    p.add_argument("--root", metavar="DIR", help=argparse.SUPPRESS)  # tests: record a captured tree
    p.add_argument("--count", type=count, metavar="N", help=argparse.SUPPRESS)  # tests, bench: stop after N samples
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from memtop.history.oom_journal import OomJournal
    from memtop.history.recorder import Recorder
    from memtop.state.monitor import Monitor
    from memtop.state.options import StartOptions

    if args.interval < 1:
        raise UsageError("record: --interval must be at least 1 second (see memtop record --help)")
    try:
        path = check_record_path(Path(args.db)) if args.db else default_path()
        recorder = Recorder(path, retain=args.retain, max_size=args.max_size)
    except StoreError as exc:
        raise UsageError(f"record: {exc}") from None
    frozen = args.root is not None
    monitor = Monitor.build(Collector(host_paths(args.root), Options()), StartOptions(interval=args.interval, frozen=frozen),
                            own_stats=False)
    journal = OomJournal(live=not frozen)
    stop = threading.Event()

    def stopped(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, stopped) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    say = lambda line: print(f"memtop record: {line}", file=sys.stderr, flush=True)  # noqa: E731
    say(f"recording to {path} every {args.interval:g} s (kept {describe_duration(args.retain)}, at most "
        f"{human(args.max_size)}); "
        f"stop with Ctrl-C or SIGTERM; {journal.source}")
    failing: str | None = None
    status = 0
    try:
        while not stop.is_set():
            started = monitor.clock()
            try:
                done = monitor.step()
            except Exception as exc:  # noqa: BLE001 - a failed pass is said and retried
                say(f"a pass failed ({type(exc).__name__}: {exc}); retrying")
                stop.wait(monitor.interval)
                continue
            if monitor.passes == 1 and not frozen:
                _say_unreadable(done.snapshot, say)
            try:
                recorder.add(done.snapshot, done.diagnoses)
                for kill in journal.poll(done.snapshot, recorder):
                    say(f"OOM kill: {kill}")
                if failing is not None:
                    say("recording again")
                    failing = None
            except StoreError as exc:
                text = str(exc)
                if "disk is full" not in text:
                    say(f"{text}; stopped (what was recorded stays readable)")
                    status = 1
                    break
                if failing != text:
                    say(f"{text}; this sample is lost, retrying each interval (what was recorded stays readable)")
                    failing = text
            if recorder.too_small:
                say(recorder.too_small)
                recorder.too_small = None
            if frozen or (args.count is not None and recorder.samples >= args.count):
                break
            stop.wait(monitor.pause_after(started))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        journal.close()
        recorder.close()
    if status == 0:
        say(f"stopped after {recorder.samples} sample{'' if recorder.samples == 1 else 's'}")
    return status
