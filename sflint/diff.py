"""What a change does to who can do what: two checked projects (a base and a head) compared.

Pure: values in, a ``Diff`` out (``commands_diff`` loads the two sides, ``output/diff_*``
render it). Three views of one change:

- **personas**: per persona, the user permissions and object access flags it holds in the
  head and not in the base (gained) and the reverse (lost), each with the components it
  comes through on the side that has it. What a persona holds is what it holds after its
  groups' muting sets (``sflint.access``). Personas are matched by name; a detected
  persona named after a renamed component is matched to the new name.
- **components** added, removed and renamed: a rename is a component of the same type that
  left under one name and arrived under another with (nearly) the same content.
- **findings** introduced and resolved, matched by fingerprint (rule, component, key,
  persona: never lines, DESIGN.md), so a line that only moved is neither.

Highlights are what a release reviewer must not miss: a persona that gains ``TwoFactorApi``
(its API logins will need a second factor), gains a tier-1 or tier-2 permission of the
privilege catalogue (sflint/data/privileged.tsv; SFL008 and SFL012 report them on integration
personas), loses API access (``ApiEnabled``), or becomes privileged (holds a tier-1
permission, Salesforce's own list of privileged permissions, where it held none).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sflint.access import Access, describe
from sflint.catalogue import Catalogue
from sflint.model import (
    Component,
    ComponentType,
    Finding,
    ObjectAccess,
    PersonaKind,
    ValueEnum,
    object_access,
)
from sflint.settings import FailOn

TWO_FACTOR_API = "TwoFactorApi"
API_ENABLED = "ApiEnabled"
# Tiers of the privilege catalogue that a gain highlights, and the tier that makes a
# persona privileged (SFL008's "privileged permission").
HIGHLIGHT_TIERS = frozenset({1, 2})
PRIVILEGED_TIER = 1
# How alike a removed and an added component must be to be one renamed component: the
# share of their grants, object permissions, members and licenses that are the same.
RENAME_SIMILARITY = 0.8


class SideKind(ValueEnum):
    GIT = "git"  # a commit, read from git objects
    WORKTREE = "worktree"  # the working tree as it is
    FOLDER = "folder"  # a folder named on the command line


@dataclass(frozen=True)
class Side:
    """One side of the comparison as the user named it."""

    kind: SideKind
    label: str  # the revision as given, or the folder
    commit: str | None = None

    @property
    def title(self) -> str:
        if self.kind is SideKind.WORKTREE:
            return "working tree"
        if self.commit is not None:
            return f"{self.label} ({self.commit[:12]})"
        return self.label


@dataclass(frozen=True)
class Via:
    """A component a persona holds a grant through, with the grant's place."""

    type: ComponentType
    name: str
    group: str | None  # the permission set group it comes through, if any
    path: str
    line: int

    @property
    def chain(self) -> str:
        steps = [f"permission set group {self.group}"] if self.group else []
        steps.append(describe(Component(self.type, self.name, ())))
        return " → ".join(steps)


@dataclass(frozen=True)
class PermissionChange:
    permission: str
    via: tuple[Via, ...]  # on the side that holds it


@dataclass(frozen=True)
class ObjectChange:
    object: str
    access: tuple[ObjectAccess, ...]  # the flags gained (or lost), in Setup's order
    via: tuple[Via, ...]  # the entries that grant them, on the side that holds them


class HighlightKind(ValueEnum):
    GAINS_TWO_FACTOR_API = "gains-two-factor-api"
    GAINS_PRIVILEGED = "gains-privileged-permission"
    LOSES_API_ACCESS = "loses-api-access"
    BECOMES_PRIVILEGED = "becomes-privileged"


@dataclass(frozen=True)
class Highlight:
    kind: HighlightKind
    text: str  # one sentence for a reviewer
    permission: str | None = None
    tier: int | None = None


