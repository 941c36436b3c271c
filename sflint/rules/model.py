"""A loaded rule: its metadata for outputs and its compiled matcher for the engine."""

from __future__ import annotations

from dataclasses import dataclass

from sflint.model import CloneNaming, Severity
from sflint.rules.matchers import Matcher


@dataclass(frozen=True)
class FixTemplate:
    """A fix option as written in the rule file; ``steps`` are message templates."""

    id: str
    title: str
    steps: tuple[str, ...]
    action: str | None = None
    # Component types the option is offered for (empty: all).
    applies_to: tuple[str, ...] = ()
    clone: CloneNaming | None = None


@dataclass(frozen=True)
class Note:
    """Text appended to the message when ``when`` also matches the same subject."""

    when: Matcher
    text: str


@dataclass(frozen=True)
class Example:
    xml: str
    component_type: str
    # Findings the example must produce; 0 for a good example.
    expect: int


@dataclass(frozen=True)
class Docs:
    why: str
    how_to_fix: str
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    summary: str
    severity: Severity
    tags: tuple[str, ...]
    security_severity: float | None
    precision: str
    scope: tuple[str, ...]  # "file" and/or "persona"
    applies_to: tuple[str, ...]
    match: Matcher
    message: str
    notes: tuple[Note, ...]
    fixes: tuple[FixTemplate, ...]
    docs: Docs
    examples: tuple[Example, ...]
    source: str  # the rule file, for error messages
    # The rule has an ``xpath`` matcher, which reads the files themselves.
    reads_files: bool = False
