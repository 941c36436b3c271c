"""Turn findings into file edits: the admin's Option 1 (``edit``) or Option 2 (``clone``).

The byte-level work lives in :mod:`sflint.fix.ops`; this module decides which files to
touch. Each file is read, scanned and verified once however many findings it has: the edit
strategy disables all of a file's permissions in one pass and keeps each finding's share of
the change apart, so ``--fix``, ``--diff`` and the SARIF ``fixes`` of every result come from
the same plan (a file with thousands of findings is not re-planned once per finding).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sflint.config import Config
from sflint.fix.ops import (
    Disabled,
    clone_label,
    clone_name,
    disable_permissions,
    plan_clone,
    plan_clone_decomposed,
)
from sflint.fix.values import ByteEdit, FileEdit, FixError, Plan, ProposedFix
from sflint.model import CloneNaming, Component, ComponentType, Finding

__all__ = ["ACTIONS", "plan", "proposed_fixes"]

ACTIONS = {"edit": "disable-permission", "clone": "clone-without-permission"}


@dataclass(frozen=True)
class _Clone:
    component: Component
    new_name: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class _Rename:
    """Where the project names a cloned set: replace ``old`` with ``new`` on ``line``."""

    path: str
    line: int
    old: str
    new: str
    who: str  # "persona 'X'" or "permission set group Y", for the note


def _fixable(f: Finding, action: str) -> bool:
    return any(o.action == action for o in f.fixes)


# --------------------------------------------------------------------------------------------
# Option 1: edit the file that grants the permission


def _disable(
    root: Path, findings: list[Finding], errors: list[str]
) -> tuple[list[FileEdit], list[Finding], list[tuple[Finding, tuple[ByteEdit, ...]]]]:
    """One edit per file, the findings it fixes, and each fixed finding's own byte edits."""
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_file[f.path].append(f)
    edits: list[FileEdit] = []
    fixed: list[Finding] = []
    changes: list[tuple[Finding, tuple[ByteEdit, ...]]] = []
    for path, group in sorted(by_file.items()):
        file = root / path
        ctype = group[0].component_type
        if ctype is None:
            errors.append(f"{path}: not fixed: the finding is about a persona, not a component")
            continue
        try:
            before = file.read_bytes()
            done: Disabled = disable_permissions(
                before, [f.key for f in group], component_type=ctype
            )
        except (OSError, FixError) as exc:
            errors.append(f"{path}: not fixed: {exc}")
            continue
        if done.after != before:
            edits.append(FileEdit(file, before, done.after))
        shares = dict(done.shares)
        for f in group:
            if f.key in shares:  # else nothing enabled to disable for this one
                fixed.append(f)
                share = tuple(
                    ByteEdit(path, s.start, s.end - s.start, s.replacement) for s in shares[f.key]
                )
                changes.append((f, share))
    return edits, fixed, changes


# --------------------------------------------------------------------------------------------
# Option 2: a clone of the permission set without the permission


def _earlier_clone(
    component: Component,
    permissions: list[str],
    components: dict[tuple[ComponentType, str], Component],
    naming: CloneNaming,
) -> Component | None:
    """A clone that an earlier ``--fix-strategy clone`` wrote (``<name><suffix>`` or
    ``..._N``) and that still lacks the permissions."""
    base = clone_name(component.name, set(), naming.name_suffix)
    for (ctype, name), other in sorted(components.items()):
        if ctype is not ComponentType.PERMISSION_SET or other is component:
            continue
        suffix = name[len(base) :]
        if (
            name.casefold().startswith(base.casefold())
            and (not suffix or (suffix[:1] == "_" and suffix[1:].isdigit()))
            and not any(other.enabled(p) for p in permissions)
        ):
            return other
    return None


def _naming(findings: list[Finding]) -> CloneNaming:
    """The clone naming of the first finding's clone option (the rule's choice)."""
    for f in findings:
        for o in f.fixes:
            if o.action == ACTIONS["clone"] and o.clone is not None:
                return o.clone
    raise FixError("the rule's clone option names no clone suffix")


def _without_rest(data: bytes, permissions: list[str]) -> bytes:
    """``data`` with the permissions after the first disabled too (the clone already lacks
    the first)."""
    if len(permissions) == 1:
        return data
    rest = permissions[1:]
    after = disable_permissions(data, rest, component_type=ComponentType.PERMISSION_SET).after
    assert after is not None  # a <PermissionSet> root, never a deleted beta1 file
    return after


