"""The values of the fix engine: file edits, byte edits, plans, refusals and its error.

They are plain frozen dataclasses with no behaviour beyond checks of their own shape and
views of their own content (a plan's edits, composed from its units), so that outputs (SARIF
``fixes``) can carry them without importing the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sflint.model import Finding

__all__ = [
    "MAX_PROPOSED_ELEMENTS",
    "ApplyResult",
    "ByteEdit",
    "FileEdit",
    "FixError",
    "Patch",
    "Plan",
    "ProposedFix",
    "Refusal",
    "Unit",
    "WriteResult",
    "patched",
]


# A finding that stands for more elements than this (a permission its file grants again and
# again) gets no machine fix in SARIF: one result would carry that many replacements, and
# computing them means parsing the whole file twice more. ``--fix`` and ``--diff`` still
# disable every one.
MAX_PROPOSED_ELEMENTS = 100


class FixError(Exception):
    """A fix cannot be computed safely (unparsable input, unexpected shape, failed check)."""


@dataclass(frozen=True)
class FileEdit:
    """One file change. ``before is None``: create; ``after is None``: delete.

    ``path`` is absolute or relative to the project root passed to
    :func:`sflint.fix.write.apply_edits` and :func:`sflint.fix.diff.unified_diff`.
    """

    path: Path
    before: bytes | None
    after: bytes | None

    def __post_init__(self) -> None:
        if self.before is None and self.after is None:
            raise ValueError(f"{self.path}: an edit needs before or after content")

    @property
    def is_create(self) -> bool:
        return self.before is None

    @property
    def is_delete(self) -> bool:
        return self.after is None


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


@dataclass(frozen=True)
class ProposedFix:
    """One machine fix of a finding: a description and the edits that make it."""

    description: str
    edits: tuple[ByteEdit, ...]


@dataclass(frozen=True)
class Refusal:
    """An edit that ``apply_edits`` did not perform, and why (one line, for users)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class ApplyResult:
    applied: tuple[FileEdit, ...] = ()
    refused: tuple[Refusal, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.refused


@dataclass(frozen=True)
class Patch:
    """Replacements in an existing file that several units may change (``.sflint.yml``, a
    permission set group): ``(offset, length, text)`` in the bytes of ``before``, disjoint.
    The writer composes the patches of the units it writes, so that the file ends up with
    exactly the changes of the clones that were written."""

    path: Path
    before: bytes
    replacements: tuple[tuple[int, int, bytes], ...]


def patched(before: bytes, replacements: Iterable[tuple[int, int, bytes]]) -> bytes:
    """``before`` with ``replacements`` (disjoint, offsets of ``before``) applied."""
    out = bytearray()
    pos = 0
    for offset, length, text in sorted(replacements):
        out += before[pos:offset]
        out += text
        pos = offset + length
    out += before[pos:]
    return bytes(out)


@dataclass(frozen=True)
class Unit:
    """Changes written together or not at all: one clone with the edits that point the
    project at it, or one edited file.

    ``subject`` is the file a refusal names (the cloned component's main file; ``None`` for a
    plain file edit, whose refusal names the file itself). ``folder``, when set, is a folder
    the unit creates and that must not exist yet (a decomposed clone is never merged into
    whatever already sits there). ``done`` is said once the unit is written, ``would`` by
    ``--diff``, which writes nothing.
    """

    edits: tuple[FileEdit, ...] = ()
    patches: tuple[Patch, ...] = ()
    fixed: tuple[Finding, ...] = ()
    done: tuple[str, ...] = ()
    would: tuple[str, ...] = ()
    subject: str | None = None
    folder: Path | None = None
    # What a refusal of the unit says it was not (``not cloned``, ``not muted``).
    failure: str = "not cloned"


@dataclass(frozen=True)
class WriteResult:
    """What :func:`sflint.fix.write.apply_units` did: for each unit, in order, ``None`` when
    it was written, else the refusal of the file that stopped it (then nothing of that unit
    was written); and every file written, created or deleted."""

    refusals: tuple[Refusal | None, ...]
    files: tuple[Path, ...]


@dataclass(frozen=True)
class Plan:
    """What fixing a set of findings takes, before anything is written.

    ``units`` are written each as a whole; ``general`` notes hold whether or not anything
    is written (a profile that cannot be cloned); ``errors`` are findings that cannot be
    fixed, with the reason.
    """

    units: tuple[Unit, ...]
    general: tuple[str, ...]
    errors: tuple[str, ...]
    # Each fixed finding's own share of ``edits`` as replacements in the original bytes (the
    # edit strategy; a deleted file has none). Shares never overlap, and all of them applied
    # together give exactly ``edits``: they are the SARIF ``fixes`` of the results.
    changes: tuple[tuple[Finding, tuple[ByteEdit, ...]], ...] = ()

    @property
    def edits(self) -> tuple[FileEdit, ...]:
        """Every change of every unit, as if all were written (what ``--diff`` shows): the
        units' own files in order, then each shared file once, by path."""
        own = [e for u in self.units for e in u.edits]
        shared: dict[Path, tuple[bytes, list[tuple[int, int, bytes]]]] = {}
        for u in self.units:
            for p in u.patches:
                shared.setdefault(p.path, (p.before, []))[1].extend(p.replacements)
        for path, (before, replacements) in sorted(shared.items(), key=lambda kv: str(kv[0])):
            after = patched(before, replacements)
            if after != before:
                own.append(FileEdit(path, before, after))
        return tuple(own)

    @property
    def fixed(self) -> tuple[Finding, ...]:
        """The findings fixed if every unit is written."""
        return tuple(f for u in self.units for f in u.fixed)

    @property
    def notes(self) -> tuple[str, ...]:
        """What a run that writes every unit says, in order."""
        return (*self.general, *(n for u in self.units for n in u.done))
