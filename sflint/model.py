"""Immutable values shared by every stage: metadata components, grants, findings."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from typing import NamedTuple


class ValueEnum(str, enum.Enum):
    """A str-valued enum that prints as its value on every Python version.

    ``str()`` and f-strings of a plain ``(str, Enum)`` member give its value on Python 3.10
    but ``Cls.NAME`` from 3.11 on (``enum.StrEnum`` is 3.11+). sflint's own text uses
    ``.value``; this keeps code that formats a member it was given as a ``str`` unchanged.
    """

    def __str__(self) -> str:
        return str(self.value)


class ComponentType(ValueEnum):
    """The four permission metadata types (Metadata API Developer Guide, API 67.0); what
    sflint knows about each is in ``sflint.kinds``."""

    PERMISSION_SET = "PermissionSet"
    PROFILE = "Profile"
    PERMISSION_SET_GROUP = "PermissionSetGroup"
    MUTING_PERMISSION_SET = "MutingPermissionSet"


# What outputs print as the component type of a finding about a persona as a whole.
PERSONA_TYPE = "Persona"


class PersonaKind(ValueEnum):
    """Whose access a persona is; rules apply to personas of given kinds."""

    INTEGRATION = "integration"  # an external app's API user: the built-in rules
    USER = "user"  # a human user's access, for teams' own rules


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "note": 1}[self.value]


class Confidence(ValueEnum):
    """How sure sflint is that a persona is what it says, and so each of its findings: a
    declared persona and the strong signals of ``access.signal_of`` are ``high``; a name
    that reads like an integration user's together with API or broad data access is
    ``medium``; a name alone, or the shape of the access alone, ``low``
    (``sflint.candidates``)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return {"high": 3, "medium": 2, "low": 1}[self.value]


# Every value of this module is a NamedTuple: frozen all the same (read by attribute; a
# changed copy is ``_replace``, and mypy refuses ``dataclasses.replace`` on one). Every run
# imports this module, and a frozen dataclass compiles six methods when its class is created
# and sets each field through ``object.__setattr__``: the seven that were dataclasses cost a
# warm run of the enterprise bench 61 million instructions of its 796, and a cold one builds
# 69,000 grants and their locations. ``Grant.count`` and ``Item.count`` shadow
# ``tuple.count``, which nothing calls on them.
class Location(NamedTuple):
    """A place in a file: project-relative POSIX path and 1-based line."""

    path: str
    line: int


# How many lines of a repeated grant are kept and shown (its first and the next ones); the
# count says how many more there are.
SHOWN_LINES = 10


class Grant(NamedTuple):
    """One ``<userPermissions>`` element, or every element of one file that grants the same
    permission with the same value.

    Tri-state by construction: a grant exists with ``enabled`` true or false, and an absent
    permission has no Grant at all. In a permission set (API 40+) absent means disabled on
    deploy; in a profile it means "left as it is in the org" (SALESFORCE.md, Files).

    A file may repeat a grant (a hostile one 600,000 times in 64 MB): the reader keeps one
    Grant at the first element, with ``count`` the number of elements and ``also`` the lines
    of the next few (at most ``SHOWN_LINES`` lines in all), so that everything after the
    reader (access, rules, findings, every output) costs what one grant costs.
    """

    name: str
    enabled: bool
    location: Location
    # Shadows tuple.count, which nothing calls on a grant.
    count: int = 1  # type: ignore[assignment]
    also: tuple[int, ...] = ()

    @property
    def lines(self) -> tuple[int, ...]:
        """The lines kept: the first element's and the next ones (``SHOWN_LINES`` at most)."""
        return (self.location.line, *self.also)


class ObjectAccess(ValueEnum):
    """One access flag of an ``<objectPermissions>`` entry, valued by its element's name
    (Metadata API Developer Guide, Profile and PermissionSet: ObjectPermissions), in the
    order Setup lists them."""

    READ = "allowRead"
    CREATE = "allowCreate"
    EDIT = "allowEdit"
    DELETE = "allowDelete"
    VIEW_ALL = "viewAllRecords"
    MODIFY_ALL = "modifyAllRecords"

    @property
    def label(self) -> str:
        """How Setup names it: "Read", "View All"."""
        return _OBJECT_LABELS[self]


_OBJECT_LABELS = {
    ObjectAccess.READ: "Read",
    ObjectAccess.CREATE: "Create",
    ObjectAccess.EDIT: "Edit",
    ObjectAccess.DELETE: "Delete",
    ObjectAccess.VIEW_ALL: "View All",
    ObjectAccess.MODIFY_ALL: "Modify All",
}


def object_access(flags: Iterable[ObjectAccess]) -> tuple[ObjectAccess, ...]:
    """``flags`` once each, in Setup's order: the one spelling of a set of flags."""
    given = frozenset(flags)
    return tuple(a for a in ObjectAccess if a in given)


