"""The ``sflint/diff/v1`` JSON contract (docs/json.md): a ``Diff`` as data. Pure."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sflint.model import Severity
from sflint.output.json_format import finding_dict

if TYPE_CHECKING:
    from sflint.diff import Diff, ObjectChange, PermissionChange, PersonaDiff, Side, Via

SCHEMA_ID = "sflint/diff/v1"


def _side(s: Side) -> dict[str, Any]:
    return {"kind": s.kind.value, "name": s.label, "commit": s.commit}


def _via(v: Via) -> dict[str, Any]:
    group = None if v.group is None else {"type": "PermissionSetGroup", "name": v.group}
    return {
        "component": {"type": v.type.value, "name": v.name},
        "group": group,
        "path": v.path,
        "line": v.line,
    }


def _permission(c: PermissionChange) -> dict[str, Any]:
    return {"permission": c.permission, "via": [_via(v) for v in c.via]}


def _object(c: ObjectChange) -> dict[str, Any]:
    return {
        "object": c.object,
        "access": [a.value for a in c.access],
        "via": [_via(v) for v in c.via],
    }


def _persona(p: PersonaDiff) -> dict[str, Any]:
    return {
        "name": p.name,
        "kind": p.kind.value,
        "status": p.status.value,
        "base_name": p.base_name,
        "highlights": [
            {"kind": h.kind.value, "text": h.text, "permission": h.permission, "tier": h.tier}
            for h in p.highlights
        ],
        "user_permissions": {
            "gained": [_permission(c) for c in p.gained],
            "lost": [_permission(c) for c in p.lost],
        },
        "object_permissions": {
            "gained": [_object(c) for c in p.objects_gained],
            "lost": [_object(c) for c in p.objects_lost],
        },
    }


def diff_dict(diff: Diff) -> dict[str, Any]:
    from sflint import __version__

    def ref(c: Any) -> dict[str, Any]:
        return {"type": c.type.value, "name": c.name, "path": c.path}

    return {
        "schema": SCHEMA_ID,
        "version": __version__,
        "base": _side(diff.base),
        "head": _side(diff.head),
        "personas": [_persona(p) for p in diff.personas],
        "components": {
            "added": [ref(c) for c in diff.added],
            "removed": [ref(c) for c in diff.removed],
            "renamed": [
                {
                    "type": r.type.value,
                    "from": r.old,
                    "to": r.new,
                    "from_path": r.old_path,
                    "to_path": r.new_path,
                }
                for r in diff.renamed
            ],
        },
        "findings": {
            "introduced": [finding_dict(f) for f in diff.introduced],
            "resolved": [finding_dict(f) for f in diff.resolved],
        },
        "summary": {
            "introduced": len(diff.introduced),
            "resolved": len(diff.resolved),
            "introduced_by_severity": {
                s.value: sum(1 for f in diff.introduced if f.severity is s) for s in Severity
            },
            "highlights": len(diff.highlights),
            "fail_on": diff.fail_on.value,
            "failed": bool(diff.failing),
        },
    }


def render(diff: Diff) -> str:
    return json.dumps(diff_dict(diff), indent=2, ensure_ascii=False) + "\n"
