"""Turn findings into file edits: the admin's Option 1 (``edit``) or Option 2 (``clone``).

The byte-level work lives in ``sflint.fix``; this module decides which files to touch.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

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
from sflint.model import Component, ComponentType, Finding
from sflint.output.edits import ProposedFix, byte_edit

ACTIONS = {"edit": "disable-permission", "clone": "clone-without-permission"}


@dataclass(frozen=True)
class Plan:
    edits: tuple[FileEdit, ...]
    fixed: tuple[Finding, ...]
    notes: tuple[str, ...]  # what the user must know or do next
    errors: tuple[str, ...]


def _fixable(f: Finding, action: str) -> bool:
    return any(o.action == action for o in f.fixes)


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
            data = before
            edit: FileEdit | None = None
            for permission in dict.fromkeys(f.key for f in group):
                edit = plan_disable(file, data, permission, component_type=group[0].component_type)
                if edit is None or edit.after is None:
                    break
                data = edit.after
            if edit is not None and edit.after is None:
                edits.append(FileEdit(file, before, None))
            elif data != before:
                edits.append(FileEdit(file, before, data))
            fixed.extend(group)
        except (OSError, FixError) as exc:
            errors.append(f"{path}: not fixed: {exc}")
    return edits, fixed


def _clone(
    root: Path,
    findings: list[Finding],
    components: dict[tuple[str, str], Component],
    errors: list[str],
) -> tuple[list[FileEdit], list[Finding], list[str]]:
    edits: list[FileEdit] = []
    fixed: list[Finding] = []
    notes: list[str] = []
    existing = {name for (ctype, name) in components if ctype == ComponentType.PERMISSION_SET.value}
    by_component: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in findings:
        by_component[(f.component_type, f.component_name)].append(f)
    for key, group in sorted(by_component.items()):
        component = components[key]
        new_name = clone_name(component.name, existing)
        existing.add(new_name)
        label = clone_label(component.label or component.name)
        permissions = list(dict.fromkeys(f.key for f in group))
        try:
            main = root / component.files[0]
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
        personas = sorted({f.persona for f in group if f.persona})
        notes.append(
            f"Created permission set {new_name} (label {label!r}), a copy of {component.name} "
            f"without {', '.join(permissions)}. Next: assign {new_name} to the integration user "
            f"({', '.join(personas)}), remove its assignment of {component.name}, and replace "
            f"{component.name} with {new_name} in the persona's permission_sets in .sflint.yml."
        )
    return edits, fixed, notes


def plan(
    findings: tuple[Finding, ...], components: tuple[Component, ...], root: Path, strategy: str
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
        edits, fixed, clone_notes = _clone(root, todo, by_key, errors)
        notes.extend(clone_notes)
    else:
        edits, fixed = _disable(root, todo, errors)
    return Plan(tuple(edits), tuple(fixed), tuple(notes), tuple(errors))


def proposed_fixes(
    findings: tuple[Finding, ...], components: tuple[Component, ...], root: Path
) -> dict[str, tuple[ProposedFix, ...]]:
    """Option 1 of each fixable finding as byte edits, for outputs that carry machine fixes
    (SARIF ``fixes``). A fix that deletes a whole file (a decomposed beta grant file) has no
    replacement form in SARIF and is left out."""
    out: dict[str, tuple[ProposedFix, ...]] = {}
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
            out[f.fingerprint] = (ProposedFix(option.title, tuple(edits)),)
    return out