class PersonaStatus(ValueEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class PersonaDiff:
    name: str
    kind: PersonaKind
    status: PersonaStatus
    gained: tuple[PermissionChange, ...] = ()
    lost: tuple[PermissionChange, ...] = ()
    objects_gained: tuple[ObjectChange, ...] = ()
    objects_lost: tuple[ObjectChange, ...] = ()
    highlights: tuple[Highlight, ...] = ()
    base_name: str | None = None  # when matched through a rename

    @property
    def changed(self) -> bool:
        return bool(self.gained or self.lost or self.objects_gained or self.objects_lost)


@dataclass(frozen=True)
class ComponentRef:
    type: ComponentType
    name: str
    path: str


@dataclass(frozen=True)
class Rename:
    type: ComponentType
    old: str
    new: str
    old_path: str
    new_path: str


@dataclass(frozen=True)
class Diff:
    base: Side
    head: Side
    added: tuple[ComponentRef, ...]
    removed: tuple[ComponentRef, ...]
    renamed: tuple[Rename, ...]
    personas: tuple[PersonaDiff, ...]  # only those with a change, by name
    introduced: tuple[Finding, ...]
    resolved: tuple[Finding, ...]
    fail_on: FailOn

    @property
    def failing(self) -> tuple[Finding, ...]:
        """The introduced findings at or above ``fail_on``."""
        threshold = self.fail_on.threshold
        if threshold is None:
            return ()
        return tuple(f for f in self.introduced if f.severity.rank >= threshold.rank)

    @property
    def exit_code(self) -> int:
        return 1 if self.failing else 0

    @property
    def highlights(self) -> tuple[tuple[str, Highlight], ...]:
        return tuple((p.name, h) for p in self.personas for h in p.highlights)

    @property
    def empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.renamed
            or self.personas
            or self.introduced
            or self.resolved
        )


@dataclass(frozen=True)
class Loaded:
    """One side, checked: its findings and its personas' access, paths already as shown
    (``prefix`` + the project-relative path)."""

    components: tuple[Component, ...]
    accesses: tuple[Access, ...]
    findings: tuple[Finding, ...]
    prefix: str = ""
    files: int = 0  # permission metadata files read


# --- held access -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Held:
    """What one persona holds on one side, with where each thing comes from."""

    kind: PersonaKind
    permissions: dict[str, tuple[Via, ...]]
    objects: dict[str, dict[ObjectAccess, tuple[Via, ...]]]


def _held(accesses: Iterable[Access], prefix: str) -> dict[str, _Held]:
    """Every persona's effective access, by name; the accesses of one persona (one per copy
    of a component defined twice) are merged."""
    perms: dict[str, dict[str, list[Via]]] = {}
    objects: dict[str, dict[str, dict[ObjectAccess, list[Via]]]] = {}
    kinds: dict[str, PersonaKind] = {}
    for a in accesses:
        name = a.persona.name
        kinds.setdefault(name, a.persona.kind)
        mine = perms.setdefault(name, {})
        for g in a.grants:
            if g.grant.enabled and g.muted_by is None:
                via = _via(g.source, g.group, g.grant.location.path, g.grant.location.line, prefix)
                mine.setdefault(g.grant.name, []).append(via)
        held = objects.setdefault(name, {})
        for o in a.objects:
            via = _via(o.source, o.group, o.grant.location.path, o.grant.location.line, prefix)
            for flag in o.access:
                held.setdefault(o.grant.object, {}).setdefault(flag, []).append(via)
    return {
        name: _Held(
            kinds[name],
            {p: _unique(v) for p, v in perms[name].items()},
            {o: {f: _unique(v) for f, v in flags.items()} for o, flags in objects[name].items()},
        )
        for name in kinds
    }


def _via(source: Component, group: Component | None, path: str, line: int, prefix: str) -> Via:
    return Via(source.type, source.name, group.name if group else None, prefix + path, line)


def _unique(vias: list[Via]) -> tuple[Via, ...]:
    return tuple(sorted(set(vias), key=lambda v: (v.path, v.line, v.group or "")))


