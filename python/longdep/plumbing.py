"""Plumbing that sweeps, reports and the training lab share: atomic writes, a progress
display, and TOML reading with the line of every key (for error messages) and bounded
nesting."""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import time
import tomllib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = ["MAX_TOML_NESTING", "Progress", "fsync_dir", "key_lines", "load_toml", "write_atomic"]


_KEY_RE = re.compile(
    r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*="""
)


# Possessive quantifiers: linear time on hostile lines (a lazy group before `\s*\]`
# backtracks quadratically over long runs of spaces).
_TABLE_RE = re.compile(r"^\s*+\[([^\[\]]*+)\]")


def key_lines(text: str) -> dict[tuple[str, str], int]:
    """First line (1-based) of every ``key =`` per table, found by scanning the text.

    Table ``""`` is the root; a dotted ``grid.hidden = ...`` counts as ``hidden`` in
    ``grid``; a ``[table]`` header is recorded as key ``table`` of the root.
    """
    lines: dict[tuple[str, str], int] = {}
    table = ""
    in_multiline = False
    for no, line in enumerate(text.split("\n"), 1):  # TOML ends lines at \n only
        opens = line.count('"""') % 2 or line.count("'''") % 2
        if in_multiline:  # inside a multi-line string: no keys here
            in_multiline = not opens
            continue
        in_multiline = bool(opens)
        m = _TABLE_RE.match(line)
        if m and m.group(1).strip():
            table = "".join(m.group(1).split()).replace('"', "")
            parts = table.split(".")
            for j in range(len(parts)):
                lines.setdefault((".".join(parts[:j]), parts[j]), no)
            continue
        m = _KEY_RE.match(line)
        if m:
            parts = [p.strip().strip("\"'") for p in m.group(1).split(".")]
            full = (table.split(".") if table else []) + parts
            for j in range(len(full)):
                lines.setdefault((".".join(full[:j]), full[j]), no)
    return lines


#: Deepest nesting of arrays / inline tables, and most parts of a dotted key or table
#: name, a config may have. A sweep config needs two or three; far deeper input makes
#: tomllib recurse past Python's limit (arrays) or take quadratic memory (dotted keys).
MAX_TOML_NESTING = 64


_TOML_TOKEN = re.compile(r"\"\"\"|'''|[\"'#\[\]{}=,.\n]")


_TOML_STRING_BODY = {
    '"""': re.compile(r'(?:[^"\\]|\\.|"(?!""))*+"""', re.S),
    "'''": re.compile(r"(?:[^']|'(?!''))*+'''"),
    '"': re.compile(r'(?:[^"\\\n]|\\.)*+"'),
    "'": re.compile(r"[^'\n]*+'"),
}


def _toml_nesting(text: str) -> tuple[int, str] | None:
    """Where (offset) and how `text` nests deeper than :data:`MAX_TOML_NESTING`, or None.

    A linear scan that skips strings and comments and counts the open ``[``/``{`` and
    the dots of one dotted key; it only bounds the depth, tomllib checks the syntax.
    """
    depth = dots = 0
    pos, n = 0, len(text)
    while pos < n:
        m = _TOML_TOKEN.search(text, pos)
        if m is None:
            return None
        tok, pos = m.group(), m.end()
        if tok in _TOML_STRING_BODY:
            end = _TOML_STRING_BODY[tok].match(text, pos)
            if end is None:  # unterminated: tomllib reports it
                return None
            pos = end.end()
        elif tok == "#":
            newline = text.find("\n", pos)
            pos = n if newline < 0 else newline
        elif tok in "[{":
            depth, dots = depth + 1, 0
            if depth > MAX_TOML_NESTING:
                return m.start(), f"arrays or tables more than {MAX_TOML_NESTING} levels deep"
        elif tok in "]}":
            depth, dots = max(depth - 1, 0), 0
        elif tok == ".":
            dots += 1
            if dots >= MAX_TOML_NESTING:
                return (
                    m.start(),
                    f"a dotted key or table name of more than {MAX_TOML_NESTING} parts",
                )
        else:  # "=", "," or a newline ends a dotted key
            dots = 0
    return None


def load_toml(text: str, source: str) -> tuple[str, dict[str, Any]]:
    """The text without a leading UTF-8 byte-order mark, and its TOML document.

    Raises ValueError with a ``"FILE[:LINE]: ..."`` message for invalid TOML and for
    nesting beyond :data:`MAX_TOML_NESTING`, never RecursionError.
    """
    text = text.removeprefix("\ufeff")  # Windows editors write a BOM; tomllib refuses it
    deep = _toml_nesting(text)
    if deep is not None:
        offset, what = deep
        line = text.count("\n", 0, offset) + 1
        raise ValueError(f"{source}:{line}: too deeply nested: {what} (a config needs 2 or 3)")
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{source}: not valid TOML: {e}") from None
    except RecursionError:  # deep nesting the scan above missed
        raise ValueError(
            f"{source}: not valid TOML: nested too deeply to parse (arrays or tables "
            "inside each other)"
        ) from None


def fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write to a temp name in the same folder, fsync, rename: all or nothing at ``path``."""
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Cases done, rate and ETA: a redrawn bar on a terminal, a line every ``interval`` s otherwise."""

    def __init__(
        self,
        total: int,
        done: int = 0,
        *,
        label: str = "",
        stream: IO[str] | None = None,
        tty: bool | None = None,
        interval: float = 10.0,
        enabled: bool = True,
        unit: str = "cases",
    ) -> None:
        self.enabled, self.unit = enabled, unit
        self.stream = stream if stream is not None else sys.stderr
        self.tty = _isatty(self.stream) if tty is None else tty
        self.total, self.done, self.start_done = total, done, done
        self.label, self.interval = label, interval
        self.t0 = time.monotonic()
        self._last = -math.inf
        self._width = 0

    def _line(self) -> str:
        elapsed = time.monotonic() - self.t0
        ran = self.done - self.start_done
        rate = ran / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else math.inf
        pct = 100.0 * self.done / self.total if self.total else 100.0
        stats = f"{self.done}/{self.total} {self.unit} ({pct:.0f}%)  {rate:.2f} {self.unit}/s  "
        stats += f"elapsed {_duration(elapsed)}  ETA {_duration(eta)}"
        if not self.tty:
            return f"{self.label}: {stats}" if self.label else stats
        filled = int(24 * self.done / self.total) if self.total else 24
        return f"{self.label} [{'#' * filled}{'-' * (24 - filled)}] {stats}"

    def update(self, n: int = 1, *, force: bool = False) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if force or now - self._last >= 0.1 or self.done == self.total:
                line = self._line()
                pad = max(0, self._width - len(line))
                self.stream.write("\r" + line + " " * pad)
                self.stream.flush()
                self._width, self._last = len(line), now
        elif force or now - self._last >= self.interval or self.done == self.total:
            self.stream.write(self._line() + "\n")
            self.stream.flush()
            self._last = now

    def close(self) -> None:
        if self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
