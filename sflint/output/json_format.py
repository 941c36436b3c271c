"""The ``sflint/findings/v1`` JSON contract (DESIGN.md, Findings and outputs)."""

from __future__ import annotations

from typing import Any

from sflint.model import Finding, Severity
from sflint.output import Report
from sflint.output.jsontext import Raw, dumper

SCHEMA_ID = "sflint/findings/v1"


def finding_dict(f: Finding) -> dict[str, Any]:
    # A finding on a permission its file grants more than once also says how many times,
    # and the first lines (the first is ``line``): the keys are there only then.
    repeats: dict[str, Any] = {}
    if f.occurrences > 1:
        repeats = {"occurrences": f.occurrences, "lines": list(f.lines)}
    # An aggregated finding (a rule with ``aggregate``) lists every element it stands for.
    if f.items:
        repeats["items"] = items_list(f)
    return {
        "rule": f.rule,
        "name": f.name,
        "severity": f.severity.value,
        "path": f.path,
        "line": f.line,
        **repeats,
        "message": f.message,
        "component": {"type": f.type_name, "name": f.component_name},
        "key": f.key,
        "persona": f.persona,
        # Added within v1 (a new key; no key changed): how sure sflint is of the persona.
        "confidence": f.confidence.value,
        "fingerprint": f.fingerprint,
        "fixes": [
            {"id": o.id, "title": o.title, "steps": list(o.steps), "action": o.action}
            for o in f.fixes
        ],
    }


def items_list(f: Finding, limit: int | None = None) -> list[dict[str, Any]]:
    """An aggregated finding's elements (the first ``limit``): key, place, the values its
    rule names for each (for SFL016 ``object`` and ``access``), and ``occurrences`` for one
    its file repeats."""
    out = []
    for i in f.items[:limit]:
        item: dict[str, Any] = {"key": i.key, "path": i.location.path, "line": i.location.line}
        if i.count > 1:
            item["occurrences"] = i.count
        item["values"] = dict(i.values)
        out.append(item)
    return out


def suppressed_dict(f: Finding) -> dict[str, Any]:
    """A suppressed finding: the finding, and what accepted it with the reason given."""
    out = finding_dict(f)
    if f.waiver is not None:
        w = f.waiver
        out["suppression"] = {
            "kind": w.kind.value,
            "reason": w.reason,
            "path": w.location.path,
            "line": w.location.line,
            "owner": w.owner,
            "expires": w.expires,
        }
    return out


def render(report: Report) -> str:
    # Byte for byte json.dumps(doc, indent=2, ensure_ascii=False), faster (jsontext), each
    # finding written as soon as it is built: 600,000 findings' dicts are never all alive.
    dumps = dumper()
    item = "    "  # where a finding sits: doc["findings"][i]

    def texts(findings: tuple[Finding, ...], build: Any = finding_dict) -> list[Raw]:
        return [Raw(dumps(build(f), item)) for f in findings]

    # Every level, zeros included: scripts read by_severity["error"] without a guard.
    by_severity = {s.value: sum(1 for f in report.findings if f.severity is s) for s in Severity}
    summary: dict[str, Any] = {
        "files": report.files,
        "components": report.components,
        "forceignored": report.forceignored,
        "findings": len(report.findings),
        "by_severity": by_severity,
        # The same counts every format shows: by comment, exception and baseline.
        "suppressed": {"total": len(report.suppressed), **report.suppressed_by()},
        # Which project roots and package folders were read, paths as in findings.
        "projects": [
            {
                "root": p.root,
                "found_by": p.found_by,
                "package_folders": list(p.package_dirs),
                "outside_package_folders": list(p.outside),
            }
            for p in report.projects
        ],
    }
    doc = {
        "schema": SCHEMA_ID,
        "version": report.version,
        "findings": texts(report.findings),
        "summary": summary,
        "suppressed": texts(report.suppressed, suppressed_dict),
        # About the triage itself: expired exceptions, entries that match nothing.
        "notices": [
            {
                "level": n.level.value,
                "path": n.location.path,
                "line": n.location.line,
                "message": n.message,
            }
            for n in report.notices
        ],
    }
    if report.new_since is not None:
        # Only with --new-since: the revision, and the findings it had that are not shown.
        summary["new_since"] = {"revision": report.new_since, "preexisting": report.preexisting}
    return dumps(doc, "") + "\n"
