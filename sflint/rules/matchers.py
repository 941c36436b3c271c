"""Compiled matchers: pure predicates over a component or a persona's effective access.

A matcher answers (matched, hits). Hits are the elements a finding points at (one finding
per granting element); a matcher such as ``not`` matches without hits, and then the finding
points at the subject itself (the component's root element or the persona's config entry).

Each matcher also says, per scope, which placeholders its hits carry (``yields``), so that the
loader can refuse a message that names a value some finding of the rule would lack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, NamedTuple, Protocol

from sflint.access import (
    Access,
    EffectiveGrant,
    EffectiveObjectGrant,
    Index,
    signal_of,
    type_word,
)
from sflint.catalogue import Catalogue
from sflint.model import (
    Component,
    ComponentType,
    Grant,
    Item,
    Location,
    ObjectAccess,
    ObjectGrant,
    PersonaKind,
    ProblemKind,
)
from sflint.rules.scope import (
    AGGREGATE_PLACEHOLDERS,
    COMPONENT_PLACEHOLDERS,
    SCOPE_PLACEHOLDERS,
    Scope,
)

if TYPE_CHECKING:  # lxml is imported where an xpath rule runs: a cached run never needs it
    from lxml import etree


class Hit(NamedTuple):
    location: Location
    key: str
    component: Component | None
    values: tuple[tuple[str, str], ...] = ()
    related: tuple[str, ...] = ()
    # A grant repeated in its file (model.Grant): how many elements, and the first lines.
    occurrences: int = 1
    lines: tuple[int, ...] = ()
    # The permission set group through which the persona holds the grant (persona hits).
    via: Component | None = None
    # An aggregated hit (``engine``, a rule with ``aggregate``): the elements it stands for.
    items: tuple[Item, ...] = ()


def _lines(grant: Grant) -> tuple[int, ...]:
    """A hit's ``lines``: a repeated grant's first lines; none for a single element."""
    return grant.lines if grant.count > 1 else ()


@dataclass(frozen=True)
class Context:
    catalogue: Catalogue
    index: Index
    # Persona kind -> keys of every component that makes up a persona of that kind.
    members_by_kind: dict[str, frozenset[tuple[ComponentType, str]]] = field(hash=False)
    # File bytes by project-relative path, for ``xpath`` matchers only (empty otherwise).
    sources: Mapping[str, bytes] = field(default_factory=dict, hash=False)
    # Each file's namespace-free tree, parsed on first use: every xpath rule of the run
    # reads the same tree (XPath evaluation does not change it).
    _trees: dict[str, etree._Element | None] = field(
        default_factory=dict, hash=False, compare=False, repr=False
    )

    # Each user_permission matcher's verdict on each permission name (what it asks of the
    # name alone), decided once per run on first sight: a rule without ``names`` (SFL003,
    # SFL004, SFL008) asked it of every grant of every component and persona, about
    # 190,000 times for the 69,000 grants of the enterprise bench (3,906 matcher-name pairs).
    _verdicts: dict[UserPermission, _Verdicts] = field(
        default_factory=dict, hash=False, compare=False, repr=False
    )

    def verdicts(self, matcher: UserPermission) -> _Verdicts:
        """The names ``matcher`` accepts, by name: a dict that decides a name on first use."""
        found = self._verdicts.get(matcher)
        if found is None:
            found = self._verdicts[matcher] = _Verdicts(matcher, self.catalogue)
        return found

    def namespace_free(self, path: str) -> etree._Element | None:
        """The file at ``path`` with namespaces removed; None when absent or not XML."""
        if path not in self._trees:
            data = self.sources.get(path)
            self._trees[path] = None if data is None else _namespace_free(data)
        return self._trees[path]


class ComponentSubject(NamedTuple):
    component: Component
    ctx: Context
    # When a fix option or step of a persona finding is chosen (engine.py): the group through
    # which the persona holds the component's grant. None in a file-scope rule.
    via: Component | None = None


class PersonaSubject(NamedTuple):
    access: Access
    ctx: Context


Subject = ComponentSubject | PersonaSubject
Result = tuple[bool, tuple[Hit, ...]]
NO: Result = (False, ())


class Yield(NamedTuple):
    """What a matcher's findings can carry in one scope, known before any evaluation.

    ``shapes`` are the placeholder sets that its hits can carry (one per kind of hit);
    ``hitless`` says it can match without a hit, and the finding then points at the subject
    with only the scope's own placeholders. No shape and not hitless: it never matches.
    """

    shapes: frozenset[frozenset[str]] = frozenset()
    hitless: bool = False

    @staticmethod
    def hits(*names: str | frozenset[str]) -> Yield:
        flat = frozenset(n for g in names for n in ([g] if isinstance(g, str) else g))
        return Yield(frozenset({flat}))

    @property
    def never(self) -> bool:
        return not self.shapes and not self.hitless

    def guaranteed(self, scope: Scope) -> frozenset[str]:
        """The placeholders filled for every finding: the scope's own, plus what every hit
        carries (an ``any`` hit may come from either branch, so only what both give)."""
        base = SCOPE_PLACEHOLDERS[scope]
        shapes = [*self.shapes, *([frozenset()] if self.hitless else [])]
        return base | frozenset.intersection(*shapes) if shapes else base


HITLESS = Yield(hitless=True)
NEVER = Yield()


class Matcher(Protocol):
    def evaluate(self, subject: Subject) -> Result: ...

    def yields(self, scope: Scope) -> Yield: ...


def _is_namespaced(name: str) -> bool:
    # Managed-package components carry a namespace prefix (force__ScaleCenterStandardPS);
    # they are installed, never in the project's source.
    return "__" in name.rstrip("_") and not name.endswith("__c")


# What an unknown name that is not shaped like an API name gets instead of a suggestion.
_NOT_A_NAME = "A user permission's API name has only letters and digits."


@dataclass(frozen=True)
class UserPermission:
    PROVIDES: ClassVar[frozenset[str]] = frozenset(
        {"permission", "label", "did_you_mean", "suggestion", "suggestion_label", "tier"}
        # {group}: the permission set group a persona's grant comes through, when it does
        # (never guaranteed: only a fix option with through_group may name it).
        | {"tier_reason", "group"}
        | COMPONENT_PLACEHOLDERS
    )

    names: frozenset[str] | None = None
    not_names: frozenset[str] | None = None
    misspelling_of: frozenset[str] | None = None
    not_misspelling_of: frozenset[str] | None = None
    unknown: bool | None = None
    # The name is not a real one but a likely slip of a known name (or not shaped like an
    # API name at all); false: an unknown name that resembles nothing known.
    likely_typo: bool | None = None
    # Privilege tiers of sflint/data/privileged.tsv accepted (None: any permission).
    tiers: frozenset[int] | None = None
    enabled: bool | None = None

    def yields(self, scope: Scope) -> Yield:
        names = {"permission", "label", "did_you_mean"}
        if self.misspelling_of is not None:  # the grant's name stands for one of these
            names |= {"suggestion", "suggestion_label"}
        if self.tiers is not None:  # the grant has a tier
            names |= {"tier", "tier_reason"}
        # A persona's grant carries the component whose file holds it.
        return Yield.hits(frozenset(names), COMPONENT_PLACEHOLDERS)

    def accepts_name(self, name: str, cat: Catalogue) -> bool:
        """What the matcher asks of a grant's name: all of it but ``enabled``."""
        if self.names is not None and name not in self.names:
            return False
        if self.not_names is not None and name in self.not_names:
            return False
        meant = cat.meant(name)
        if self.misspelling_of is not None and meant not in self.misspelling_of:
            return False
        if self.not_misspelling_of is not None and meant in self.not_misspelling_of:
            return False
        if self.unknown is not None and cat.known(name) is self.unknown:
            return False
        if self.likely_typo is not None and cat.likely_typo(name) is not self.likely_typo:
            return False
        return self.tiers is None or cat.privileged.get(name) in self.tiers

    def _values(self, grant: Grant, cat: Catalogue) -> list[tuple[str, str]]:
        values = [("permission", grant.name), ("label", cat.label(grant.name))]
        meant = cat.meant(grant.name)
        if meant is not None:
            label = cat.label(meant)
            values += [("suggestion", meant), ("suggestion_label", label)]
            said = f"{meant} ({label})" if label != meant else meant  # no label known
            values.append(("did_you_mean", f"Did you mean {said}?"))
        elif cat.likely_typo(grant.name):  # not shaped like an API name, and like no name
            values.append(("did_you_mean", _NOT_A_NAME))
        else:
            values.append(("did_you_mean", ""))  # a sentence that is there only when it helps
        tier = cat.privileged.get(grant.name)
        if tier is not None:
            reason = cat.privilege_reasons.get(grant.name, "")
            values += [("tier", str(tier)), ("tier_reason", reason)]
        return values

    def evaluate(self, subject: Subject) -> Result:
        cat = subject.ctx.catalogue
        hits: list[Hit] = []
        # A rule on named permissions looks only at those (the set lookup first); every
        # other name is decided once per run (Context.verdicts), then looked up: called for
        # every grant of every component, the full test was most of a run's evaluation.
        names = self.names
        ok = subject.ctx.verdicts(self)
        enabled = self.enabled
        if isinstance(subject, ComponentSubject):
            c = subject.component
            grants = c.grants if names is None else [g for g in c.grants if g.name in names]
            hits = [
                Hit(
                    g.location,
                    g.name,
                    c,
                    tuple(self._values(g, cat)),
                    occurrences=g.count,
                    lines=_lines(g),
                )
                for g in grants
                if (enabled is None or g.enabled is enabled) and ok[g.name]
            ]
        else:
            seen: set[Location] = set()
            muting: dict[str, list[str]] = {}  # by group: its muting sets' files, found once
            access = subject.access
            held = access.grants
            if names is not None:
                held = tuple(eg for eg in held if eg.grant.name in names)
            for eg in held:
                g = eg.grant
                if eg.muted_by is not None or (enabled is not None and g.enabled is not enabled):
                    continue
                if not ok[g.name] or g.location in seen:  # or held twice (directly, via a group)
                    continue
                seen.add(g.location)
                values = self._values(g, cat)
                hits.append(_persona_hit(eg, g.name, access, values, muting))
        return (bool(hits), tuple(hits))


