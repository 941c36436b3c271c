"""Option 3 (``--fix-strategy mute``): mute a permission in the muting permission set of the
group through which the persona gets it.

An enabled permission in a muting permission set removes it from the group that lists the
set, and only from that group: the same permission from the profile, a directly assigned
set or another group still applies (Metadata API Developer Guide, MutingPermissionSet;
Salesforce Help ``perm_set_groups_muting.htm``; SALESFORCE.md, Muting). A group has at most
one muting permission set. So, per group:

* the group lists a muting set of the project: the permissions are added to it;
* it lists none: a new muting set ``<Group>_Muting`` is written next to the group (in a
  ``mutingpermissionsets`` folder beside the group's folder, in the group's format) and
  listed in the group's ``<mutingPermissionSets>``;
* it lists one the project lacks (a managed package's, or never retrieved): refused.

A group's changes are one unit: written together or not at all (:mod:`sflint.fix.write`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sflint.fix.insert import add_muting_member, mute_permissions, new_muting_set
from sflint.fix.ops import CloneNames, clone_label
from sflint.fix.values import FileEdit, FixError, Unit
from sflint.kinds import kind_of
from sflint.model import Component, ComponentType, Finding

__all__ = ["MUTE", "plan_mute"]

MUTE = "mute-permission"
# How a muting set made for a group is named: <Group>_Muting, label "<Group label> Muting".
_NAME_SUFFIX = "_Muting"
_LABEL_SUFFIX = " Muting"
# The folder Salesforce DX retrieves muting permission sets into (source-deploy-retrieve
# registry, mutingpermissionset directoryName).
_FOLDER = "mutingpermissionsets"

Components = dict[tuple[ComponentType, str], Component]


@dataclass(frozen=True)
class _Plan:
    """What muting takes: units to write, notes that hold either way, refusals."""

    units: tuple[Unit, ...]
    general: tuple[str, ...]
    errors: tuple[str, ...]


class _Refused(Exception):
    """A group cannot be muted; the message says why (private)."""


def _group_of(f: Finding, groups: dict[str, list[Component]]) -> Component | None:
    """The group through which the finding's set reaches its persona: the group among the
    finding's related files that lists the set."""
    for path in f.related_paths:
        for g in groups.get(path, ()):
            if any(m.name == f.component_name for m in g.members):
                return g
    return None


def _read(root: Path, rel: str) -> bytes:
    from sflint.safeio import METADATA_LIMIT, Refused, read_bytes

    try:
        return read_bytes(root / rel, root, METADATA_LIMIT)
    except Refused as exc:
        raise _Refused(f"{rel} {exc.reason}") from None


def _main(c: Component) -> str:
    return c.anchor.path if c.anchor else c.files[0]


def _new_path(group_file: str, name: str) -> str:
    """Where a new muting set for the group in ``group_file`` goes, in the group's format."""
    group_kind = kind_of(ComponentType.PERMISSION_SET_GROUP)
    muting_kind = kind_of(ComponentType.MUTING_PERMISSION_SET)
    suffix = (
        muting_kind.mdapi_suffix
        if group_file.endswith(group_kind.mdapi_suffix)
        else muting_kind.source_suffix
    )
    folder = Path(group_file).parent.parent
    return (folder / _FOLDER / f"{name}{suffix}").as_posix()


def _unit(
    root: Path,
    group: Component,
    findings: list[Finding],
    components: Components,
    names: CloneNames,
) -> Unit:
    """The edits that mute the findings' permissions in ``group``, as one unit."""
    permissions = sorted({f.key for f in findings})
    listed = [m.name for m in group.muting_members]
    what = ", ".join(permissions)
    gfile = _main(group)
    if listed:
        muting = components.get((ComponentType.MUTING_PERMISSION_SET, listed[0]))
        if muting is None:
            raise _Refused(
                f"its muting permission set {listed[0]} is not in the project; mute {what}"
                " in it in Setup, or retrieve it"
            )
        mfile = _main(muting)
        before = _read(root, mfile)
        after = mute_permissions(before, permissions)
        edits: tuple[FileEdit, ...] = (FileEdit(root / mfile, before, after),)
        where = would_where = f"muting permission set {muting.name} ({mfile})"
    else:
        name = names.take(group.name, _NAME_SUFFIX)
        label = clone_label(group.label or group.name, _LABEL_SUFFIX)
        gbefore = _read(root, gfile)
        mfile = _new_path(gfile, name)
        created = new_muting_set(label, permissions, gbefore)
        edits = (
            FileEdit(root / mfile, None, created),
            FileEdit(root / gfile, gbefore, add_muting_member(gbefore, name)),
        )
        where = f"new muting permission set {name} ({mfile}), now listed in {gfile},"
        would_where = f"a new muting permission set {name} ({mfile}), listed in {gfile},"
    sets = ", ".join(sorted({f.component_name for f in findings}))
    done = (
        f"Muted {what} in {where} for permission set group {group.name}: the group's users no"
        f" longer get it through the group; whoever is assigned {sets} directly, or through"
        " another group, keeps it. Next: deploy the group and its muting permission set."
    )
    would = (
        f"Would mute {what} in {would_where} for permission set group {group.name}"
        " (--fix writes it)."
    )
    return Unit(
        edits=edits,
        fixed=tuple(findings),
        done=(done,),
        would=(would,),
        subject=gfile,
        failure="not muted",
    )


def plan_mute(findings: list[Finding], components: Components, root: Path) -> _Plan:
    """Mute each finding's permission in the group its grant comes through; findings that
    come through no group are named with what applies instead."""
    groups: dict[str, list[Component]] = defaultdict(list)
    for c in components.values():
        if c.type is ComponentType.PERMISSION_SET_GROUP:
            for path in c.files:
                groups[path].append(c)
    by_group: dict[tuple[ComponentType, str], list[Finding]] = defaultdict(list)
    general: list[str] = []
    for f in findings:
        group = _group_of(f, groups) if any(o.action == MUTE for o in f.fixes) else None
        if group is None:
            general.append(
                f"{f.path}:{f.line}: not muted: {f.key} does not reach persona"
                f" {f.persona or '?'} through a permission set group; --fix-strategy edit or"
                " clone applies instead."
            )
            continue
        by_group[group.key_t].append(f)
    taken = (
        n
        for (t, n) in components
        if t in (ComponentType.PERMISSION_SET, ComponentType.MUTING_PERMISSION_SET)
    )
    names = CloneNames(taken)
    units: list[Unit] = []
    errors: list[str] = []
    for key, group_findings in sorted(by_group.items()):
        group = components[key]
        try:
            units.append(_unit(root, group, group_findings, components, names))
        except (_Refused, FixError) as exc:
            errors.append(f"{_main(group)}: not muted: {exc}")
    return _Plan(tuple(units), tuple(general), tuple(errors))
