"""Settings memtop remembers between runs: a TOML file in the user's config directory (issue 18).

Read at start (tomllib; tomli on Python 3.10), written when the user changes
a setting in the app, atomically (a temporary file in the same directory,
fsync, rename), so a crash never leaves half a file. A setting that is broken
or unknown gives one line naming it, and its default is used; the others
still apply. Flags given on the command line win for that run and are not
written back: only what the user changes in the app is.

Nothing here imports textual: the command line loads the file before the
dashboard starts, and ``--no-config`` neither reads nor writes it.
"""

from __future__ import annotations

import math
import os
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from memtop.state.options import StartOptions
from memtop.tables.select import PROCESS_FIELDS
from memtop.views.columns import BY_KEY, DEFAULT_COLUMNS, column_named, labels

FILE_NAME = "config.toml"
#: A config file larger than this is not a config file (and is not read into memory).
MAX_BYTES = 64 * 1024
#: The heap-vs-RSS chart's windows, in minutes (key W).
CHART_WINDOWS = (1, 5, 15, 30)
#: The refresh interval's bounds, in seconds (the dashboard's [ and ] stay inside them).
MIN_INTERVAL, MAX_INTERVAL = 0.1, 3600.0


@dataclass(frozen=True, slots=True)
class Settings:
    """What the user chose; every field has the default a new user gets."""

    #: A Textual theme by name (the command palette's "Change theme"); None: Textual's default.
    theme: str | None = None
    #: The sort column's key (memtop.views.columns) or a process field of the JSON.
    sort: str = "pss"
    #: Invert the sort's natural order (I).
    reverse: bool = False
    #: The process table's columns, in order (F2).
    columns: tuple[str, ...] = DEFAULT_COLUMNS
    #: Seconds between refreshes ([ and ]).
    interval: float = 1.0
    #: The THP pane and the heap chart shown (p).
    panes: bool = True
    #: The heap-vs-RSS chart's window in minutes (W).
    chart_window: int = 5
    #: Kernel threads listed (K).
    kernel_threads: bool = False


DEFAULTS = Settings()
NAMES = tuple(f.name for f in fields(Settings))


def default_path() -> Path:
    """``$XDG_CONFIG_HOME/memtop/config.toml`` (``~/.config/memtop/config.toml``), by platformdirs."""
    from platformdirs import user_config_path

    return user_config_path("memtop", appauthor=False) / FILE_NAME


# -- reading ---------------------------------------------------------------------
def _column(value: object) -> str:
    column = column_named(value) if isinstance(value, str) else None
    if column is None:
        raise ValueError(f"a column of the table ({labels()})")
    return column.key


def _sort(value: object) -> str:
    if isinstance(value, str) and value in PROCESS_FIELDS and column_named(value) is None:
        return value
    return _column(value)