class _Verdicts(dict[str, bool]):
    """A user_permission matcher's verdict on each name, decided on first use (a run's
    grants repeat a few hundred names tens of thousands of times)."""

    def __init__(self, matcher: UserPermission, catalogue: Catalogue) -> None:
        super().__init__()
        self.matcher = matcher
        self.catalogue = catalogue

    def __missing__(self, name: str) -> bool:
        verdict = self[name] = self.matcher.accepts_name(name, self.catalogue)
        return verdict


@dataclass(frozen=True)
class ObjectPermission:
    """An ``<objectPermissions>`` entry that enables any of ``access`` (on one of
    ``objects``, when given); in a persona rule, as the persona holds it (a flag its group's
    muting set mutes is not held, nor is a flag the persona holds on every object through View
    All Data or Modify All Data: ``_org_wide``). One hit per entry."""

    PROVIDES: ClassVar[frozenset[str]] = frozenset({"object", "access"}) | COMPONENT_PLACEHOLDERS

    access: frozenset[ObjectAccess]
    objects: frozenset[str] | None = None

    def yields(self, scope: Scope) -> Yield:
        return Yield.hits("object", "access", COMPONENT_PLACEHOLDERS)

    def _held(self, grant: ObjectGrant, held: tuple[ObjectAccess, ...]) -> list[tuple[str, str]]:
        """The hit's values, or none when the entry is not one the matcher asks for."""
        if self.objects is not None and grant.object not in self.objects:
            return []
        found = [a.label for a in held if a in self.access]
        return [("object", grant.object), ("access", ", ".join(found))] if found else []

    def evaluate(self, subject: Subject) -> Result:
        hits: list[Hit] = []
        if isinstance(subject, ComponentSubject):
            c = subject.component
            for o in c.object_grants:
                values = self._held(o, o.access)
                if values:
                    hits.append(Hit(o.location, o.object, c, tuple(values)))
            return (bool(hits), tuple(hits))
        seen: set[Location] = set()
        muting: dict[str, list[str]] = {}
        implied = _org_wide(subject.access)
        for eo in subject.access.objects:
            values = self._held(eo.grant, tuple(a for a in eo.access if a not in implied))
            if not values or eo.grant.location in seen:
                continue
            seen.add(eo.grant.location)
            hits.append(_persona_hit(eo, eo.grant.object, subject.access, values, muting))
        return (bool(hits), tuple(hits))


