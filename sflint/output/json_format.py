"""The ``sflint/findings/v1`` JSON contract (DESIGN.md, Findings and outputs)."""

from __future__ import annotations

from typing import Any

from sflint.model import Finding, Severity
from sflint.output import Report
from sflint.output.jsontext import Raw, dumper

SCHEMA_ID = "sflint/findings/v1"


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "name": f.name,
        "severity": f.severity.value,
        "path": f.path,
        "line": f.line,
        "message": f.message,
        "component": {"type": f.type_name, "name": f.component_name},
        "key": f.key,
        "persona": f.persona,
        "fingerprint": f.fingerprint,
        "fixes": [
            {"id": o.id, "title": o.title, "steps": list(o.steps), "action": o.action}
            for o in f.fixes
        ],
    }


def render(report: Report) -> str:
    # Byte for byte json.dumps(doc, indent=2, ensure_ascii=False), faster (jsontext), each
    # finding written as soon as it is built: 600,000 findings' dicts are never all alive.
    dumps = dumper()
    item = "    "  # where a finding sits: doc["findings"][i]

    def texts(findings: tuple[Finding, ...]) -> list[Raw]:
        return [Raw(dumps(finding_dict(f), item)) for f in findings]

    # Every level, zeros included: scripts read by_severity["error"] without a guard.
    by_severity = {s.value: sum(1 for f in report.findings if f.severity is s) for s in Severity}
    doc = {
        "schema": SCHEMA_ID,
        "version": report.version,
        "findings": texts(report.findings),
        "summary": {
            "files": report.files,
            "components": report.components,
            "forceignored": report.forceignored,
            "findings": len(report.findings),
            "by_severity": by_severity,
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
        },
        "suppressed": texts(report.suppressed),
    }
    return dumps(doc, "") + "\n"
