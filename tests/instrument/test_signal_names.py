"""F9's list of signals: htop's, by Linux number, on every Python the README names."""

from __future__ import annotations

from memtop.instrument.signals import DEFAULT, SIGNALS


def test_the_list_is_linux_numbering_with_a_name_each() -> None:
    # Python 3.10's signal.Signals has no 16: building the list by Signals(n) raised at import.
    assert [n for n, _ in SIGNALS] == list(range(1, 32))
    names = dict(SIGNALS)
    assert names[16] == "SIGSTKFLT" and names[6] == "SIGABRT" and names[29] == "SIGIO"  # no aliases
    assert names[DEFAULT] == "SIGTERM" and len(set(names.values())) == 31