# Modify All Data comes with Read, Create, Edit, Delete, View All and Modify All on every
# standard and custom object, and with View All Data (Salesforce Help, Knowledge Article
# 000321298, "Modify All Data permission"); View All Data reads every record of every object
# regardless of sharing, as each object's View All does for one. So a persona that holds them
# holds those flags everywhere: that is SFL008's finding, and the object flags they imply
# (listed on every object of the retrieved profiles that hold them, hundreds per profile on
# real repositories) are not findings of their own; the admin acts on the one permission.
_IMPLIED_BY: tuple[tuple[str, frozenset[ObjectAccess]], ...] = (
    ("ViewAllData", frozenset({ObjectAccess.VIEW_ALL})),
    ("ModifyAllData", frozenset({ObjectAccess.VIEW_ALL, ObjectAccess.MODIFY_ALL})),
)


def _org_wide(access: Access) -> frozenset[ObjectAccess]:
    """The object flags the persona holds on every object through an org-wide permission."""
    held = {eg.grant.name for eg in access.grants if eg.grant.enabled and eg.muted_by is None}
    out: frozenset[ObjectAccess] = frozenset()
    for name, flags in _IMPLIED_BY:
        if name in held:
            out |= flags
    return out


def _persona_hit(
    eg: EffectiveGrant | EffectiveObjectGrant,
    key: str,
    access: Access,
    values: list[tuple[str, str]],
    muting: dict[str, list[str]],
) -> Hit:
    # The files whose change can make or unmake this finding besides the grant's own: the
    # group that pulls the set in, that group's muting sets, and the persona's config.
    related: list[str] = []
    if eg.group is not None:
        related += eg.group.files
        if eg.group.name not in muting:
            names = {m.name for m in eg.group.muting_members}
            muting[eg.group.name] = [
                path
                for c in access.components
                if c.type is ComponentType.MUTING_PERMISSION_SET and c.name in names
                for path in c.files
            ]
        related += muting[eg.group.name]
    if access.persona.signal is None:
        related.append(access.persona.location.path)
    through = (("group", eg.group.name),) if eg.group is not None else ()
    grant = eg.grant if isinstance(eg.grant, Grant) else None  # an object entry is one
    return Hit(
        eg.grant.location,
        key,
        eg.source,
        (*values, ("chain", eg.chain), *through),
        tuple(dict.fromkeys(p for p in related if p != eg.grant.location.path)),
        occurrences=grant.count if grant else 1,
        lines=_lines(grant) if grant else (),
        via=eg.group,
    )


