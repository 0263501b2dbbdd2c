"""The dashboard over a recording (memtop --replay): the main screen, a time cursor, and keys that move in time.

Keys: , and . one sample back and forward; { and } a minute; ( and ) an
hour; b goes to a typed time (atop's b); n and N the next and previous
diagnosis that appeared; o the next OOM kill, O the list of kills. What
was not recorded (a process's mappings, working sets) says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from memtop.widgets.status_header import StatusHeader

from memtop.history.oom_journal import kill_lines
from memtop.history.replay import Replay
from memtop.history.schema import StoreError
from memtop.history.timespec import SpecError, describe_time
from memtop.state.maps_source import MapsSource
from memtop.state.model import Ingested
from memtop.tui.messages import ModelUpdate
from memtop.tui.screens.kills import KillsScreen
from memtop.tui.screens.main import HELP_AND_QUIT, MainScreen

NOT_RECORDED = "not recorded: memtop record keeps each process's totals, not its mappings or working set"

REPLAY_ACTIONS = frozenset({"step", "jump", "goto", "next_event", "kills"})


class GotoScreen(ModalScreen[str | None]):
    """atop's b: a time typed by the user (Enter goes, Esc cancels)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, start: float, end: float) -> None:
        super().__init__()
        self.span = f"{describe_time(start)} .. {describe_time(end)}"

    def compose(self) -> ComposeResult:
        with Vertical(id="signal-box"):
            yield Static(f"Go to a time in {self.span}:\nHH:MM[:SS] of the last day, 2026-12-04T13:05, Unix seconds, "
                         "or -90s/-5m/-2h from the end", markup=False)
            yield Input(placeholder="time", id="goto")

    def on_mount(self) -> None:
        self.query_one("#goto", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def replay_maps() -> MapsSource:
    """The process screen's source in a replay: every read says the mappings were not recorded."""
    from memtop.collectors.models import ProcessMaps

    return MapsSource(lambda pid, start: ProcessMaps(pid, start, None, (), None, NOT_RECORDED, False, 0.0), live=False)


#: The keys that move in time (their own in the replay; O replaces the dashboard's).
REPLAY_BINDINGS = [
    Binding("comma", "step(-1)", "◀ sample", tooltip="One sample back"),
    Binding("full_stop", "step(1)", "sample ▶", tooltip="One sample forward"),
    Binding("left_curly_bracket", "jump(-60)", "-1 min", show=False, tooltip="One minute back"),
    Binding("right_curly_bracket", "jump(60)", "+1 min", show=False, tooltip="One minute forward"),
    Binding("left_parenthesis", "jump(-3600)", "-1 h", show=False, tooltip="One hour back"),
    Binding("right_parenthesis", "jump(3600)", "+1 h", show=False, tooltip="One hour forward"),
    Binding("b", "goto", "Go to", tooltip="Go to a time typed (atop: b)"),
    Binding("n", "next_event('diagnosis', True)", "Next finding", show=False, tooltip="The next diagnosis that appeared"),
    Binding("shift+n", "next_event('diagnosis', False)", "Previous finding", show=False,
            tooltip="The previous diagnosis that appeared"),
    Binding("o", "next_event('oom', True)", "Next OOM kill", show=False, tooltip="The next OOM kill"),
    Binding("O", "kills", "OOM kills", show=False, tooltip="The OOM kills of the recording, with their victims' last PSS/USS"),
]


def _replaced(binding: Binding) -> bool:
    """One of the dashboard's bindings that Help and Quit or a replay key takes the place of."""
    keys = {key for ours in REPLAY_BINDINGS for key in ours.key.split(",")}
    return binding in HELP_AND_QUIT or bool(keys & set(binding.key.split(",")))


# Ignored for mypy, which finds object's __init_subclass__ through MainScreen's mixins, not Textual's.
class ReplayScreen(MainScreen, inherit_bindings=False):  # type: ignore[call-arg]
    """The main screen at a recorded moment."""

    LETTER_ACTIONS = MainScreen.LETTER_ACTIONS | REPLAY_ACTIONS
    # Not inherited but listed whole: Textual puts a subclass's keys after its base's, so the footer
    # (the first that fit whole) never reached the keys that move in time at 80 columns, and help,
    # built from this list, did not name the dashboard's keys.
    BINDINGS = [*HELP_AND_QUIT, *REPLAY_BINDINGS,
                *(b for b in MainScreen.BINDINGS if isinstance(b, Binding) and not _replaced(b))]

    def __init__(self, replay: Replay, maps: Callable[[], MapsSource]) -> None:
        super().__init__(replay.model, maps)
        self.replay = replay

    def _update_header(self) -> None:
        super()._update_header()
        header = self.query_one(StatusHeader)
        header.info = replace(header.info, replay=self.replay.cursor(), own_cpu=None, own_rss=None)

    def _show(self, done: Ingested) -> None:
        self.app.update = ModelUpdate(done)  # type: ignore[attr-defined]

    def _move(self, move: Callable[[], Ingested]) -> None:
        try:
            self._show(move())
        except StoreError as exc:  # a damaged stretch of the file: said, the moment shown stays
            self.notify(str(exc), severity="error", timeout=10)

    def action_step(self, samples: int) -> None:
        self._move(lambda: self.replay.step(samples))

    def action_jump(self, seconds: float) -> None:
        self._move(lambda: self.replay.jump(seconds))

    def action_goto(self) -> None:
        def chosen(text: str | None) -> None:
            if not text:
                return
            try:
                self._move(lambda: self.replay.goto_text(text))
            except SpecError as exc:
                self.notify(str(exc), severity="warning", timeout=8)

        history = self.replay.history
        self.app.push_screen(GotoScreen(history.start, history.end), chosen)

    def action_next_event(self, kind: str, forward: bool) -> None:
        try:
            found = self.replay.next_event(kind, forward)
        except StoreError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        if found is None:
            what = "diagnosis appeared" if kind == "diagnosis" else "OOM kill"
            self.notify(f"no {what} {'after' if forward else 'before'} this moment", timeout=4)
            return
        self._show(self.replay.model.last)  # type: ignore[arg-type]
        self.notify(found.data.get("text") or found.data.get("name") or kind, timeout=6)

    def action_kills(self) -> None:
        entries = [e.data for e in self.replay.history.events("oom")]
        self.app.push_screen(KillsScreen(kill_lines(entries, describe_time), "recorded by memtop record"))

    def action_working_set(self) -> None:
        self.notify(f"working set: {NOT_RECORDED}", severity="warning", timeout=6)

    def action_speed(self, step: int) -> None:
        self.notify("a replay does not refresh: , and . step a sample, { } a minute, ( ) an hour, b a time", timeout=6)

    def action_pause(self) -> None:
        self.notify("a replay is frozen at its moment: , and . step a sample", timeout=4)