def _permission_changes(
    new: dict[str, tuple[Via, ...]], old: dict[str, tuple[Via, ...]]
) -> tuple[PermissionChange, ...]:
    """What ``new`` holds and ``old`` does not, with ``new``'s provenance."""
    return tuple(PermissionChange(p, new[p]) for p in sorted(new) if p not in old)


def _object_changes(
    new: dict[str, dict[ObjectAccess, tuple[Via, ...]]],
    old: dict[str, dict[ObjectAccess, tuple[Via, ...]]],
) -> tuple[ObjectChange, ...]:
    out = []
    for name in sorted(new):
        flags = object_access(f for f in new[name] if f not in old.get(name, {}))
        if flags:
            vias = _unique([v for f in flags for v in new[name][f]])
            out.append(ObjectChange(name, flags, vias))
    return tuple(out)


def _highlights(
    old: _Held | None, new: _Held, gained: tuple[PermissionChange, ...], cat: Catalogue
) -> tuple[Highlight, ...]:
    out: list[Highlight] = []
    for change in gained:
        name = change.permission
        if name == TWO_FACTOR_API:
            out.append(
                Highlight(
                    HighlightKind.GAINS_TWO_FACTOR_API,
                    f"gains {name} ({cat.label(name)}): every API login will need a second factor",
                    name,
                )
            )
        tier = cat.privileged.get(name)
        if tier in HIGHLIGHT_TIERS:
            reason = cat.privilege_reasons.get(name, "")
            out.append(
                Highlight(
                    HighlightKind.GAINS_PRIVILEGED,
                    f"gains {name} ({cat.label(name)}), a tier-{tier} privileged permission"
                    + (f": {reason}" if reason else ""),
                    name,
                    tier,
                )
            )
    if old is not None and API_ENABLED in old.permissions and API_ENABLED not in new.permissions:
        out.append(
            Highlight(
                HighlightKind.LOSES_API_ACCESS,
                f"loses {API_ENABLED} ({cat.label(API_ENABLED)}): it can no longer use the API",
                API_ENABLED,
            )
        )

    def privileged(h: _Held | None) -> list[str]:
        held = h.permissions if h is not None else {}
        return sorted(p for p in held if cat.privileged.get(p) == PRIVILEGED_TIER)

    now = privileged(new)
    if now and not privileged(old):
        out.append(
            Highlight(
                HighlightKind.BECOMES_PRIVILEGED,
                f"becomes privileged: it now holds {', '.join(now)}",
                now[0],
                PRIVILEGED_TIER,
            )
        )
    return tuple(out)


def _persona_diffs(
    base: dict[str, _Held], head: dict[str, _Held], renamed: dict[str, str], cat: Catalogue
) -> tuple[PersonaDiff, ...]:
    # A detected persona is named after its component: follow the component's rename.
    base = {renamed.get(name, name): held for name, held in base.items()}
    old_names = {new: old for old, new in renamed.items()}
    out = []
    for name in sorted(set(base) | set(head)):
        old, new = base.get(name), head.get(name)
        if new is None:
            assert old is not None
            lost = _permission_changes(old.permissions, {})
            objects = _object_changes(old.objects, {})
            if lost or objects:
                out.append(
                    PersonaDiff(
                        name, old.kind, PersonaStatus.REMOVED, lost=lost, objects_lost=objects
                    )
                )
            continue
        empty = _Held(new.kind, {}, {})
        before = old or empty
        gained = _permission_changes(new.permissions, before.permissions)
        diff = PersonaDiff(
            name,
            new.kind,
            PersonaStatus.ADDED if old is None else PersonaStatus.CHANGED,
            gained=gained,
            lost=_permission_changes(before.permissions, new.permissions),
            objects_gained=_object_changes(new.objects, before.objects),
            objects_lost=_object_changes(before.objects, new.objects),
            highlights=_highlights(old, new, gained, cat),
            base_name=old_names.get(name) if old is not None else None,
        )
        if diff.changed or diff.highlights:
            out.append(diff)
    return tuple(out)