@dataclass(frozen=True)
class License:
    """The component's license (permission set) or user license (profile)."""

    PROVIDES: ClassVar[frozenset[str]] = frozenset({"license"}) | COMPONENT_PLACEHOLDERS

    values: frozenset[str]

    def yields(self, scope: Scope) -> Yield:
        return Yield.hits("license", COMPONENT_PLACEHOLDERS)

    def evaluate(self, subject: Subject) -> Result:
        comps = (
            (subject.component,)
            if isinstance(subject, ComponentSubject)
            else subject.access.components
        )
        hits = [
            Hit(c.location, lic, c, (("license", lic),))
            for c in comps
            for lic in (c.license, c.user_license)
            if lic is not None and lic in self.values
        ]
        return (bool(hits), tuple(hits))


@dataclass(frozen=True)
class StrictPermissions:
    """The project's ``.sflint.yml`` sets ``strict_permissions: true``: it asks to hear of
    every user permission name sflint does not know, not only the likely misspellings."""

    PROVIDES: ClassVar[frozenset[str]] = frozenset()

    value: bool

    def yields(self, scope: Scope) -> Yield:
        return HITLESS

    def evaluate(self, subject: Subject) -> Result:
        return (subject.ctx.catalogue.strict is self.value, ())


@dataclass(frozen=True)
class InPersona:
    """The component is part of some persona of ``kind`` (file-scope rules only)."""

    PROVIDES: ClassVar[frozenset[str]] = frozenset()

    kind: PersonaKind

    def yields(self, scope: Scope) -> Yield:
        return HITLESS

    def evaluate(self, subject: Subject) -> Result:
        if isinstance(subject, PersonaSubject):
            return (subject.access.persona.kind is self.kind, ())
        members = subject.ctx.members_by_kind.get(self.kind.value, frozenset())
        return (subject.component.key_t in members, ())


