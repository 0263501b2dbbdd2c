"""``memtop serve``: a Prometheus exporter of everything memtop knows (issue 16)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from memtop.cli.common import UsageError, host_paths, interval
from memtop.collectors.snapshot import Collector, Options
from memtop.export.listen import DEFAULT_LISTEN, DEFAULT_PORT, ListenError, bind, parse_listen
from memtop.export.processes import DEFAULT_GROUPS, ModeError, parse_mode

if TYPE_CHECKING:  # memtop's other commands do not load the exporter (prometheus_client, the model)
    from memtop.export.families import Frame

#: Seconds between collection passes; a scrape never waits for one.
DEFAULT_INTERVAL = 15.0
MIN_INTERVAL = 1.0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "serve", help="serve Prometheus metrics on /metrics (a Grafana dashboard included)",
        description="Serve memtop's figures to Prometheus on http://ADDR:PORT/metrics: the meminfo taxonomy, "
        "PSS and USS per program, THP and compaction counters, cgroups, heap gaps and diagnoses. Collection "
        "runs every --interval seconds with the dashboard's cost-aware PSS rule; a scrape answers from the "
        "last pass and never reads /proc itself.",
    )
    p.add_argument("--listen", default=DEFAULT_LISTEN, metavar="ADDR:PORT",
                   help=f"where to listen (default {DEFAULT_LISTEN}: this machine only; :{DEFAULT_PORT} for "
                   f"every IPv4 address, [::]:{DEFAULT_PORT} for IPv6 too; port 0 picks a free one)")
    p.add_argument("--interval", type=interval, default=DEFAULT_INTERVAL, metavar="SECONDS",
                   help=f"seconds between collection passes (default {DEFAULT_INTERVAL:g}, at least {MIN_INTERVAL:g}); "
                   "every process's PSS is re-read at least every 60 s whatever the interval")
    p.add_argument("--processes", default="program", metavar="MODE",
                   help=f"per-process series: program[:N] (default; the N={DEFAULT_GROUPS} largest programs by PSS), "
                   "user[:N], top:N (the N largest processes, with pid and name), or none; the rest is summed "
                   "into one series named other")
    p.add_argument("--unprivileged", action="store_true",
                   help="run without root although other users' PSS, USS and swap cannot be read "
                   "(they are left out of the sums; memtop_processes_pss_unreadable counts them)")
    p.add_argument("--root", metavar="DIR", help="serve a captured tree (memtop capture) instead of the live host")
    p.add_argument("--grafana-dashboard", action="store_true",
                   help="print the Grafana dashboard (JSON, importable) for these metrics and exit")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from memtop.export.collector import FrameCollector, registry
    from memtop.export.passes import Loop, Passes

    if args.grafana_dashboard:
        from memtop.export.grafana import dashboard_text

        print(dashboard_text())
        return 0
    try:
        listen = parse_listen(args.listen)
        mode = parse_mode(args.processes)
    except (ListenError, ModeError) as exc:
        raise UsageError(str(exc)) from None
    if args.interval < MIN_INTERVAL:
        raise UsageError(f"serve: --interval must be at least {MIN_INTERVAL:g} second{'' if MIN_INTERVAL == 1 else 's'} "
                         "(see memtop serve --help)")
    frozen = args.root is not None
    passes = Passes(Collector(host_paths(args.root), Options()), args.interval, frozen=frozen)
    collector = FrameCollector(mode)
    loop = Loop(passes, collector, frozen=frozen)
    with loop.stopping():  # from here a SIGTERM is a clean stop, even during the first pass
        try:
            server, bound = bind(listen, registry(collector))
        except ListenError as exc:
            raise UsageError(str(exc)) from None
        try:
            started = passes.monitor.clock()
            first = passes.step()
            _check_privilege(first, frozen, args.unprivileged)
            loop.publish(first)  # before the address is said: a scrape from then on has the figures
            print(f"memtop serve: http://{bound}/metrics ({mode} processes, a pass every {args.interval:g} s"
                  f"{', a captured tree' if frozen else ''})", file=sys.stderr, flush=True)
            loop.run(started)
        finally:
            server.shutdown()
            server.server_close()
    return 0


def _check_privilege(first: Frame, frozen: bool, unprivileged: bool) -> None:
    """Refuse a run that would export sums missing other users' processes, unless asked; say what is left out."""
    from memtop.export.passes import denied

    refused = 0 if frozen else denied(first.snapshot)
    if not refused:
        return
    total = len(first.snapshot.processes)
    some = f"{refused} of {total} process{'' if total == 1 else 'es'}'"
    if os.geteuid() != 0 and not unprivileged:
        raise UsageError(
            f"serve: not root, and the kernel refused {some} smaps_rollup (other users' need root or "
            "CAP_SYS_PTRACE): their PSS, USS and swap would be missing from every sum; run it as root, "
            "or add --unprivileged to export what this user can read")
    why = ("--unprivileged: other users' processes" if os.geteuid() != 0
           else "root, yet refused: not dumpable, or in another user namespace")
    print(f"memtop serve: PSS, USS and swap of {some} smaps_rollup left out ({why}); "
          "memtop_processes_pss_unreadable counts them", file=sys.stderr, flush=True)
