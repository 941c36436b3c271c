"""Personas and their effective access, every grant with where it comes from.

Effective access = the union of the profile, the permission sets and each group's member
sets, minus what that group's muting sets mute. A muting permission set acts only inside
the group that lists it (Metadata API Developer Guide, MutingPermissionSet). Assignments are
org data, not metadata, so the config is the authoritative source; detection finds strong
signals (confidence high) and weaker candidates (``sflint.candidates``: medium or low).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from sflint.candidates import READS, candidate
from sflint.config import Config, PersonaConfig, Reference
from sflint.kinds import kind_of
from sflint.model import (
    Component,
    ComponentType,
    Confidence,
    Grant,
    Location,
    ObjectAccess,
    ObjectGrant,
    PersonaKind,
    object_access,
)
from sflint.standard import StandardProfiles

# The Salesforce Integration user license and its permission set license (SALESFORCE.md,
# Integration users).
INTEGRATION_USER_LICENSE = "Salesforce Integration"
INTEGRATION_PSL = "SalesforceAPIIntegrationPsl"
API_ONLY = "ApiUserOnly"
# The permissions whose enabled grants a light component keeps (``Focus``).
LIGHT = frozenset({API_ONLY}) | READS


def type_word(ctype: ComponentType) -> str:
    """How Setup names the type in a sentence: "permission set", "profile"."""
    return kind_of(ctype).word


def describe(component: Component) -> str:
    return f"{type_word(component.type)} {component.name}"


class Persona(NamedTuple):
    name: str
    kind: PersonaKind
    references: tuple[Reference, ...]
    location: Location
    # For a detected persona: the signal that made it one; None when declared in config.
    signal: str | None = None
    # How sure sflint is that this is an integration user (declared: high).
    confidence: Confidence = Confidence.HIGH


class EffectiveGrant(NamedTuple):
    grant: Grant
    source: Component  # the component whose file holds the grant
    group: Component | None = None  # the group through which the persona holds it
    muted_by: Component | None = None  # the group's muting set that removes it

    @property
    def chain(self) -> str:
        steps = [describe(self.group)] if self.group else []
        steps.append(describe(self.source))
        return " → ".join(steps)


class EffectiveObjectGrant(NamedTuple):
    """An ``<objectPermissions>`` entry as a persona holds it: the flags its group's muting
    sets mute are removed (``muted``, with the muting sets that remove them)."""

    grant: ObjectGrant
    source: Component
    group: Component | None = None
    muted: tuple[ObjectAccess, ...] = ()
    muted_by: tuple[Component, ...] = ()

    @property
    def access(self) -> tuple[ObjectAccess, ...]:
        """The flags the persona holds through this entry."""
        return tuple(a for a in self.grant.access if a not in self.muted)

    @property
    def chain(self) -> str:
        steps = [describe(self.group)] if self.group else []
        steps.append(describe(self.source))
        return " → ".join(steps)


class Access(NamedTuple):
    persona: Persona
    grants: tuple[EffectiveGrant, ...]
    components: tuple[Component, ...]  # every component the persona's access is built from
    unresolved: tuple[Reference, ...]  # named by the persona itself, not in the project
    # Named by one of its groups, not in the project (managed-package sets among them);
    # the group's own file reports these.
    missing_members: tuple[Reference, ...] = ()
    objects: tuple[EffectiveObjectGrant, ...] = ()

    @property
    def incomplete(self) -> bool:
        return bool(self.unresolved or self.missing_members)

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path a finding on this access can point at or name as related: the files
        it is built from, the persona's own entry, and where its unresolved names are."""
        refs = (*self.unresolved, *self.missing_members)
        return (
            *(p for c in self.components for p in c.files),
            self.persona.location.path,
            *(r.location.path for r in refs),
        )


@dataclass(frozen=True)
class Index:
    """Components by (type, API name) and by (type, label); ``copies`` holds every copy of a
    component defined more than once (metadata/loader.py), the first of which ``by_name``
    finds."""

    by_name: dict[tuple[ComponentType, str], Component]
    by_label: dict[tuple[ComponentType, str], Component]
    copies: dict[tuple[ComponentType, str], tuple[Component, ...]] = field(default_factory=dict)

    @staticmethod
    def build(components: Iterable[Component]) -> Index:
        by_name: dict[tuple[ComponentType, str], Component] = {}
        by_label: dict[tuple[ComponentType, str], Component] = {}
        copies: dict[tuple[ComponentType, str], tuple[Component, ...]] = {}
        for c in components:
            if c.key_t in by_name:
                copies[c.key_t] = (*copies.get(c.key_t, (by_name[c.key_t],)), c)
            else:
                by_name[c.key_t] = c
            if c.label:
                by_label.setdefault((c.type, c.label), c)
        return Index(by_name, by_label, copies)

    def find(self, ctype: ComponentType, name: str) -> Component | None:
        return self.by_name.get((ctype, name)) or self.by_label.get((ctype, name))

    def variant(self, n: int) -> Index:
        """The index in which every component defined more than once is its ``n``-th copy
        (its last, if it has fewer): resolving a persona in each variant evaluates every
        copy, so that no copy hides another's grants."""
        chosen = {key: same[min(n, len(same) - 1)] for key, same in self.copies.items()}
        by_label = {key: chosen.get(c.key_t, c) for key, c in self.by_label.items()}
        return Index({**self.by_name, **chosen}, by_label, self.copies)