@dataclass(frozen=True)
class Detected:
    """The persona was detected from signals rather than declared in the config."""

    PROVIDES: ClassVar[frozenset[str]] = frozenset()

    value: bool

    def yields(self, scope: Scope) -> Yield:
        return HITLESS if scope is Scope.PERSONA else NEVER

    def evaluate(self, subject: Subject) -> Result:
        if isinstance(subject, ComponentSubject):
            return NO
        return ((subject.access.persona.signal is not None) is self.value, ())


@dataclass(frozen=True)
class Invalid:
    """The file's problems of one kind: ``invalid_metadata`` (it cannot be read as
    permission metadata, or would not deploy) or ``ambiguous_metadata`` (it deploys, but
    sflint had to choose how to read it)."""

    kind: ProblemKind = ProblemKind.INVALID
    PROVIDES: ClassVar[frozenset[str]] = frozenset({"detail"})

    def yields(self, scope: Scope) -> Yield:
        return Yield.hits("detail") if scope is Scope.FILE else NEVER

    def evaluate(self, subject: Subject) -> Result:
        if isinstance(subject, PersonaSubject):
            return NO
        c = subject.component
        key = f"{self.kind.value}-metadata"
        hits = [
            Hit(p.location, key, c, (("detail", p.message),))
            for p in c.problems
            if p.kind is self.kind
        ]
        return (bool(hits), tuple(hits))


@dataclass(frozen=True)
class Incomplete:
    """The persona's access names components that the project does not contain."""

    PROVIDES: ClassVar[frozenset[str]] = frozenset()

    def yields(self, scope: Scope) -> Yield:
        return HITLESS if scope is Scope.PERSONA else NEVER

    def evaluate(self, subject: Subject) -> Result:
        if isinstance(subject, ComponentSubject):
            return NO
        return (subject.access.incomplete, ())


@dataclass(frozen=True)
class Unresolved:
    """Names of components that the project does not contain."""

    PROVIDES: ClassVar[frozenset[str]] = frozenset({"detail"}) | COMPONENT_PLACEHOLDERS

    def yields(self, scope: Scope) -> Yield:
        # A group's hit is in the group's file; a persona's names no component (it is missing).
        if scope is Scope.FILE:
            return Yield.hits("detail", COMPONENT_PLACEHOLDERS)
        return Yield.hits("detail")

    def evaluate(self, subject: Subject) -> Result:
        if isinstance(subject, PersonaSubject):
            hits = [
                Hit(
                    r.location,
                    f"{r.type.value}:{r.name}",
                    None,
                    (("detail", f"{type_word(r.type)} {r.name}"),),
                )
                for r in subject.access.unresolved
            ]
            return (bool(hits), tuple(hits))
        c = subject.component
        if c.type is not ComponentType.PERMISSION_SET_GROUP:
            return NO
        index = subject.ctx.index
        hits = []
        for members, ctype in (
            (c.members, ComponentType.PERMISSION_SET),
            (c.muting_members, ComponentType.MUTING_PERMISSION_SET),
        ):
            for m in members:
                if _is_namespaced(m.name) or index.find(ctype, m.name) is not None:
                    continue
                detail = f"{type_word(ctype)} {m.name}"
                hits.append(Hit(m.location, f"{ctype.value}:{m.name}", c, (("detail", detail),)))
        return (bool(hits), tuple(hits))


@dataclass(frozen=True)
class IntegrationSignal:
    """The component carries an integration user's signal (``access.signal_of``): the
    Salesforce Integration license, its permission set license, or API Only User."""

    PROVIDES: ClassVar[frozenset[str]] = frozenset()

    value: bool

    def yields(self, scope: Scope) -> Yield:
        return HITLESS if scope is Scope.FILE else NEVER

    def evaluate(self, subject: Subject) -> Result:
        if isinstance(subject, PersonaSubject):
            return NO
        return ((signal_of(subject.component) is not None) is self.value, ())


