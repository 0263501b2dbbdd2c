"""Key H: sample the selected process's heap through gdb, after a confirmation.

The question says the process is paused (feasibility.md §A2: 15-54 ms of
stall with --readnever; more with a large heap). gdb runs in a worker
thread, never on the event loop; the result joins the chart as a marked
point and is reported in a notification, a refusal says why.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Static

from memtop.collectors.models import ProcessMemory
from memtop.views.format import escape, human

from memtop.instrument.attach import PAUSE_NOTE, AttachResult
from memtop.state.heap_sources import HeapSources
from memtop.tui.messages import HeapSampled


class HeapSampleScreen(ModalScreen[bool]):
    """Asks before pausing a process: Enter (Sample) goes, Esc cancels."""

    DEFAULT_CSS = "HeapSampleScreen { align: center middle; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, proc: ProcessMemory) -> None:
        super().__init__()
        self.proc = proc

    def compose(self) -> ComposeResult:
        p = self.proc
        with Vertical(id="signal-box"):
            yield Static(
                f"Sample the heap of {escape(p.name)} (pid {p.pid}, user {p.user}) through gdb?\n"
                f"{escape(' '.join(p.cmdline))[:200]}\n\n"
                f"gdb attaches once and calls glibc's mallinfo2 in a thread that waits in a safe syscall: "
                f"{PAUSE_NOTE}. Nothing is left running inside it.",
                id="heap-sample-text",
                markup=False,
            )
            with Horizontal(id="signal-buttons"):
                yield Button("Sample (pause it)", id="sample", variant="warning")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#sample", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "sample")

    def action_cancel(self) -> None:
        self.dismiss(False)


def ask_heap_sample(screen: Screen[Any], heap: HeapSources, proc: ProcessMemory | None, running: bool) -> None:
    """H on the main screen: confirm, then sample in a thread; the result goes to the app (HeapSampled)."""
    app = screen.app
    if proc is None or not running:
        app.notify("select a running process first", severity="warning")
        return
    if proc.pid in heap.attaching:
        app.notify(f"a heap sample of pid {proc.pid} is already being taken", severity="warning")
        return
    # What can be known without gdb is checked before asking: nothing is
    # attempted, and the user is not asked to pause a process for nothing.
    refused = heap.refusal(proc.pid)
    if refused is not None:
        heap.attach_notes[proc.pid] = refused
        app.notify(refused, severity="warning", timeout=8)
        return

    def chosen(go: bool | None) -> None:
        if go:
            _sample(app, heap, proc)

    app.push_screen(HeapSampleScreen(proc), chosen)


def _sample(app: App[Any], sources: HeapSources, proc: ProcessMemory) -> None:
    sources.attaching.add(proc.pid)
    app.notify(f"sampling the heap of {proc.name} ({proc.pid}) through gdb ...", timeout=3)

    def work() -> None:
        try:
            result = sources.sampler(proc.pid)
        except Exception as exc:  # noqa: BLE001 - shown, never a traceback
            result = AttachResult(proc.pid, f"heap sample failed: {type(exc).__name__}: {exc}")
        try:
            app.call_from_thread(_done, app, proc, result)
        except RuntimeError:
            pass  # memtop quit meanwhile; gdb ended on its own (never killed)

    app.run_worker(work, thread=True, group="heap-sample", name=f"heap sample {proc.pid}", exit_on_error=False)


def _done(app: App[Any], proc: ProcessMemory, result: AttachResult) -> None:
    if result.in_use is not None:
        app.notify(f"{proc.name} ({proc.pid}): heap in use {human(result.in_use)}; {result.message}", timeout=8)
    else:
        app.notify(f"{proc.name} ({proc.pid}): {result.message}", severity="warning" if result.refused else "error",
                   timeout=10)
    app.post_message(HeapSampled(proc.key, result))