def _grants_of(component: Component, group: Component | None = None) -> list[EffectiveGrant]:
    return [EffectiveGrant(g, component, group) for g in component.grants]


def _objects_of(component: Component, group: Component | None = None) -> list[EffectiveObjectGrant]:
    return [EffectiveObjectGrant(o, component, group) for o in component.object_grants]


def _muted_objects(
    ps: Component,
    group: Component,
    muting: list[tuple[Component, dict[str, frozenset[ObjectAccess]]]],
) -> list[EffectiveObjectGrant]:
    """``ps``'s object grants held through ``group``, less what its muting sets mute: a
    muting set's enabled flag on an object removes that flag (Metadata API Developer Guide,
    MutingPermissionSet: the fields of a permission set, each enabled one muted)."""
    out = []
    for o in ps.object_grants:
        by = [m for m, objects in muting if objects.get(o.object, frozenset()) & set(o.access)]
        muted = object_access(a for m, objects in muting for a in objects.get(o.object, ()))
        muted = tuple(a for a in muted if a in o.access)
        out.append(EffectiveObjectGrant(o, ps, group, muted, tuple(by)))
    return out


def _mutes(muter: Component) -> dict[str, frozenset[ObjectAccess]]:
    mutes: dict[str, set[ObjectAccess]] = {}
    for o in muter.object_grants:
        mutes.setdefault(o.object, set()).update(o.access)
    return {name: frozenset(flags) for name, flags in mutes.items()}


def resolve(persona: Persona, index: Index) -> Access:
    grants: list[EffectiveGrant] = []
    objects: list[EffectiveObjectGrant] = []
    used: list[Component] = []
    unresolved: list[Reference] = []
    missing: list[Reference] = []
    for ref in persona.references:
        ctype = ref.type
        component = index.find(ctype, ref.name)
        if component is None:
            unresolved.append(ref)
            continue
        used.append(component)
        if ctype is not ComponentType.PERMISSION_SET_GROUP:
            grants.extend(_grants_of(component))
            objects.extend(_objects_of(component))
            continue
        # Each muting set with the names it mutes, collected once: looking a grant up in a
        # muting set's own grants each time made a large group quadratic.
        muting: list[tuple[Component, frozenset[str]]] = []
        muting_objects: list[tuple[Component, dict[str, frozenset[ObjectAccess]]]] = []
        for m in component.muting_members:
            muter = index.find(ComponentType.MUTING_PERMISSION_SET, m.name)
            if muter is None:
                missing.append(Reference(ComponentType.MUTING_PERMISSION_SET, m.name, m.location))
            else:
                muting.append((muter, frozenset(g.name for g in muter.grants if g.enabled)))
                muting_objects.append((muter, _mutes(muter)))
                used.append(muter)
        for member in component.members:
            ps = index.find(ComponentType.PERMISSION_SET, member.name)
            if ps is None:
                missing.append(
                    Reference(ComponentType.PERMISSION_SET, member.name, member.location)
                )
                continue
            used.append(ps)
            for eg in _grants_of(ps, component):
                muter = next((m for m, names in muting if eg.grant.name in names), None)
                grants.append(EffectiveGrant(eg.grant, ps, component, muter))
            objects.extend(_muted_objects(ps, component, muting_objects))
    # Each component once, by identity: hashing a component hashes every grant it holds.
    once = tuple({id(c): c for c in used}.values())
    return Access(
        persona,
        tuple(grants),
        once,
        tuple(unresolved),
        tuple(missing),
        tuple(objects),
    )


def declared(config: Config) -> tuple[Persona, ...]:
    return tuple(_from_config(p) for p in config.personas)


def _from_config(p: PersonaConfig) -> Persona:
    return Persona(p.name, p.kind, p.references, p.location)


def _ref(c: Component) -> Reference:
    return Reference(c.type, c.name, c.location)


def signal_of(c: Component) -> str | None:
    """The integration signal a component carries, in words; None without one.

    Only an integration user's access carries these (DESIGN.md, Personas): the Salesforce
    Integration user license, its permission set license, or API Only User.
    """
    if c.problems and not c.grants:
        return None
    if c.type is ComponentType.PROFILE and c.user_license == INTEGRATION_USER_LICENSE:
        return f"its user license is {INTEGRATION_USER_LICENSE}"
    if c.type is ComponentType.PERMISSION_SET and c.license == INTEGRATION_PSL:
        return f"its license is {INTEGRATION_PSL} (Salesforce API Integration)"
    if c.type in (ComponentType.PROFILE, ComponentType.PERMISSION_SET) and c.enabled(API_ONLY):
        return f"it enables {API_ONLY} (API Only User)"
    return None