def _clone_files(
    root: Path, component: Component, permissions: list[str], new_name: str, label: str
) -> tuple[FileEdit, ...]:
    """The files of a clone of ``component`` named ``new_name``, without ``permissions``."""
    main = root / (component.anchor.path if component.anchor else component.files[0])
    if not any(p.endswith(".userPermission-meta.xml") for p in component.files):
        edit = plan_clone(
            main, main.read_bytes(), permissions[0], new_name=new_name, new_label=label
        )
        return (FileEdit(edit.path, None, _without_rest(edit.after or b"", permissions)),)
    folder = main.parent
    files = {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    new = plan_clone_decomposed(
        folder.parent / new_name,
        files,
        permissions[0],
        old_name=component.name,
        new_name=new_name,
        new_label=label,
    )
    # The beta2 grant file of the clone: the other permissions go there too.
    return tuple(
        FileEdit(e.path, None, _without_rest(e.after, permissions))
        if e.after is not None
        and e.path.name.endswith(".userPermission-meta.xml")
        and b"<PermissionSet" in e.after
        else e
        for e in new
    )


def _clone(
    root: Path,
    findings: list[Finding],
    components: dict[tuple[ComponentType, str], Component],
    errors: list[str],
) -> tuple[list[FileEdit], list[Finding], list[str], list[_Clone]]:
    # One pass per cloned component: naming, reuse of an earlier clone, the files, the note;
    # the steps share the bookkeeping lists, hence the length.
    edits: list[FileEdit] = []
    fixed: list[Finding] = []
    notes: list[str] = []
    clones: list[_Clone] = []
    existing = {name for (ctype, name) in components if ctype is ComponentType.PERMISSION_SET}
    by_component: dict[tuple[ComponentType, str], list[Finding]] = defaultdict(list)
    for f in findings:
        if f.component_type is None:
            why = "the finding is about a persona, not a component"
        elif (f.component_type, f.component_name) not in components:
            why = f"no {f.type_name} {f.component_name} in the project"
        else:
            by_component[(f.component_type, f.component_name)].append(f)
            continue
        if f"{f.path}: not cloned: {why}" not in errors:
            errors.append(f"{f.path}: not cloned: {why}")
    for key, group in sorted(by_component.items()):
        component = components[key]
        permissions = list(dict.fromkeys(f.key for f in group))
        try:
            naming = _naming(group)
        except FixError as exc:
            errors.append(f"{component.files[0]}: not cloned: {exc}")
            continue
        earlier = _earlier_clone(component, permissions, components, naming)
        if earlier is not None:
            # A second run must change nothing: point at the clone made before.
            clones.append(_Clone(component, earlier.name, tuple(group)))
            notes.append(
                f"{earlier.name} already is a copy of {component.name} without "
                f"{', '.join(permissions)}: give it to the integration user in place of "
                f"{component.name}."
            )
            continue
        new_name = clone_name(component.name, existing, naming.name_suffix)
        existing.add(new_name)
        label = clone_label(component.label or component.name, naming.label_suffix)
        try:
            new = _clone_files(root, component, permissions, new_name, label)
        except (OSError, FixError) as exc:
            errors.append(f"{component.files[0]}: not cloned: {exc}")
            continue
        edits.extend(new)
        fixed.extend(group)
        clones.append(_Clone(component, new_name, tuple(group)))
        personas = sorted({f.persona for f in group if f.persona})
        notes.append(
            f"Created permission set {new_name} (label {label!r}), a copy of {component.name} "
            f"without {', '.join(permissions)}. Next: in the org, give the integration user "
            f"({', '.join(personas)}) {new_name} wherever it now gets {component.name} (its "
            "assignments, or the permission set group that includes it), and deploy."
        )
    return edits, fixed, notes, clones


def _renames(
    config: Config | None,
    components: dict[tuple[ComponentType, str], Component],
    clones: list[_Clone],
) -> list[_Rename]:
    """Where the project names each cloned set for the persona: the persona's entry in
    ``.sflint.yml`` and the group that pulls the set in."""
    groups = {
        path: c
        for c in components.values()
        if c.type is ComponentType.PERMISSION_SET_GROUP
        for path in c.files
    }
    out: list[_Rename] = []
    for clone in clones:
        old = clone.component
        for f in clone.findings:
            for path in f.related_paths:
                group = groups.get(path)
                for m in group.members if group else ():
                    if m.name == old.name and m.location.path == path:
                        who = f"permission set group {group.name if group else ''}"
                        out.append(_Rename(path, m.location.line, old.name, clone.new_name, who))
        for persona in config.personas if config is not None else ():
            for ref in persona.references:
                if ref.type is ComponentType.PERMISSION_SET and ref.name in (old.name, old.label):
                    where = ref.location
                    who = f"persona {persona.name!r}"
                    out.append(_Rename(where.path, where.line, ref.name, clone.new_name, who))
    return list(dict.fromkeys(out))


def _rename_edits(root: Path, renames: list[_Rename]) -> tuple[list[FileEdit], list[str]]:
    """Replace a name on its line, only where it stands alone exactly once on that line."""
    edits: list[FileEdit] = []
    notes: list[str] = []
    for path in sorted({r.path for r in renames}):
        file = root / path
        try:
            before = file.read_bytes()
        except OSError:
            continue
        lines = before.splitlines(keepends=True)
        for r in (r for r in renames if r.path == path):
            pattern = re.compile(rb"(?<![\w-])" + re.escape(r.old.encode()) + rb"(?![\w-])")
            if not 0 < r.line <= len(lines) or len(pattern.findall(lines[r.line - 1])) != 1:
                notes.append(f"{path}:{r.line}: replace {r.old} with {r.new} by hand ({r.who}).")
                continue
            lines[r.line - 1] = pattern.sub(r.new.encode(), lines[r.line - 1])
            notes.append(f"{path}:{r.line}: {r.who} now names {r.new} instead of {r.old}.")
        after = b"".join(lines)
        if after != before:
            edits.append(FileEdit(file, before, after))
    return edits, notes


# --------------------------------------------------------------------------------------------
# Entry points


def plan(
    findings: tuple[Finding, ...],
    components: tuple[Component, ...],
    root: Path,
    strategy: str,
    config: Config | None = None,
) -> Plan:
    """What ``--fix`` with ``strategy`` (``edit`` or ``clone``) does for ``findings`` in the
    project at ``root``. A file that cannot be fixed is an error of the plan; the other
    files are still fixed."""
    errors: list[str] = []
    notes: list[str] = []
    by_key = {c.key_t: c for c in components}
    action = ACTIONS[strategy]
    todo = [f for f in findings if _fixable(f, action)]
    if strategy != "clone":
        edits, fixed, changes = _disable(root, todo, errors)
        return Plan(tuple(edits), tuple(fixed), (), tuple(errors), tuple(changes))
    profiles = [
        f
        for f in findings
        if f.component_type is ComponentType.PROFILE and _fixable(f, ACTIONS["edit"])
    ]
    why = (
        "A user has exactly one profile and a permission set cannot take a permission away,"
        " so cloning a set does not help; run --fix-strategy edit to set it false in the"
        " profile, or clone the profile in Setup and give it to the integration user."
    )
    for f in profiles:
        notes.append(
            f"{f.path}:{f.line}: not cloned: {f.key} is granted by profile "
            f"{f.component_name}. {why}"
        )
    edits, fixed, clone_notes, clones = _clone(root, todo, by_key, errors)
    notes.extend(clone_notes)
    rename_edits, rename_notes = _rename_edits(root, _renames(config, by_key, clones))
    edits.extend(rename_edits)
    notes.extend(rename_notes)
    return Plan(tuple(edits), tuple(fixed), tuple(notes), tuple(errors))


def proposed_fixes(
    findings: tuple[Finding, ...], components: tuple[Component, ...], root: Path
) -> dict[tuple[str, str], tuple[ProposedFix, ...]]:
    """Option 1 of each fixable finding as byte edits, for outputs that carry machine fixes
    (SARIF ``fixes``), from the plan ``--fix`` would carry out. A fix that deletes a whole
    file (a decomposed beta grant file) has no replacement form in SARIF and is left out."""
    out: dict[tuple[str, str], tuple[ProposedFix, ...]] = {}
    for f, edits in plan(findings, components, root, "edit").changes:
        option = next(o for o in f.fixes if o.action == ACTIONS["edit"])
        if edits:
            out[(f.path, f.fingerprint)] = (ProposedFix(option.title, edits),)
    return out
