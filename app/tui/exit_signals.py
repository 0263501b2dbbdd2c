"""Leaving on a signal as on `q`: the terminal restored (issue 13 item 8).

Python's default for SIGTERM and SIGHUP ends the process at once, with the
terminal still in the alternate screen, mouse tracking on and the cursor
hidden. Handlers on the event loop turn each of these signals into
``App.exit``, so Textual's driver undoes what it set up, as after `q`.
The exit status is 128 + the signal's number, as a shell reports a process
that a signal ended; `memtop run` then ends its program (cli/run.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.app import App

from memtop.instrument.run import END_SIGNALS


def exit_on_signals(app: App[int], received: Callable[[int], None]) -> Callable[[], None]:
    """Install the handlers on the running loop (main thread only); returns what removes them."""
    loop = asyncio.get_running_loop()

    def on_signal(sig: int) -> None:
        received(sig)
        app.exit(128 + sig)

    for sig in END_SIGNALS:
        loop.add_signal_handler(sig, on_signal, int(sig))

    def remove() -> None:
        for sig in END_SIGNALS:
            loop.remove_signal_handler(sig)

    return remove
