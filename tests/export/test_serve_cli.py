"""memtop serve's command line: refusals before it serves, one line each, exit 2."""

from __future__ import annotations

import pytest

from memtop.cli import main
from memtop.export.families import Frame
from memtop.export.passes import Passes

from tests.dashboard_fixtures import made


@pytest.mark.parametrize(("argv", "says"), [
    (["--listen", "localhost"], "expected ADDR:PORT"),
    (["--listen", "127.0.0.1:0", "--processes", "top"], "top needs a number"),
    (["--listen", "127.0.0.1:0", "--processes", "pids"], "one of top:N"),
    (["--listen", "127.0.0.1:0", "--interval", "0.5"], "at least 1 second "),
    (["--listen", "127.0.0.1:0", "--interval", "nan"], "must be a number of seconds"),
])
def test_bad_options_one_line_exit_2(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        status = main(["serve", *argv])
    except SystemExit as exc:  # argparse's own check (a number out of its range): one line
        status = int(exc.code or 0)
    assert status == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    if not err.startswith("usage:"):
        assert err.count("\n") == 1


def test_a_non_root_run_that_cannot_read_others_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    # init (pid 1) in the hand-made host is another user's: its smaps_rollup was refused.
    monkeypatch.setattr(Passes, "step", lambda self: Frame(made()))
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert main(["serve", "--listen", "127.0.0.1:0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("memtop: serve: not root") and "--unprivileged" in err and err.count("\n") == 1
