"""memtop without a command is parsed without importing the subcommands (issue 17, goal 5).

``memtop --json`` is a one-shot process whose start-up is part of its cost, so
``memtop.cli.parse`` tries a parser of memtop's own options first and builds the
whole one (every command) only when the line may need it. These tests hold that
the two read every line alike: same namespace, or the same exit and message.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memtop.cli import build_parser, parse


def _outcome(read: object, argv: list[str]) -> tuple[str, object, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            args = read(argv)  # type: ignore[operator]
        except SystemExit as exc:
            return "exit", exc.code, out.getvalue(), err.getvalue()
    assert isinstance(args, argparse.Namespace)
    # handler functions compare by identity: the same function either way
    return "args", sorted(vars(args).items(), key=lambda kv: kv[0]), "", ""


LINES = [
    [], ["--json"], ["--once", "--sort", "rss", "--limit", "5"], ["--json", "--pid", "1", "--pid", "2"],
    ["--filter", "record"], ["--filter", "serve", "--json"],  # a command's name as an option's value
    ["record"], ["record", "--help"], ["serve", "--port", "0"], ["history", "--replay", "x.db", "--pid", "1"],
    ["-h"], ["--help"], ["--he"], ["--h"], ["--version"],  # help and its abbreviations
    ["bogus"], ["--json", "bogus"], ["--interval", "soon"], ["--interval", "0"], ["--limit"],
    ["--json", "--", "x"], ["--"], ["--js"], ["--maps", "1", "--json"], ["--replay", "x.db", "--at=-5m"],
    ["--sort", "pss", "--reverse"], ["--no-such-flag"], ["-x"],
]


@pytest.mark.parametrize("argv", LINES, ids=lambda a: " ".join(a) or "(none)")
def test_the_plain_parser_reads_a_line_as_the_whole_one_does(argv: list[str]) -> None:
    assert _outcome(parse, list(argv)) == _outcome(build_parser().parse_args, list(argv))


WORDS = st.sampled_from([
    "--json", "--once", "--sort", "rss", "pss", "--filter", "record", "serve", "run", "capture", "history",
    "--limit", "3", "-1", "--interval", "2", "--pid", "7", "--help", "-h", "--he", "--", "x", "--root", "/tmp",
    "--replay", "--at", "--ver", "--maps", "--count", "--bytes", "--reverse",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(WORDS, max_size=6))
def test_any_line_of_these_words_reads_alike(argv: list[str]) -> None:
    assert _outcome(parse, list(argv)) == _outcome(build_parser().parse_args, list(argv))


def test_memtop_json_imports_no_command_module() -> None:
    """The modules only commands use stay out of ``memtop --json`` (each was measured in its start-up)."""
    code = ("import sys\nfrom memtop.cli import parse\nparse(['--json', '--sort', 'rss'])\n"
            "print(sorted(m for m in sys.modules if m.startswith(('memtop.cli.record', 'memtop.cli.serve', "
            "'memtop.cli.capture', 'memtop.cli.run', 'memtop.history', 'memtop.export', 'memtop.instrument.preload', "
            "'memtop.instrument.attach', 'sqlite3', 'tomllib', 'tempfile', 'subprocess'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_command_still_gets_its_own_parser() -> None:
    args = parse(["record", "--interval", "5"])
    assert args.subcommand == "record" and args.interval == 5.0


@pytest.mark.parametrize(("argv", "flag", "command"), [
    (["--interval", "5", "record"], "--interval", "record"),  # recorded every 10 s, silently
    (["--root", "/srv/tree", "capture", "out"], "--root", "capture"),  # captured the live host instead
    (["--json", "record"], "--json", "record"),
    (["--pid", "1", "history", "--replay", "h.sqlite", "--pid", "2"], "--pid", "history"),
])
def test_memtops_own_options_before_a_command_are_refused_not_dropped(
        argv: list[str], flag: str, command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"memtop: {flag} before the command {command}:") and f"memtop {command} --help" in err


def test_a_commands_own_options_after_it_still_work() -> None:
    args = parse(["capture", "out", "--root", "/srv/tree"])
    assert (args.subcommand, args.root, args.dir) == ("capture", "/srv/tree", "out")