class ObjectGrant(NamedTuple):
    """One ``<objectPermissions>`` element: the flags it enables on ``object`` (every flag
    it leaves out or sets false grants nothing), in Setup's order (``object_access``)."""

    object: str
    access: tuple[ObjectAccess, ...]
    location: Location


class Member(NamedTuple):
    """A ``<permissionSets>`` or ``<mutingPermissionSets>`` entry of a permission set group."""

    name: str
    location: Location


class ProblemKind(ValueEnum):
    """How bad a problem with a file is."""

    # Salesforce cannot deploy it, or sflint cannot tell what it grants (``invalid-metadata``).
    INVALID = "invalid"
    # It deploys, but what it grants depends on a reading sflint had to choose (``True`` for
    # ``true``, a repeated ``<name>``, an element outside the namespace): ``ambiguous-metadata``.
    AMBIGUOUS = "ambiguous"


class Problem(NamedTuple):
    """Something wrong with a file as permission metadata, at its line."""

    message: str
    location: Location
    kind: ProblemKind = ProblemKind.INVALID


class Suppression(NamedTuple):
    """``<!-- sflint: ignore SFL002 -->`` (the element that follows) or ``ignore-file``
    (the whole file); ``location`` is the line of the element it applies to."""

    rules: tuple[str, ...]  # ids or names; empty means every rule
    location: Location
    whole_file: bool = False
    # The words after the rules (``(people who use Data Loader must pass MFA)``), as written.
    reason: str = ""

    def covers(self, finding: Finding) -> bool:
        return self.covers_at(finding.rule, finding.name, finding.path, finding.line)

    def covers_at(self, rule: str, name: str, path: str, line: int) -> bool:
        """Whether it suppresses rule ``rule`` (id; ``name`` its name) for the element at
        ``path``:``line``: the engine asks it of each element an aggregated finding would
        stand for."""
        if path != self.location.path:
            return False
        if self.rules and rule not in self.rules and name not in self.rules:
            return False
        return self.whole_file or line == self.location.line


