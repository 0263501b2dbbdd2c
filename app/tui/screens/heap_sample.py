"""Key H: sample the selected process's heap through gdb, after a confirmation.

The question says the process is paused (feasibility.md §A2: 15-54 ms of
stall with --readnever; more with a large heap), and Cancel has the focus:
Enter alone pauses nothing (issue 13, item 4). gdb runs in a worker
thread, never on the event loop; the result joins the chart as a marked
point and is reported in a notification, a refusal says why.

The question is about one process, named by its pid and the start time
the table showed; the sampler is given both and samples nothing if the pid
has passed to another process meanwhile (instrument/identity.py).
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.screen import Screen

from memtop.collectors.models import ProcessMemory
from memtop.views.format import human

from memtop.instrument.attach import PAUSE_NOTE, AttachResult
from memtop.state.heap_sources import HeapSources
from memtop.tui.messages import HeapSampled
from memtop.tui.screens.frames import ConfirmScreen, command_line, named


class HeapSampleScreen(ConfirmScreen[bool]):
    """Asks before pausing a process: Sample goes; Cancel (the focus: Enter) and Esc do nothing."""

    TEXT = "heap-sample-text"
    BUTTONS = (("Sample (pause it)", "sample", "warning"), ("Cancel", "cancel", "default"))
    DEFAULT = "cancel"  # Enter must not pause a process by default (issue 13, item 4)

    def __init__(self, proc: ProcessMemory) -> None:
        super().__init__()
        self.proc = proc

    def question(self) -> str:
        p = self.proc
        return (
            f"Sample the heap of {named(p)} through gdb?\n"
            f"{command_line(p.cmdline)}\n\n"
            f"gdb attaches once and calls glibc's mallinfo2 in a thread that waits in a safe syscall: "
            f"{PAUSE_NOTE}. Nothing is left running inside it.\n\n"
            f"Enter cancels (nothing is paused); Tab to Sample, or click it, to go ahead."
        )

    def answer(self, button: str | None) -> None:
        self.dismiss(button == "sample")


def ask_heap_sample(screen: Screen[Any], heap: HeapSources, proc: ProcessMemory | None, running: bool,
                    live: bool = True) -> None:
    """H on the main screen: confirm, then sample in a thread; the result goes to the app (HeapSampled).

    ``live``: the table shows this host's processes (not a captured tree, whose pids name nothing here).
    """
    app = screen.app
    if proc is None or not running:
        app.notify("select a running process first", severity="warning")
        return
    if not live:
        app.notify("a captured tree (--root) has no processes to sample", severity="warning")
        return
    if proc.pid in heap.attaching:
        app.notify(f"a heap sample of pid {proc.pid} is already being taken", severity="warning")
        return
    # What can be known without gdb is checked before asking: nothing is
    # attempted, and the user is not asked to pause a process for nothing.
    refused = heap.refusal(proc.pid, proc.starttime)
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
            result = sources.sampler(proc.pid, proc.starttime)
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
