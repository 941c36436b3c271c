"""The values of the fix engine: file edits, byte edits, plans, refusals and its error.

They are plain frozen dataclasses with no behaviour beyond checks of their own shape, so
that outputs (SARIF ``fixes``) can carry them without importing the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sflint.model import Finding

__all__ = [
    "ApplyResult",
    "ByteEdit",
    "FileEdit",
    "FixError",
    "Plan",
    "ProposedFix",
    "Refusal",
]


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
class Plan:
    """What fixing a set of findings takes, before anything is written."""

    edits: tuple[FileEdit, ...]
    fixed: tuple[Finding, ...]
    notes: tuple[str, ...]  # what the user must know or do next
    errors: tuple[str, ...]
    # Each fixed finding's own share of ``edits`` as replacements in the original bytes (the
    # edit strategy; a deleted file has none). Shares never overlap, and all of them applied
    # together give exactly ``edits``: they are the SARIF ``fixes`` of the results.
    changes: tuple[tuple[Finding, tuple[ByteEdit, ...]], ...] = ()