@dataclass(frozen=True)
class StandardProfile:
    """The component is one of Salesforce's standard profiles (``sflint.standard``):
    ``true``/``false``, or one of ``names`` (API or Setup names)."""

    PROVIDES: ClassVar[frozenset[str]] = frozenset()

    value: bool = True
    names: frozenset[str] | None = None

    def yields(self, scope: Scope) -> Yield:
        return HITLESS if scope is Scope.FILE else NEVER

    def evaluate(self, subject: Subject) -> Result:
        if isinstance(subject, PersonaSubject):
            return NO
        found = subject.ctx.catalogue.standard.of(subject.component)
        if found is not None and self.names is not None:
            found = found if {found.name, found.setup_name} & self.names else None
        return ((found is not None) is self.value, ())


@dataclass(frozen=True)
class ViaGroup:
    """The finding's persona holds the component's grant through a permission set group
    (fix options and steps only: ``engine`` sets ``ComponentSubject.via``)."""

    PROVIDES: ClassVar[frozenset[str]] = frozenset()

    value: bool

    def yields(self, scope: Scope) -> Yield:
        return HITLESS if scope is Scope.FILE else NEVER

    def evaluate(self, subject: Subject) -> Result:
        if isinstance(subject, PersonaSubject):
            return NO
        return ((subject.via is not None) is self.value, ())


@dataclass(frozen=True)
class ProfileKnown:
    """The persona's access includes a profile of the project: without one, sflint cannot
    tell what the user's profile grants (``.sflint.yml`` names none)."""

    PROVIDES: ClassVar[frozenset[str]] = frozenset()

    value: bool

    def yields(self, scope: Scope) -> Yield:
        return HITLESS if scope is Scope.PERSONA else NEVER

    def evaluate(self, subject: Subject) -> Result:
        if isinstance(subject, ComponentSubject):
            return NO
        has = any(c.type is ComponentType.PROFILE for c in subject.access.components)
        return (has is self.value, ())


@dataclass(frozen=True)
class Duplicate:
    """The component is defined more than once (same type and name): one hit per copy, at
    its own root element, naming where the others are."""

    PROVIDES: ClassVar[frozenset[str]] = frozenset({"detail"}) | COMPONENT_PLACEHOLDERS

    def yields(self, scope: Scope) -> Yield:
        return Yield.hits("detail", COMPONENT_PLACEHOLDERS) if scope is Scope.FILE else NEVER

    def evaluate(self, subject: Subject) -> Result:
        if isinstance(subject, PersonaSubject) or not subject.component.duplicates:
            return NO
        c = subject.component
        others = ", ".join(f"{o.path}:{o.line}" for o in c.duplicates)
        # The key names the copy, so that each copy's finding has its own fingerprint.
        return (True, (Hit(c.location, f"copy:{c.location.path}", c, (("detail", others),)),))


@dataclass(frozen=True)
class XPath:
    """The escape hatch for file-scope rules: an XPath 1.0 expression evaluated on each file
    of the component with namespaces removed, so ``//userPermissions[name='X']`` reads as
    the file looks. Element results are hits; any other non-empty result matches the file.

    XPath 1.0 in lxml can read nothing but the document (no extension functions, and no
    EXSLT regular expressions: compiled with ``regexp=False``), and the loader accepts only
    expressions that run in linear time (``sflint.rules.xpath_subset``), so an expression
    from a repository's rule folder is safe to run. Only files the reader accepted reach it
    (``load_with_sources``), parsed with the same safe settings as everywhere else.

    A result that is not elements (``count(...) > 3``, a string) matches the component as a
    whole: one hit at its root element whose ``detail`` is the component's name.
    """

    PROVIDES: ClassVar[frozenset[str]] = frozenset({"detail"})

    expression: str
    compiled: etree.XPath = field(compare=False, hash=False, repr=False)

    def yields(self, scope: Scope) -> Yield:
        return Yield.hits("detail") if scope is Scope.FILE else NEVER

    def evaluate(self, subject: Subject) -> Result:
        if isinstance(subject, PersonaSubject):
            return NO
        from lxml import etree

        c = subject.component
        matched = False
        hits: list[Hit] = []
        for path in c.files:
            tree = subject.ctx.namespace_free(path)
            if tree is None:
                continue
            try:
                result = self.compiled(tree)
            except etree.XPathError:
                continue  # checked when the rule was loaded; a document-specific failure is no hit
            if isinstance(result, list):
                for item in result:
                    if isinstance(item, etree._Element):
                        name = item.findtext("name") or _tag(item)
                        line = item.sourceline if isinstance(item.sourceline, int) else 1
                        hits.append(
                            Hit(Location(path, line), name.strip(), c, (("detail", name.strip()),))
                        )
                    else:
                        matched = True
            elif result:
                matched = True
        if matched and not hits:
            hits.append(Hit(c.location, c.name, c, (("detail", c.name),)))
        return (bool(hits), tuple(hits))


