"""A process's command line cut to a table cell, keeping what tells processes apart.

Three ``python3`` services look identical by name (issue 18); their command
lines differ in the script. When the whole line does not fit, the program's
path goes first (``/usr/bin/python3`` -> ``python3``), then, for an
interpreter, the script's directory (``/srv/app/serve.py`` -> ``serve.py``),
and only then is the end cut, marked ``…``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from memtop.views.format import escape

#: Programs whose first non-option argument is the script that names the process.
_INTERPRETER = re.compile(
    r"^(python|pypy|perl|ruby|node|nodejs|bash|sh|dash|zsh|ksh|php|lua|luajit|rscript|deno|bun|tclsh|wish|gawk|awk|osascript)"
    r"[0-9.]*$",
    re.IGNORECASE,
)
#: Interpreter options that take a value: the word after them is not the script.
_WITH_VALUE = frozenset({"-W", "-X", "-c", "-m", "-e", "-r", "-I", "-E", "--require", "--eval", "--import", "--loader"})


def _base(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] or path


def _script_index(args: Sequence[str]) -> int | None:
    """Where the script is among an interpreter's arguments (None: ``-c`` code, ``-m`` module, none)."""
    i = 1
    while i < len(args):
        arg = args[i]
        if arg in ("-c", "-m", "-e", "--eval"):
            return None  # code or a module name: already short, nothing to trim
        if arg == "--":
            return i + 1 if i + 1 < len(args) else None
        if arg.startswith("-"):
            i += 2 if arg in _WITH_VALUE else 1
            continue
        return i
    return None


def shortened(cmdline: Sequence[str], name: str) -> list[str]:
    """The forms of a command line, longest first: as is, program path cut, script path cut."""
    if not cmdline:
        return [f"[{escape(name)}]"]  # a kernel thread or a zombie: no command line
    args = [escape(a) for a in cmdline]
    forms = [" ".join(args)]
    if "/" in args[0]:
        args[0] = _base(args[0])
        forms.append(" ".join(args))
    if _INTERPRETER.match(args[0]):
        index = _script_index(args)
        if index is not None and index < len(args) and "/" in args[index]:
            args[index] = _base(args[index])
            forms.append(" ".join(args))
    return forms


def short_command(cmdline: Sequence[str], name: str, width: int) -> str:
    """The command line in ``width`` cells: the longest form that fits, else the shortest cut with ``…``."""
    forms = shortened(cmdline, name)
    for form in forms:
        if len(form) <= width:
            return form
    last = forms[-1]
    return last[: max(width - 1, 0)] + "…" if width > 0 else ""
