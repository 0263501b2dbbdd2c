"""F9: htop's signal list, for the selected process or every tagged one, with what killing would free.

SIGTERM is highlighted first (the polite one); the list is the confirmation:
nothing is sent until Enter (or a click) on a signal, Esc cancels. What
killing frees is the sum of the targets' USS (private memory); shared pages
are freed only with their last user, so that is a floor, said as such. The
signal goes through ``memtop.instrument.signals``, which never hits a process
that took a target's pid after the table showed it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from memtop.collectors.models import ProcessMemory
from memtop.collectors.paths import HostPaths
from memtop.instrument.signals import DEFAULT, SIGNALS, Sent, send
from memtop.views.format import escape, human

#: What the common ones do, beside their names.
MEANING = {
    "SIGHUP": "hang up; many daemons reload", "SIGINT": "interrupt (Ctrl-C)", "SIGQUIT": "quit with a core dump",
    "SIGKILL": "kill at once; cannot be caught", "SIGUSR1": "user-defined", "SIGUSR2": "user-defined",
    "SIGTERM": "ask to terminate (default)", "SIGCONT": "continue if stopped", "SIGSTOP": "stop; cannot be caught",
    "SIGTSTP": "stop from the terminal (Ctrl-Z)", "SIGABRT": "abort with a core dump", "SIGSEGV": "as on a bad access",
}


def frees(targets: Sequence[ProcessMemory]) -> str:
    """What killing them would free at least: their USS summed (n/a parts said)."""
    known = [p.uss for p in targets if p.uss is not None]
    unknown = len(targets) - len(known)
    text = f"about {human(sum(known))} (USS: their private memory; shared pages go with their last user)"
    if unknown:
        text += f"; USS unknown for {unknown} (needs root)"
    return text


class SignalListScreen(ModalScreen[list[Sent] | None]):
    """Choose a signal; Enter sends it to every target."""

    BINDINGS = [Binding("escape,f9", "cancel", "Cancel")]

    def __init__(self, targets: Sequence[ProcessMemory], paths: HostPaths) -> None:
        super().__init__()
        self.targets = tuple(targets)
        self.paths = paths

    def compose(self) -> ComposeResult:
        first = self.targets[0]
        if len(self.targets) == 1:
            who = f"{escape(first.name)} (pid {first.pid}, user {first.user})\n{escape(' '.join(first.cmdline))[:200]}"
        else:
            names = ", ".join(f"{escape(p.name)} ({p.pid})" for p in self.targets[:6])
            more = f" and {len(self.targets) - 6} more" if len(self.targets) > 6 else ""
            who = f"{len(self.targets)} tagged processes: {names}{more}"
        text = Text.assemble(("Send a signal to ", "bold"), who, "\n\nKilling would free ", frees(self.targets), ".")
        options = [Option(f"{number:>2} {name:<10} {MEANING.get(name, '')}", id=name) for number, name in SIGNALS]
        with Vertical(id="signal-box"):
            yield Static(text, id="signal-text")
            yield OptionList(*options, id="signals")
            yield Static("Enter sends, Esc cancels", id="signal-hint")

    def on_mount(self) -> None:
        signals = self.query_one(OptionList)
        signals.highlighted = next(i for i, (number, _) in enumerate(SIGNALS) if number == DEFAULT)
        signals.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        number = next(n for n, name in SIGNALS if name == event.option.id)
        results = [send(self.paths, p.pid, p.starttime, p.name, number) for p in self.targets]
        failed = [r for r in results if r.error]
        sent = len(results) - len(failed)
        if sent:
            self.app.notify(f"sent {event.option.id} to {sent} process{'' if sent == 1 else 'es'}")
        for r in failed[:3]:
            self.app.notify(f"{escape(r.name)}: {r.error}", severity="warning", timeout=10)
        if len(failed) > 3:
            self.app.notify(f"and {len(failed) - 3} more not sent (exited or not permitted)", severity="warning",
                            timeout=10)
        self.dismiss(results)

    def action_cancel(self) -> None:
        self.dismiss(None)