def _columns(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("a list of column names")
    keys = [_column(v) for v in value]
    if len(set(keys)) != len(keys):
        raise ValueError("a column listed twice")
    return tuple(keys)


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def _interval(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("a number of seconds")
    if not MIN_INTERVAL <= value <= MAX_INTERVAL:
        raise ValueError(f"between {MIN_INTERVAL} and {MAX_INTERVAL:g} seconds")
    return float(value)


def _window(value: object) -> int:
    if isinstance(value, bool) or value not in CHART_WINDOWS:
        raise ValueError(f"one of {', '.join(map(str, CHART_WINDOWS))} (minutes)")
    return int(value)  # type: ignore[call-overload]


def _theme(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 64:
        raise ValueError("a theme name")
    return value


_PARSE: Mapping[str, Callable[[object], object]] = {
    "theme": _theme, "sort": _sort, "reverse": _bool, "columns": _columns, "interval": _interval,
    "panes": _bool, "chart_window": _window, "kernel_threads": _bool,
}


def parse(text: str, where: str = FILE_NAME) -> tuple[Settings, list[str]]:
    """Settings from TOML text, and one line for each setting that was broken or unknown (its default is used)."""
    # Imported here: with no config file (the usual case) `memtop --json` never parses
    # TOML, and the parser's import is a measurable share of its start-up (issue 17, goal 5).
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10: the same parser, from PyPI
        import tomli as tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return DEFAULTS, [f"{where}: not valid TOML ({exc}); using the defaults"]
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in data.items():
        check = _PARSE.get(name)
        if check is None:
            problems.append(f"{where}: {name}: unknown setting, ignored (memtop knows {', '.join(NAMES)})")
            continue
        try:
            values[name] = check(value)
        except ValueError as exc:
            problems.append(f"{where}: {name} = {value!r}: expected {exc}; using the default")
    return replace(DEFAULTS, **values), problems


def _read_text(path: Path) -> str | None:
    """The file's text; None when there is none. Only a regular file of sane size is read:
    a FIFO planted at the path would block the start forever, a device or a huge file too."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{path}: not a regular file")
        if info.st_size > MAX_BYTES:
            raise OSError(f"{path}: larger than {MAX_BYTES // 1024} KiB")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_BYTES + 1)
    finally:
        os.close(fd)
    return data.decode("utf-8", errors="replace")


def load(path: Path) -> tuple[Settings, list[str]]:
    """The settings in ``path`` (the defaults when it does not exist), and what was wrong in it."""
    try:
        text = _read_text(path)
    except OSError as exc:
        return DEFAULTS, [f"cannot read the config ({exc.strerror or exc}); using the defaults"]
    if text is None:
        return DEFAULTS, []
    return parse(text, str(path))


# -- writing ---------------------------------------------------------------------
def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # A basic string: escape what TOML requires (backslash, quote, control characters).
        out = "".join(c if c.isprintable() and c not in '"\\' else
                      (f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}") for c in value)
        return f'"{out}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(type(value).__name__)


_COMMENTS = {
    "theme": "a Textual theme (ctrl+p: Change theme)",
    "sort": "the sort column as the table names it; reverse flips its order",
    "columns": "the process table's columns in order (F2); those that fit the terminal are shown",
    "interval": "seconds between refreshes ([ and ])",
    "panes": "the THP pane and the heap-vs-RSS chart (p)",
    "chart_window": "the chart's window in minutes: 1, 5, 15 or 30 (W)",
    "kernel_threads": "kernel threads listed (K)",
}


def dumps(settings: Settings) -> str:
    """The TOML memtop writes: every setting, commented, sort and columns by the table's names."""
    lines = ["# memtop's settings: written when you change them in memtop (--no-config: neither read nor written).",
             "# Flags on the command line win for that run. Unknown or broken settings are named at start and ignored.", ""]
    for name in NAMES:
        value: object = getattr(settings, name)
        if value is None or name == "reverse":
            continue
        if name == "sort" and value in BY_KEY:
            value = BY_KEY[str(value)].label
        elif name == "columns":
            value = [BY_KEY[k].label for k in settings.columns]
        lines.append(f"# {_COMMENTS[name]}")
        lines.append(f"{name} = {_toml(value)}")
        if name == "sort":
            lines.append(f"reverse = {_toml(settings.reverse)}")
    return "\n".join(lines) + "\n"


def save(path: Path, settings: Settings) -> None:
    """Write atomically: a temporary file beside it, flushed to disk, renamed over it."""
    import tempfile  # only when the user changes a setting: shutil, random and the rest stay out of --json

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(dumps(settings))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def start_options(settings: Settings, *, text: str = "", pid: int | None = None, frozen: bool = False) -> StartOptions:
    """The model's options for a run: these settings, and what only the command line says."""
    return StartOptions(
        interval=settings.interval, sort=settings.sort, text=text, pid=pid, frozen=frozen, reverse=settings.reverse,
        columns=settings.columns, panes=settings.panes, chart_window=settings.chart_window * 60.0,
        theme=settings.theme, kernel_threads=settings.kernel_threads,
    )


def setting_values(changes: Mapping[str, object]) -> dict[str, object]:
    """What the app reports (a chart window in seconds) as the settings' values (minutes)."""
    out = dict(changes)
    if "chart_window" in out:
        out["chart_window"] = int(round(float(out["chart_window"]) / 60))  # type: ignore[arg-type]
    return {k: v for k, v in out.items() if k in NAMES}


class SettingsStore:
    """The settings of this run: the file's, the flags over them, the user's changes written back.

    ``current`` is what the app uses. ``change()`` records what the user did
    in the app and writes the file's settings with it, never the flags (a
    ``--interval 5`` for one run does not become the default).
    """

    def __init__(self, path: Path | None, saved: Settings = DEFAULTS, flags: Mapping[str, object] | None = None) -> None:
        #: None: --no-config (nothing is read or written).
        self.path = path
        self.saved = saved
        self.current = replace(saved, **dict(flags or {}))  # type: ignore[arg-type]
        #: Why the last write failed (shown once), else None.
        self.error: str | None = None
        #: What was wrong in the file when it was read (one line each): said on stderr and in the app.
        self.problems: list[str] = []

    @classmethod
    def open(cls, path: Path | None, flags: Mapping[str, object] | None = None) -> tuple[SettingsStore, list[str]]:
        """Load ``path`` (None: --no-config) and lay the flags over it; also the lines about what was wrong."""
        if path is None:
            return cls(None, DEFAULTS, flags), []
        saved, problems = load(path)
        store = cls(path, saved, flags)
        store.problems = problems
        return store, problems

    def change(self, **values: object) -> bool:
        """The user changed these settings in the app: use them, and write them. False when the write failed."""
        self.current = replace(self.current, **values)  # type: ignore[arg-type]
        updated = replace(self.saved, **values)  # type: ignore[arg-type]
        if updated == self.saved or self.path is None:
            self.saved = updated
            return True
        self.saved = updated
        try:
            save(self.path, updated)
        except OSError as exc:
            self.error = f"cannot write {self.path}: {exc.strerror or exc}"
            return False
        self.error = None
        return True
