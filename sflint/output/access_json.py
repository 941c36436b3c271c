"""The ``sflint/access/v1`` JSON contract: each persona's effective access as data
(``sflint access --format json``; documented in docs/json.md).

Every grant carries its provenance: the component whose file holds it, the group it comes
through, and its file and line. Paths are relative to the project root, as ``sflint access``
prints them. Pure: values in, text out; names are data here (JSON escapes them), never
terminal text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sflint.model import ObjectAccess

if TYPE_CHECKING:
    from sflint.access import Access, EffectiveGrant, EffectiveObjectGrant
    from sflint.model import Component

SCHEMA_ID = "sflint/access/v1"


def _ref(c: Component | None) -> dict[str, str] | None:
    return None if c is None else {"type": c.type.value, "name": c.name}


def user_permission_dict(g: EffectiveGrant) -> dict[str, Any]:
    loc = g.grant.location
    return {
        "permission": g.grant.name,
        "component": _ref(g.source),
        "group": _ref(g.group),
        "path": loc.path,
        "line": loc.line,
        "muted_by": _ref(g.muted_by),
    }


def object_permission_dict(o: EffectiveObjectGrant) -> dict[str, Any]:
    """One ``<objectPermissions>`` entry: each flag as the persona holds it (after muting),
    and the flags its group's muting sets removed."""
    loc = o.grant.location
    held = set(o.access)
    return {
        "object": o.grant.object,
        **{a.value: a in held for a in ObjectAccess},
        "component": _ref(o.source),
        "group": _ref(o.group),
        "path": loc.path,
        "line": loc.line,
        "muted": [a.value for a in o.muted],
        "muted_by": [_ref(m) for m in o.muted_by],
    }


def access_dict(access: Access) -> dict[str, Any]:
    p = access.persona
    users = sorted(
        (g for g in access.grants if g.grant.enabled),
        key=lambda g: (g.grant.name, g.chain, g.grant.location.path, g.grant.location.line),
    )
    objects = sorted(
        (o for o in access.objects if o.grant.access),
        key=lambda o: (o.grant.object, o.chain, o.grant.location.path, o.grant.location.line),
    )
    return {
        "name": p.name,
        "kind": p.kind.value,
        # Declared in the config (its entry's place) or detected (the signal, in words).
        "declared_at": None if p.signal else {"path": p.location.path, "line": p.location.line},
        "signal": p.signal,
        # How sure detection is that this is that kind of user (declared: high).
        "confidence": p.confidence.value,
        "complete": not access.incomplete,
        "components": [
            {"type": c.type.value, "name": c.name, "path": c.location.path}
            for c in access.components
        ],
        "missing": [
            {"type": r.type.value, "name": r.name, "path": r.location.path, "line": r.location.line}
            for r in (*access.unresolved, *access.missing_members)
        ],
        "user_permissions": [user_permission_dict(g) for g in users],
        "object_permissions": [object_permission_dict(o) for o in objects],
    }


def render(accesses: Iterable[Access], version: str) -> str:
    doc = {
        "schema": SCHEMA_ID,
        "version": version,
        "personas": [access_dict(a) for a in accesses],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
