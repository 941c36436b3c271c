"""``sflint diff`` as GitHub Flavored Markdown, for a pull request comment or
``$GITHUB_STEP_SUMMARY``: highlights first, then personas, components and findings.

Everything from the repository goes through ``output.markdown``'s ``escape`` and ``code``
(no HTML, headings, tables, mentions or links from a name). Each item stays on one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sflint.output.markdown import code, escape
from sflint.sanitize import inert

if TYPE_CHECKING:
    from sflint.diff import Diff, ObjectChange, PermissionChange, PersonaDiff, Via
    from sflint.model import Finding


def _text(text: str) -> str:
    """On one line: a line break in a name or message is shown as ``\\n``
    (sflint.sanitize) before the markdown escapes apply."""
    return escape(inert(text))


def _vias(vias: tuple[Via, ...]) -> str:
    return "; ".join(f"{_text(v.chain)} ({code(f'{v.path}:{v.line}')})" for v in vias)


def _permission(mark: str, c: PermissionChange) -> str:
    return f"- {mark} {code(c.permission)} through {_vias(c.via)}"


def _object(mark: str, c: ObjectChange) -> str:
    flags = ", ".join(a.label for a in c.access)
    return f"- {mark} {code(c.object)}: {flags} through {_vias(c.via)}"


def _persona(p: PersonaDiff) -> list[str]:
    status = {"added": " (new persona)", "removed": " (no longer a persona)"}.get(
        p.status.value, ""
    )
    out = [f"#### {_text(p.name)} ({p.kind.value}){status}", ""]
    out += [_permission("➕", c) for c in p.gained]
    out += [_permission("➖", c) for c in p.lost]
    out += [_object("➕", c) for c in p.objects_gained]
    out += [_object("➖", c) for c in p.objects_lost]
    return [*out, ""]


def _finding(mark: str, f: Finding) -> str:
    return (
        f"- {mark} **{escape(f.rule)}** ({f.severity.value}) {code(f'{f.path}:{f.line}')}:"
        f" {_text(f.message)}"
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render(diff: Diff) -> str:
    title = f"{_plural(len(diff.introduced), 'finding')} introduced, {len(diff.resolved)} resolved"
    out = [
        f"## sflint diff: {title}",
        "",
        f"{_text(diff.base.title)} → {_text(diff.head.title)}",
        "",
    ]
    if diff.empty:
        out += ["No change in access, components or findings.", ""]
    if diff.highlights:
        out += ["### ⚠️ Highlights", ""]
        out += [f"- **{_text(name)}** {_text(h.text)}" for name, h in diff.highlights]
        out.append("")
    if diff.personas:
        out += ["### Personas", ""]
        for p in diff.personas:
            out += _persona(p)
    if diff.added or diff.removed or diff.renamed:
        out += ["### Components", ""]
        out += [f"- ➕ {escape(c.type.value)} {code(c.name)} ({code(c.path)})" for c in diff.added]
        out += [
            f"- ➖ {escape(c.type.value)} {code(c.name)} ({code(c.path)})" for c in diff.removed
        ]
        out += [
            f"- 🔀 {escape(r.type.value)} {code(r.old)} → {code(r.new)} ({code(r.new_path)})"
            for r in diff.renamed
        ]
        out.append("")
    if diff.introduced:
        out += ["### Findings introduced", ""]
        out += [_finding("➕", f) for f in diff.introduced]
        out.append("")
    if diff.resolved:
        out += ["### Findings resolved", ""]
        out += [_finding("✅", f) for f in diff.resolved]
        out.append("")
    failing = len(diff.failing)
    if diff.fail_on.threshold is None:
        out.append("**Result:** `--fail-on never`: the change passes.")
    elif failing:
        out.append(
            f"**Result:** ❌ the change introduces {_plural(failing, 'finding')} at or above"
            f" {diff.fail_on.value}."
        )
    else:
        out.append(
            f"**Result:** ✅ the change introduces no finding at or above {diff.fail_on.value}."
        )
    return "\n".join(out) + "\n"