def _tag(el: etree._Element) -> str:
    return str(el.tag).rpartition("}")[2]


def _namespace_free(data: bytes) -> etree._Element | None:
    from lxml import etree

    from sflint.xmlsafe import safe_parser

    parser = safe_parser()
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError):
        return None  # invalid-metadata reports it
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{"):
            el.tag = _tag(el)
    return root


@dataclass(frozen=True)
class All:
    PROVIDES: ClassVar[frozenset[str]] = frozenset()

    children: tuple[Matcher, ...]

    def yields(self, scope: Scope) -> Yield:
        # The hits are the first child's that has any (see evaluate): every child up to the
        # first one that always hits may supply them; the later ones never do.
        shapes: set[frozenset[str]] = set()
        for child in self.children:
            y = child.yields(scope)
            if y.never:
                return NEVER
            shapes |= y.shapes
            if not y.hitless:
                return Yield(frozenset(shapes))
        return Yield(frozenset(shapes), hitless=True)

    def evaluate(self, subject: Subject) -> Result:
        hits: tuple[Hit, ...] = ()
        for child in self.children:
            ok, child_hits = child.evaluate(subject)
            if not ok:
                return NO
            hits = hits or child_hits
        return (True, hits)


@dataclass(frozen=True)
class Any_:
    PROVIDES: ClassVar[frozenset[str]] = frozenset()

    children: tuple[Matcher, ...]

    def yields(self, scope: Scope) -> Yield:
        # Hits of every matching branch are kept; none at all when only hitless ones match.
        ys = [child.yields(scope) for child in self.children]
        return Yield(frozenset(s for y in ys for s in y.shapes), any(y.hitless for y in ys))

    def evaluate(self, subject: Subject) -> Result:
        matched = False
        hits: list[Hit] = []
        # Hits already kept, by value but with the component by identity: comparing each new
        # hit with every kept one (or hashing its whole component) was quadratic.
        seen: set[tuple[object, ...]] = set()
        for child in self.children:
            ok, child_hits = child.evaluate(subject)
            if ok:
                matched = True
                for h in child_hits:
                    ident = (h.location, h.key, id(h.component), h.values, h.related)
                    if ident not in seen:
                        seen.add(ident)
                        hits.append(h)
        return (matched, tuple(hits))


@dataclass(frozen=True)
class Not:
    PROVIDES: ClassVar[frozenset[str]] = frozenset()

    child: Matcher

    def yields(self, scope: Scope) -> Yield:
        return HITLESS

    def evaluate(self, subject: Subject) -> Result:
        ok, _ = self.child.evaluate(subject)
        return (not ok, ())


# Every matcher, for the set of placeholder names a rule may use at all.
MATCHERS: tuple[type[Matcher], ...] = (
    UserPermission,
    ObjectPermission,
    License,
    StrictPermissions,
    InPersona,
    Detected,
    Invalid,
    Incomplete,
    Unresolved,
    IntegrationSignal,
    StandardProfile,
    ViaGroup,
    ProfileKnown,
    Duplicate,
    XPath,
    All,
    Any_,
    Not,
)
KNOWN_PLACEHOLDERS = (
    frozenset(name for m in MATCHERS for name in getattr(m, "PROVIDES", ()))
    | frozenset(name for names in SCOPE_PLACEHOLDERS.values() for name in names)
    | AGGREGATE_PLACEHOLDERS
)