def detect(components: Iterable[Component]) -> tuple[Persona, ...]:
    """Integration personas from signals that only an integration user's access carries
    (confidence high), and the candidates of weaker signals (``sflint.candidates``: medium
    or low), which ``--min-confidence`` leaves unchecked by default when low.

    A set that belongs to a detected group is covered by the group's persona, so it does not
    become a persona of its own (that would report each grant twice). A component defined
    twice is one persona (``accesses_for`` evaluates each copy).
    """
    comps = list(components)
    signals: dict[tuple[ComponentType, str], str] = {}
    for c in comps:
        signal = signal_of(c)
        if signal is not None:
            signals.setdefault(c.key_t, signal)
    personas: dict[str, Persona] = {}
    in_group: set[str] = set()
    for c in comps:
        if c.type is not ComponentType.PERMISSION_SET_GROUP:
            continue
        hits = [m.name for m in c.members if (ComponentType.PERMISSION_SET, m.name) in signals]
        if hits:
            in_group.update(hits)
            why = signals[(ComponentType.PERMISSION_SET, hits[0])]
            signal = f"it contains permission set {hits[0]}: {why}"
            personas.setdefault(
                describe(c),
                Persona(describe(c), PersonaKind.INTEGRATION, (_ref(c),), c.location, signal),
            )
    for c in comps:
        key = c.key_t
        if c.type is ComponentType.PERMISSION_SET and c.name in in_group:
            continue
        if key in signals:
            personas.setdefault(
                describe(c),
                Persona(describe(c), PersonaKind.INTEGRATION, (_ref(c),), c.location, signals[key]),
            )
            continue
        weak = candidate(c)
        if weak is not None:
            persona = Persona(
                describe(c), PersonaKind.INTEGRATION, (_ref(c),), c.location, weak.signal
            )
            personas.setdefault(describe(c), persona._replace(confidence=weak.confidence))
    return tuple(sorted(personas.values(), key=lambda p: p.name))


def accesses_for(
    config: Config, components: Iterable[Component], index: Index
) -> tuple[Access, ...]:
    """The access of every persona: the declared personas, plus the detected ones unless
    ``detect_integration: false``.

    Detection stays on beside declared personas (issue 10): a profile added later with the
    Salesforce Integration license is still checked. A declared persona wins for the
    components it names: a component it covers is not detected again (each grant would be
    reported twice). A persona built from a component defined twice is resolved once per
    copy (``Index.variant``), each access under the same persona, so that the findings on
    what the copies share are reported once and those on either copy are not lost.
    """
    mine = tuple(a for p in declared(config) for a in _each_copy(p, index))
    if config.detect_integration is False:
        return mine
    covered = {c.key_t for a in mine for c in a.components}
    found = detect(components)
    return mine + tuple(
        a
        for p in found
        if not any((r.type, r.name) in covered for r in p.references)
        for a in _each_copy(p, index)
    )


def _each_copy(persona: Persona, index: Index) -> tuple[Access, ...]:
    first = resolve(persona, index)
    counts = [len(index.copies.get(c.key_t, ())) for c in first.components]
    if max(counts, default=0) < 2:
        return (first,)
    variants = [first] + [resolve(persona, index.variant(n)) for n in range(1, max(counts))]
    return tuple(dict.fromkeys(variants))


class Focus(NamedTuple):
    """What a run on named files needs of the project whole (``metadata.loader``): the
    components it evaluates, those with a file ``wanted`` and those of every persona with
    a path ``wanted`` (``Access.paths``: the engine evaluates no other). Any other component
    may be *light* (``metadata.cache.decode``, ``metadata.memo.light_rows``): its first
    grant and its enabled ``keep`` grants, and maybe none of its object grants. Which
    personas there are and what each is built from reads no more of a component than that,
    its licenses, names, labels and members (``detect``, ``signal_of``,
    ``candidates.candidate``, whose permissions are ``candidates.READS``, ``resolve``, which
    reads object grants only for ``Access.objects``), so the light components give the same
    personas."""

    config: Config
    wanted: Callable[[Iterable[str]], bool]
    keep: frozenset[str] = LIGHT
    # Salesforce's standard profiles, so that a persona naming one by its Setup name is
    # resolved here as in the whole load (pipeline.load labels them the same way).
    standard: StandardProfiles | None = None

    def needed(self, components: tuple[Component, ...]) -> set[tuple[ComponentType, str]]:
        """Given the light components: the (type, name) of every one needed whole. Every
        access of a persona counts when one does (the engine evaluates them together)."""
        if self.standard is not None:
            components = self.standard.with_setup_names(components)
        keys = {c.key_t for c in components if self.wanted(c.files)}
        accesses = accesses_for(self.config, components, Index.build(components))
        names = {a.persona.name for a in accesses if self.wanted(a.paths)}
        keys.update(c.key_t for a in accesses if a.persona.name in names for c in a.components)
        return keys
