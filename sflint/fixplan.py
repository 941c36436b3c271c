"""Turn findings into file edits: the admin's Option 1 (``edit``) or Option 2 (``clone``).

The byte-level work lives in ``sflint.fix``; this module decides which files to touch.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sflint.config import Config
from sflint.fix import (
    FileEdit,
    FixError,
    clone_label,
    clone_name,
    disable_permission,
    plan_clone,
    plan_clone_decomposed,
    plan_disable,
)
from sflint.model import CloneNaming, Component, ComponentType, Finding
from sflint.output.edits import ProposedFix, byte_edit

ACTIONS = {"edit": "disable-permission", "clone": "clone-without-permission"}


@dataclass(frozen=True)
class Plan:
    edits: tuple[FileEdit, ...]
    fixed: tuple[Finding, ...]
    notes: tuple[str, ...]  # what the user must know or do next
    errors: tuple[str, ...]


@dataclass(frozen=True)
class _Clone:
    component: Component
    new_name: str
    findings: tuple[Finding, ...]


def _earlier_clone(
    component: Component,
    permissions: list[str],
    components: dict[tuple[str, str], Component],
    naming: CloneNaming,
) -> Component | None:
    """A clone that an earlier ``--fix-strategy clone`` wrote (``<name><suffix>`` or
    ``..._N``) and that still lacks the permissions."""
    base = clone_name(component.name, set(), naming.name_suffix)
    for (ctype, name), other in sorted(components.items()):
        if ctype != ComponentType.PERMISSION_SET.value or other is component:
            continue
        suffix = name[len(base) :]
        if (
            name.casefold().startswith(base.casefold())
            and (not suffix or (suffix[:1] == "_" and suffix[1:].isdigit()))
            and not any(other.enabled(p) for p in permissions)
        ):
            return other
    return None


def _fixable(f: Finding, action: str) -> bool:
    return any(o.action == action for o in f.fixes)


def _naming(findings: list[Finding]) -> CloneNaming:
    """The clone naming of the first finding's clone option (the rule's choice)."""
    for f in findings:
        for o in f.fixes:
            if o.action == ACTIONS["clone"] and o.clone is not None:
                return o.clone
    raise FixError("the rule's clone option names no clone suffix")


def _disable(
    root: Path, findings: list[Finding], errors: list[str]
) -> tuple[list[FileEdit], list[Finding]]:
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_file[f.path].append(f)
    edits: list[FileEdit] = []
    fixed: list[Finding] = []
    for path, group in sorted(by_file.items()):
        file = root / path
        try:
            before = file.read_bytes()
            data: bytes | None = before
            done: set[str] = set()
            for permission in dict.fromkeys(f.key for f in group):
                if data is None:
                    break  # the file is deleted: it was a decomposed grant file
                edit = plan_disable(file, data, permission, component_type=group[0].component_type)
                if edit is None:
                    continue  # nothing enabled to disable for this one; the others still go
                data = edit.after
                done.add(permission)
        except (OSError, FixError) as exc:
            errors.append(f"{path}: not fixed: {exc}")
            continue
        if data != before:
            edits.append(FileEdit(file, before, data))
        fixed.extend(f for f in group if f.key in done)
    return edits, fixed


def _clone(
    root: Path,
    findings: list[Finding],
    components: dict[tuple[str, str], Component],
    errors: list[str],
) -> tuple[list[FileEdit], list[Finding], list[str], list[_Clone]]:
    edits: list[FileEdit] = []
    fixed: list[Finding] = []
    notes: list[str] = []
    clones: list[_Clone] = []
    existing = {name for (ctype, name) in components if ctype == ComponentType.PERMISSION_SET.value}
    by_component: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in findings:
        by_component[(f.component_type, f.component_name)].append(f)
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
            main = root / (component.anchor.path if component.anchor else component.files[0])
            decomposed = any(p.endswith(".userPermission-meta.xml") for p in component.files)
            if decomposed:
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
                for permission in permissions[1:]:
                    new = tuple(
                        FileEdit(
                            e.path,
                            None,
                            disable_permission(e.after, permission, component_type="PermissionSet"),
                        )
                        if e.after is not None
                        and e.path.name.endswith(".userPermission-meta.xml")
                        and b"<PermissionSet" in e.after
                        else e
                        for e in new
                    )
            else:
                edit = plan_clone(
                    main, main.read_bytes(), permissions[0], new_name=new_name, new_label=label
                )
                after = edit.after or b""
                for permission in permissions[1:]:
                    after = disable_permission(after, permission, component_type="PermissionSet")
                new = (FileEdit(edit.path, None, after),)
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
    config: Config | None, components: dict[tuple[str, str], Component], clones: list[_Clone]
) -> list[tuple[str, int, str, str, str]]:
    """Where the project names each cloned set for the persona: the persona's entry in
    ``.sflint.yml`` and the group that pulls the set in. Each is (path, line, old, new, who)."""
    groups = {
        path: c
        for c in components.values()
        if c.type is ComponentType.PERMISSION_SET_GROUP
        for path in c.files
    }
    out: list[tuple[str, int, str, str, str]] = []
    for clone in clones:
        old = clone.component
        for f in clone.findings:
            for path in f.related_paths:
                group = groups.get(path)
                for m in group.members if group else ():
                    if m.name == old.name and m.location.path == path:
                        who = f"permission set group {group.name if group else ''}"
                        out.append((path, m.location.line, old.name, clone.new_name, who))
        for persona in config.personas if config is not None else ():
            for ref in persona.references:
                if ref.type == "PermissionSet" and ref.name in (old.name, old.label):
                    where = ref.location
                    out.append(
                        (
                            where.path,
                            where.line,
                            ref.name,
                            clone.new_name,
                            f"persona {persona.name!r}",
                        )
                    )
    return list(dict.fromkeys(out))


def _rename_edits(
    root: Path, renames: list[tuple[str, int, str, str, str]]
) -> tuple[list[FileEdit], list[str]]:
    """Replace a name on its line, only where it stands alone exactly once on that line."""
    edits: list[FileEdit] = []
    notes: list[str] = []
    for path in sorted({r[0] for r in renames}):
        file = root / path
        try:
            before = file.read_bytes()
        except OSError:
            continue
        lines = before.splitlines(keepends=True)
        for _, line, old, new, who in (r for r in renames if r[0] == path):
            pattern = re.compile(rb"(?<![\w-])" + re.escape(old.encode()) + rb"(?![\w-])")
            if not 0 < line <= len(lines) or len(pattern.findall(lines[line - 1])) != 1:
                notes.append(f"{path}:{line}: replace {old} with {new} by hand ({who}).")
                continue
            lines[line - 1] = pattern.sub(new.encode(), lines[line - 1])
            notes.append(f"{path}:{line}: {who} now names {new} instead of {old}.")
        after = b"".join(lines)
        if after != before:
            edits.append(FileEdit(file, before, after))
    return edits, notes


def plan(
    findings: tuple[Finding, ...],
    components: tuple[Component, ...],
    root: Path,
    strategy: str,
    config: Config | None = None,
) -> Plan:
    errors: list[str] = []
    notes: list[str] = []
    by_key = {c.key: c for c in components}
    action = ACTIONS[strategy]
    todo = [f for f in findings if _fixable(f, action)]
    if strategy == "clone":
        profiles = [
            f for f in findings if f.component_type == "Profile" and _fixable(f, ACTIONS["edit"])
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
    else:
        edits, fixed = _disable(root, todo, errors)
    return Plan(tuple(edits), tuple(fixed), tuple(notes), tuple(errors))


def proposed_fixes(
    findings: tuple[Finding, ...], components: tuple[Component, ...], root: Path
) -> dict[tuple[str, str], tuple[ProposedFix, ...]]:
    """Option 1 of each fixable finding as byte edits, for outputs that carry machine fixes
    (SARIF ``fixes``). A fix that deletes a whole file (a decomposed beta grant file) has no
    replacement form in SARIF and is left out."""
    out: dict[tuple[str, str], tuple[ProposedFix, ...]] = {}
    for f in findings:
        option = next((o for o in f.fixes if o.action == ACTIONS["edit"]), None)
        if option is None:
            continue
        edits = []
        for edit in plan((f,), components, root, "edit").edits:
            if edit.before is None or edit.after is None:
                continue
            rel = edit.path.relative_to(root).as_posix()
            change = byte_edit(rel, edit.before, edit.after)
            if change is not None:
                edits.append(change)
        if edits:
            out[(f.path, f.fingerprint)] = (ProposedFix(option.title, tuple(edits)),)
    return out
