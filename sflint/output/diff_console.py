"""``sflint diff`` on the console: highlights first, then each persona's gains and losses
with the components they come through, the components added, removed and renamed, and the
findings introduced and resolved. Pure: a ``Diff`` in, text out; every line is made inert
(sflint.sanitize), as everything in it comes from the repository."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sflint.sanitize import line_start

if TYPE_CHECKING:
    from sflint.diff import Diff, ObjectChange, PermissionChange, PersonaDiff, Via
    from sflint.model import Finding


def _vias(vias: tuple[Via, ...]) -> str:
    return "; ".join(f"{v.chain}  ({v.path}:{v.line})" for v in vias)


def _permission(mark: str, c: PermissionChange) -> str:
    return f"  {mark} {c.permission}  ← {_vias(c.via)}"


def _object(mark: str, c: ObjectChange) -> str:
    flags = ", ".join(a.label for a in c.access)
    return f"  {mark} object {c.object}: {flags}  ← {_vias(c.via)}"


def _persona(p: PersonaDiff) -> list[str]:
    status = {"added": " (new persona)", "removed": " (no longer a persona)"}.get(
        p.status.value, ""
    )
    renamed = f" (was {p.base_name})" if p.base_name and p.base_name != p.name else ""
    lines = [f"Persona {p.name} [{p.kind.value}]{status}{renamed}"]
    lines += [_permission("+", c) for c in p.gained]
    lines += [_permission("-", c) for c in p.lost]
    lines += [_object("+", c) for c in p.objects_gained]
    lines += [_object("-", c) for c in p.objects_lost]
    return lines


def _finding(mark: str, f: Finding) -> str:
    message = " ".join(f.message.split())
    return f"  {mark} {f.path}:{f.line}: {f.rule} [{f.severity.value}] {message}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render(diff: Diff) -> str:
    lines = [f"sflint diff: {diff.base.title} → {diff.head.title}"]
    if diff.empty:
        lines.append("No change in access, components or findings.")
    highlights = diff.highlights
    if highlights:
        lines += ["", f"Highlights: {len(highlights)}"]
        lines += [f"  ! {name} {h.text}" for name, h in highlights]
    for p in diff.personas:
        lines += ["", *_persona(p)]
    if diff.added or diff.removed or diff.renamed:
        lines += [
            "",
            f"Components: {len(diff.added)} added, {len(diff.removed)} removed,"
            f" {len(diff.renamed)} renamed",
        ]
        lines += [f"  + {c.type.value} {c.name}  ({c.path})" for c in diff.added]
        lines += [f"  - {c.type.value} {c.name}  ({c.path})" for c in diff.removed]
        lines += [
            f"  ~ {r.type.value} {r.old} → {r.new}  ({r.old_path} → {r.new_path})"
            for r in diff.renamed
        ]
    if diff.introduced or diff.resolved:
        lines += ["", f"Findings: {len(diff.introduced)} introduced, {len(diff.resolved)} resolved"]
        lines += [_finding("+", f) for f in diff.introduced]
        lines += [_finding("-", f) for f in diff.resolved]
    failing = len(diff.failing)
    threshold = diff.fail_on.value
    lines.append("")
    if diff.fail_on.threshold is None:
        lines.append("Result: --fail-on never; the change passes.")
    elif failing:
        lines.append(
            f"Result: the change introduces {_count(failing, 'finding')} at or above {threshold}."
        )
    else:
        lines.append(f"Result: the change introduces no finding at or above {threshold}.")
    return "".join(f"{line_start(line)}\n" for line in lines)
