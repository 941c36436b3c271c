"""Showing and carrying edits: the unified diff of ``--diff``, and single byte replacements.

The diff is ``git apply``/``patch`` input (a CRLF's "\\r" stays on its line, a last line
without newline gets git's "\\ No newline at end of file" marker), so a user can review it
and apply it by hand.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Iterable
from pathlib import Path

from sflint.fix.values import ByteEdit, FileEdit

__all__ = ["byte_edit", "unified_diff"]


def _rel(path: Path, root: Path) -> str:
    if path.is_absolute():
        with contextlib.suppress(ValueError):
            return path.relative_to(root).as_posix()
        with contextlib.suppress(ValueError, OSError):
            return path.resolve().relative_to(root.resolve()).as_posix()
    return path.as_posix()


_LINE_RE = re.compile(r"[^\n]*\n|[^\n]+\Z")


def _lines(text: str) -> list[str]:
    """Lines without their "\\n" (a "\\r" of CRLF stays, so the diff applies as a patch);
    a last line without newline gets git's marker."""
    lines = _LINE_RE.findall(text)
    out = [line[:-1] if line.endswith("\n") else line for line in lines]
    if lines and not lines[-1].endswith("\n"):
        out[-1] += "\n\\ No newline at end of file"
    return out


def _decode(data: bytes | None) -> str | None:
    if data is None:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def unified_diff(edits: Iterable[FileEdit], root: Path) -> str:
    """A unified diff of ``edits`` with ``a/`` and ``b/`` paths relative to ``root``, sorted
    by path, usable with ``git apply``/``patch``. Non-UTF-8 content is reported as binary."""
    chunks: list[str] = []
    for edit in sorted(edits, key=lambda e: _rel(e.path, root)):
        rel = _rel(edit.path, root)
        old = "/dev/null" if edit.before is None else f"a/{rel}"
        new = "/dev/null" if edit.after is None else f"b/{rel}"
        before, after = _decode(edit.before), _decode(edit.after)
        if before is None or after is None:
            chunks.append(f"Binary files {old} and {new} differ\n")
            continue
        if edit.before == edit.after:
            continue
        diff = difflib.unified_diff(
            _lines(before), _lines(after), fromfile=old, tofile=new, lineterm="", n=3
        )
        chunks.append("".join(line + "\n" for line in diff))
    return "".join(chunks)


def byte_edit(path: str, before: bytes, after: bytes) -> ByteEdit | None:
    """The one replacement that turns ``before`` into ``after`` (common prefix and suffix
    kept), for a caller that holds only whole-file contents (the planner gives each finding
    its own replacements instead); ``None`` when nothing changed. The bounds are moved off
    UTF-8 continuation bytes so that the inserted text is whole characters.
    """
    if before == after:
        return None
    limit = min(len(before), len(after))
    start = 0
    while start < limit and before[start] == after[start]:
        start += 1
    while 0 < start < len(before) and 0x80 <= before[start] <= 0xBF:
        start -= 1
    tail = 0
    while tail < limit - start and before[len(before) - 1 - tail] == after[len(after) - 1 - tail]:
        tail += 1
    while tail > 0 and 0x80 <= before[len(before) - tail] <= 0xBF:
        tail -= 1
    return ByteEdit(path, start, len(before) - tail - start, after[start : len(after) - tail])
