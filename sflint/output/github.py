"""GitHub Actions workflow commands: one annotation per finding on the changed files.

Syntax and escaping follow GitHub's "Workflow commands for GitHub Actions" page and the
runner's own implementation (actions/toolkit, packages/core/src/command.ts): the message is
"data" (``%``, CR, LF escaped), property values additionally escape ``:`` and ``,`` because
those delimit the properties. The runner decodes them back, so the path stays the file's
real name (``Custom%3A Sales Profile.profile-meta.xml`` is written ``Custom%253A Sales ...``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sflint.sanitize import inert

if TYPE_CHECKING:
    from sflint.model import Finding
    from sflint.output import Report

# GitHub has three annotation levels; SARIF/sflint "note" is GitHub's "notice".
_COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


def render(report: Report) -> str:
    lines = [annotation(f) for f in sorted(report.findings, key=lambda f: f.sort_key)]
    # The triage: each notice on its line of .sflint.yml or the baseline, then one notice
    # with the counts every format shows.
    for n in report.notices:
        props = ",".join(
            f"{key}={escape_property(value)}"
            for key, value in (
                ("file", n.location.path),
                ("line", str(max(n.location.line, 1))),
                ("title", "sflint triage"),
            )
        )
        lines.append(f"::{_COMMAND[n.level.value]} {props}::{escape_data(n.message)}")
    counts = [t for t in (report.suppressed_text(), report.preexisting_text()) if t]
    if counts:
        lines.append(f"::notice title=sflint::{escape_data('; '.join(counts))}")
    return "".join(line + "\n" for line in lines)


def annotation(finding: Finding) -> str:
    line = max(finding.line, 1)
    props = ",".join(
        f"{key}={escape_property(value)}"
        for key, value in (
            ("file", finding.path),
            ("line", str(line)),
            ("title", f"{finding.rule} {finding.name}"),
        )
    )
    message = finding.message.strip() or f"{finding.rule} {finding.name}"
    return f"::{_COMMAND[finding.severity.value]} {props}::{escape_data(message)}"


def escape_data(text: str) -> str:
    # "%" first, or the escapes added below would be escaped again. CR and LF are the
    # runner's own escapes; every other control character (ESC sequences are rendered by the
    # log viewer) is shown inert, like on the console.
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return inert(text)


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
