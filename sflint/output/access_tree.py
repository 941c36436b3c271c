"""``sflint access``: each persona's enabled user permissions and object access as a tree,
each with the chain it comes through (group → set) and the file and line that grants it.
Pure: values in, text out.

Every name in the tree (personas, components, permissions, files) comes from the scanned
repository, so each line is made inert and safe at the start of a CI log line
(sflint.sanitize): a persona named ``::error ...`` or holding ESC is shown, not obeyed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sflint.model import Confidence
from sflint.sanitize import line_start

if TYPE_CHECKING:
    from sflint.access import Access, Persona

NO_PERSONAS = "No personas: declare them in .sflint.yml (see README) or add integration signals.\n"


def render(accesses: Iterable[Access]) -> str:
    lines: list[str] = []
    for access in accesses:
        lines += _persona(access)
    if not lines:
        return NO_PERSONAS
    return "".join(f"{line_start(line)}\n" for line in lines)


def _confidence(p: Persona) -> str:
    """`` with low confidence`` for a candidate of weak signals; nothing when high."""
    if p.confidence is Confidence.HIGH:
        return ""
    return f" with {p.confidence.value} confidence"


def _persona(access: Access) -> list[str]:
    p = access.persona
    how = (
        f"detected{_confidence(p)}: {p.signal}"
        if p.signal
        else f"declared in {p.location.path}:{p.location.line}"
    )
    lines = [f"{p.name} [{p.kind.value}] ({how})"]
    enabled = sorted(
        (g for g in access.grants if g.grant.enabled), key=lambda g: (g.grant.name, g.chain)
    )
    for g in enabled:
        muted = f"  [muted by {g.muted_by.name}]" if g.muted_by else ""
        loc = g.grant.location
        lines.append(f"  ├─ {g.grant.name}  ← {g.chain}  ({loc.path}:{loc.line}){muted}")
    objects = sorted(
        (o for o in access.objects if o.grant.access),
        key=lambda o: (o.grant.object, o.chain, o.grant.location.line),
    )
    for o in objects:
        flags = ", ".join(a.label for a in o.grant.access if a not in o.muted) or "nothing"
        muted = ""
        if o.muted:
            by = ", ".join(m.name for m in o.muted_by)
            muted = f"  [muted by {by}: {', '.join(a.label for a in o.muted)}]"
        loc = o.grant.location
        lines.append(
            f"  ├─ object {o.grant.object}: {flags}  ← {o.chain}  ({loc.path}:{loc.line}){muted}"
        )
    for r in (*access.unresolved, *access.missing_members):
        lines.append(
            f"  └─ ? {r.type.value} {r.name} is not in the project"
            f" ({r.location.path}:{r.location.line})"
        )
    if not enabled and not objects and not access.incomplete:
        lines.append("  (no enabled user permissions)")
    return lines
