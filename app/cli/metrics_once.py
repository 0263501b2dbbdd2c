"""``memtop --openmetrics`` and ``memtop --textfile PATH``: memtop serve's families once, without a daemon.

Options of memtop without a command (cli/view.py adds them); the exporter
(prometheus_client, memtop.export) loads only when one of them is given.
"""

from __future__ import annotations

import argparse
import sys

from memtop.cli.common import UsageError, host_paths
from memtop.collectors.snapshot import Collector, Options


def run_metrics_once(args: argparse.Namespace) -> int:
    """The exporter's families once: OpenMetrics on stdout, or a file for node_exporter's textfile directory."""
    from memtop.export.collector import openmetrics, write_textfile
    from memtop.export.passes import once
    from memtop.export.processes import ModeError, parse_mode

    clashing = [name for name, given in (("--json", args.json), ("--maps", args.maps is not None),
                                         ("--interval", args.interval is not None), ("--wss", args.wss is not None),
                                         ("--pid", bool(args.pid)), ("--filter", args.filter is not None)) if given]
    if args.openmetrics and args.textfile is not None:
        clashing.append("--textfile")
    if clashing:
        option = "--openmetrics" if args.openmetrics else "--textfile"
        raise UsageError(f"{option} gives every family once: not with {', '.join(clashing)}")
    if args.textfile is not None and not args.textfile.endswith(".prom"):
        raise UsageError(f"--textfile {args.textfile}: node_exporter's textfile collector reads only files ending in .prom")
    try:
        mode = parse_mode(args.processes or "program")
    except ModeError as exc:
        raise UsageError(str(exc)) from None
    frame = once(Collector(host_paths(args.root), Options(args.kernel_threads)), live=args.root is None)
    if args.textfile is None:
        sys.stdout.write(openmetrics(frame, mode))
        return 0
    try:
        write_textfile(frame, mode, args.textfile)
    except OSError as exc:
        raise UsageError(f"--textfile {args.textfile}: {exc.strerror or exc}") from None
    return 0