# --- components --------------------------------------------------------------------------------


def _content(c: Component) -> frozenset[tuple[str, ...]]:
    """What a component grants and names, without names of its own, paths or lines."""
    items: set[tuple[str, ...]] = {("u", g.name, str(g.enabled)) for g in c.grants}
    items |= {("o", o.object, *(a.value for a in o.access)) for o in c.object_grants}
    items |= {("m", m.name) for m in c.members}
    items |= {("x", m.name) for m in c.muting_members}
    items |= {(k, v) for k, v in (("l", c.license), ("ul", c.user_license)) if v is not None}
    return frozenset(items)


def _similarity(a: Component, b: Component) -> float:
    ca, cb = _content(a), _content(b)
    if not ca and not cb:
        return 1.0 if a.label is not None and a.label == b.label else 0.0
    return len(ca & cb) / len(ca | cb)


def _first_copies(components: Iterable[Component]) -> dict[tuple[ComponentType, str], Component]:
    out: dict[tuple[ComponentType, str], Component] = {}
    for c in components:
        out.setdefault(c.key_t, c)
    return out


def _components(
    base: Loaded, head: Loaded
) -> tuple[tuple[ComponentRef, ...], tuple[ComponentRef, ...], tuple[Rename, ...]]:
    old, new = _first_copies(base.components), _first_copies(head.components)
    gone = sorted(k for k in old if k not in new)
    came = sorted(k for k in new if k not in old)
    # Best pairs first; each component is part of at most one rename.
    pairs = sorted(
        ((-_similarity(old[g], new[c]), g, c) for g in gone for c in came if g[0] is c[0]),
        key=lambda t: (t[0], t[1][1], t[2][1]),
    )
    renames: list[Rename] = []
    used: set[tuple[ComponentType, str]] = set()
    for score, g, c in pairs:
        if -score < RENAME_SIMILARITY or g in used or c in used:
            continue
        used |= {g, c}
        renames.append(
            Rename(
                g[0],
                g[1],
                c[1],
                base.prefix + old[g].location.path,
                head.prefix + new[c].location.path,
            )
        )
    added = tuple(
        ComponentRef(k[0], k[1], head.prefix + new[k].location.path) for k in came if k not in used
    )
    removed = tuple(
        ComponentRef(k[0], k[1], base.prefix + old[k].location.path) for k in gone if k not in used
    )
    return added, removed, tuple(sorted(renames, key=lambda r: (r.type.value, r.old)))


# --- the comparison ----------------------------------------------------------------------------


def compare(
    base: Loaded,
    head: Loaded,
    catalogue: Catalogue,
    *,
    base_side: Side,
    head_side: Side,
    fail_on: FailOn,
) -> Diff:
    added, removed, renamed = _components(base, head)
    names = {
        describe(Component(r.type, r.old, ())): describe(Component(r.type, r.new, ()))
        for r in renamed
    }
    personas = _persona_diffs(
        _held(base.accesses, base.prefix), _held(head.accesses, head.prefix), names, catalogue
    )
    # By the elements each finding stands for (``Finding.units``): an aggregated finding
    # that gains an object is introduced again (its message counts them all); one is
    # resolved when none of its elements is left (losing some shows as lost access).
    old = {u[0] for f in base.findings for u in f.units}
    new = {u[0] for f in head.findings for u in f.units}
    return Diff(
        base=base_side,
        head=head_side,
        added=added,
        removed=removed,
        renamed=renamed,
        personas=personas,
        introduced=tuple(
            sorted((f for f in head.findings if any(u[0] not in old for u in f.units)), key=_order)
        ),
        resolved=tuple(
            sorted((f for f in base.findings if all(u[0] not in new for u in f.units)), key=_order)
        ),
        fail_on=fail_on,
    )


def _order(f: Finding) -> tuple[int, str, int, str, str, str]:
    """Most severe first, then by place: what a reviewer reads first."""
    return (-f.severity.rank, f.path, f.line, f.rule, f.persona or "", f.key)