class Component(NamedTuple):
    """One permission component, possibly assembled from several files (decomposed sets)."""

    type: ComponentType
    name: str
    files: tuple[str, ...]
    label: str | None = None
    license: str | None = None
    user_license: str | None = None
    # A profile's <custom> text: "false" marks one of Salesforce's standard profiles
    # (Metadata API Developer Guide, Profile); None when the file leaves it out.
    custom: str | None = None
    grants: tuple[Grant, ...] = ()
    members: tuple[Member, ...] = ()
    muting_members: tuple[Member, ...] = ()
    problems: tuple[Problem, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    object_grants: tuple[ObjectGrant, ...] = ()
    # Line of the root element in the main file: where component-level findings point.
    anchor: Location | None = None
    # Where the other copies of the same type and name are defined (another package
    # directory or format): each copy is a component of its own (metadata/loader.py).
    duplicates: tuple[Location, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.type.value, self.name)

    @property
    def key_t(self) -> tuple[ComponentType, str]:
        return (self.type, self.name)

    def enabled(self, permission: str) -> tuple[Grant, ...]:
        return tuple(g for g in self.grants if g.enabled and g.name == permission)

    @property
    def location(self) -> Location:
        if self.anchor is not None:
            return self.anchor
        return Location(self.files[0] if self.files else "", 1)


class FixOption(NamedTuple):
    """One way an admin can resolve a finding, rendered for this finding.

    ``action`` names a machine fix (``disable-permission``, ``clone-without-permission``)
    that ``--fix`` can apply; ``None`` means the steps are for a person only. A clone
    option names its clone: ``clone`` holds the API-name and label suffixes the rule chose
    (``_No_API_MFA``, `` (no API MFA)``), so a clone made for another rule is named for it.
    """

    id: str
    title: str
    steps: tuple[str, ...]
    action: str | None = None
    clone: CloneNaming | None = None
    # Why ``--fix`` does not do what the rule's machine fix would (a standard profile no
    # one can edit): said in the fix output for the finding.
    refusal: str | None = None


# The fix option of a finding on a Salesforce standard profile that no one can edit
# (engine.py), in place of the rule's own options.
STANDARD_FIX = "standard-profile"


class CloneNaming(NamedTuple):
    """How a clone made by a rule's clone option is named: ``<name><name_suffix>`` and
    ``<label><label_suffix>``."""

    name_suffix: str
    label_suffix: str


class WaiverKind(ValueEnum):
    """How a finding was accepted (sflint.waivers): each is shown with its reason."""

    COMMENT = "comment"  # <!-- sflint: ignore ... --> in the metadata file
    EXCEPTION = "exception"  # an entry of ``exceptions:`` in .sflint.yml
    BASELINE = "baseline"  # an entry of the baseline file (.sflint-baseline.json)

    @property
    def sarif_kind(self) -> str:
        """SARIF 2.1.0 §3.35.2: ``inSource`` is a suppression in the analysed file itself,
        ``external`` one kept elsewhere (the config, the baseline)."""
        return "inSource" if self is WaiverKind.COMMENT else "external"


class Waiver(NamedTuple):
    """Why a finding is not reported: what accepted it, where, and the reason given."""

    kind: WaiverKind
    reason: str
    location: Location  # the comment's element, the exception or the baseline entry
    owner: str | None = None
    expires: str | None = None  # YYYY-MM-DD


class NoticeLevel(ValueEnum):
    WARNING = "warning"
    NOTE = "note"


class Notice(NamedTuple):
    """Something about the triage itself, not about the metadata: an expired exception, an
    exception or baseline entry that matches nothing. Shown in every format; never fails."""

    message: str
    location: Location
    level: NoticeLevel = NoticeLevel.WARNING


# The key of a finding that stands for every element of its component a rule with
# ``aggregate`` matched (``Finding.items``); no permission, object or element has this name.
AGGREGATE_KEY = "*"


class Item(NamedTuple):
    """One element an aggregated finding stands for (``Finding.items``): its key (the
    object, for SFL016), where it is, the values the rule's item text names (``object``,
    ``access``), and how many elements of its file it is (``Grant.count``)."""

    key: str
    location: Location
    values: tuple[tuple[str, str], ...] = ()
    count: int = 1  # type: ignore[assignment]  # shadows tuple.count, never called on an item


def prefixed(items: tuple[Item, ...], prefix: str) -> tuple[Item, ...]:
    """``items`` with ``prefix`` before each path: a finding's paths shown from another
    folder (a batch of projects, ``sflint diff``'s sides)."""
    return tuple(
        Item(i.key, Location(prefix + i.location.path, i.location.line), i.values, i.count)
        for i in items
    )


class Finding(NamedTuple):
    rule: str
    name: str
    severity: Severity
    path: str
    line: int
    message: str
    component_type: ComponentType | None  # None: about a persona as a whole
    component_name: str
    key: str
    persona: str | None = None
    fixes: tuple[FixOption, ...] = ()
    # Files whose content caused the finding besides ``path`` (the group that pulls a set
    # into a persona, the persona's config): pre-commit reports a finding when any changed.
    related_paths: tuple[str, ...] = ()
    # Set on a suppressed finding only: what accepted it and why (sflint.waivers).
    waiver: Waiver | None = None
    # The persona's confidence for a finding about one; a file's own findings are high.
    confidence: Confidence = Confidence.HIGH
    # How many elements of ``path`` the finding stands for (a permission granted there more
    # than once), and the lines of the first few of them (``Grant.lines``; empty when one).
    occurrences: int = 1
    lines: tuple[int, ...] = ()
    # A finding of a rule with ``aggregate`` (one per component): every element it stands
    # for, in order; ``occurrences`` counts them (with their copies), ``lines`` the first.
    items: tuple[Item, ...] = ()

    @property
    def type_name(self) -> str:
        """The component type as outputs print it: ``PermissionSet``, or ``Persona``."""
        return PERSONA_TYPE if self.component_type is None else self.component_type.value

    @property
    def fingerprint(self) -> str:
        """Stable identity across edits: never built from lines (DESIGN.md, Findings)."""
        return fingerprint(self.rule, self.type_name, self.component_name, self.key, self.persona)

    @property
    def units(self) -> tuple[tuple[str, str, int], ...]:
        """What the baseline, ``--new-since`` and ``sflint diff`` count, as (fingerprint,
        path, copies): the finding itself; for an aggregated finding, each of its items with
        the fingerprint a finding on that element alone has. So an object added to an
        aggregate is new even where another was removed (the count alone would hide it), and
        a baseline accepts or pays off one element at a time."""
        if not self.items:
            return ((self.fingerprint, self.path, self.occurrences),)
        return tuple(
            (
                fingerprint(self.rule, self.type_name, self.component_name, i.key, self.persona),
                i.location.path,
                i.count,
            )
            for i in self.items
        )

    @property
    def sort_key(self) -> tuple[str, int, str, str, str]:
        return (self.path, self.line, self.rule, self.persona or "", self.key)


def fingerprint(rule: str, type_name: str, component: str, key: str, persona: str | None) -> str:
    """A finding's identity from what it is about, never from where it is: neither its line
    nor its path (a file moved to another package folder keeps its findings' identity), so
    the baseline, ``--new-since`` and SARIF's ``partialFingerprints`` match across edits."""
    ident = "\x1f".join((rule, type_name, component, key, persona or ""))
    # surrogateescape: a file name that is not UTF-8 still has a stable identity.
    return hashlib.sha256(ident.encode("utf-8", "surrogateescape")).hexdigest()[:32]
