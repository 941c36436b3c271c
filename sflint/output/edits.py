"""Byte-level edits that an output can carry as a machine fix (SARIF ``fixes``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ByteEdit:
    """Replace ``length`` bytes at ``offset`` of ``path`` (project-relative) with ``text``.

    Offsets count bytes of the original file, as SARIF's ``deletedRegion.byteOffset`` does
    (§3.30.11): a fix is computed on bytes so that everything else stays byte-identical.
    ``text`` given as bytes is written as text when it is UTF-8 and as base64 ``binary``
    otherwise (§3.3.3).
    """

    path: str
    offset: int
    length: int
    text: str | bytes = ""


def byte_edit(path: str, before: bytes, after: bytes) -> ByteEdit | None:
    """The one replacement that turns ``before`` into ``after`` (common prefix and suffix
    kept), for the fix engine's whole-file edits; ``None`` when nothing changed. The bounds
    are moved off UTF-8 continuation bytes so that the inserted text is whole characters.
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


@dataclass(frozen=True)
class ProposedFix:
    """One machine fix of a finding: a description and the edits that make it."""

    description: str
    edits: tuple[ByteEdit, ...]
