"""A loaded rule: its metadata for outputs and its compiled matcher for the engine."""

from __future__ import annotations

import enum
from typing import NamedTuple

from sflint.model import CloneNaming, ComponentType, PersonaKind, Severity
from sflint.rules.matchers import Matcher
from sflint.rules.scope import Scope


class Case(NamedTuple):
    """A condition on the component a fix option or step is for (evaluated as a file-scope
    match, with ``via`` the group a persona holds it through), and how the docs word it."""

    when: Matcher
    text: str


class FixTemplate(NamedTuple):
    """A fix option as written in the rule file; ``steps`` are message templates."""

    id: str
    title: str
    steps: tuple[str, ...]
    action: str | None = None
    # Component types the option is offered for (empty: all).
    applies_to: tuple[str, ...] = ()
    clone: CloneNaming | None = None
    # Offered only when the grant reaches the persona through a permission set group.
    through_group: bool = False
    # Offered only when this holds for the finding's component.
    case: Case | None = None
    # Per step, the condition it is shown under (empty: every step always).
    step_cases: tuple[Case | None, ...] = ()


class Variant(NamedTuple):
    """A wording of the rule's finding for subjects where ``when`` holds: the message, and
    the severity when it names one."""

    when: Matcher
    case: str
    message: str
    severity: Severity | None = None


class Fold(NamedTuple):
    """Another rule whose finding on the same element this rule's finding covers."""

    rule: str
    text: str


class AggregateBy(str, enum.Enum):
    COMPONENT = "component"  # one finding per component (and persona, in a persona rule)


class Aggregate(NamedTuple):
    """One finding for every element of a component the match finds, instead of one per
    element: at the first element, its message naming ``{count}`` (``one``/``other`` the
    noun) and ``{items}`` (the first few, each written as ``item``), every element in the
    finding's ``items``. An element a comment suppresses for the rule is left out of it."""

    by: AggregateBy
    item: str
    one: str
    other: str


class Note(NamedTuple):
    """Text appended to the message when ``when`` also matches the same subject."""

    when: Matcher
    text: str


class ExampleKind(str, enum.Enum):
    BAD = "bad"  # must produce exactly its expected findings
    GOOD = "good"  # must produce none


# Where an example's metadata files go in the project it is run as; discovery goes by
# suffix, so one package folder holds them all. ``.sflint.yml`` sits at the project root.
EXAMPLE_PACKAGE = "force-app"
EXAMPLE_CONFIG = ".sflint.yml"


class ExampleFile(NamedTuple):
    name: str  # a file name with a metadata suffix, such as Sync.permissionset-meta.xml
    text: str


class Expected(NamedTuple):
    """A finding an example must produce: a file of the example (or .sflint.yml), a line."""

    path: str
    line: int


class Example(NamedTuple):
    kind: ExampleKind
    files: tuple[ExampleFile, ...]
    config: str | None = None  # the project's .sflint.yml, for persona examples
    expect: tuple[Expected, ...] = ()
    title: str | None = None


class Docs(NamedTuple):
    why: str
    how_to_fix: str
    references: tuple[str, ...] = ()


class Rule(NamedTuple):
    id: str
    name: str
    summary: str
    severity: Severity
    tags: tuple[str, ...]
    security_severity: float | None
    precision: str
    scope: tuple[Scope, ...]  # in Scope order, no duplicates
    # Component types a file-scope rule is run on; persona kinds a persona-scope rule is.
    component_types: tuple[ComponentType, ...]
    persona_kinds: tuple[PersonaKind, ...]
    match: Matcher
    message: str
    notes: tuple[Note, ...]
    fixes: tuple[FixTemplate, ...]
    docs: Docs
    examples: tuple[Example, ...]
    source: str  # the rule file, for error messages
    # The rule has an ``xpath`` matcher, which reads the files themselves.
    reads_files: bool = False
    variants: tuple[Variant, ...] = ()
    folds: tuple[Fold, ...] = ()
    aggregate: Aggregate | None = None
