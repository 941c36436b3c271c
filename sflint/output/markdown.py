"""A reviewer's report in GitHub Flavored Markdown, for ``$GITHUB_STEP_SUMMARY`` or a PR
comment: counts first, then findings grouped by persona, each with its fix options folded
in a ``<details>`` block.

Everything that comes from the project (paths, component and persona names, messages) is
escaped: a file or label may contain ``|``, ``<``, backticks or a leading ``#`` that would
otherwise become table cells, HTML or headings (GFM spec, "Backslash escapes" and "Entity
and numeric character references"). GitHub also turns ``@name`` into a mention that notifies
that person or team, ``#123`` into a link to an issue, and ``www.`` or ``https://`` text into
links (GitHub Docs, "Autolinked references and URLs"; GFM spec, "Autolinks (extension)"): a
zero-width space after the trigger keeps the text as it reads and makes it inert.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sflint.sanitize import inert

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sflint.model import Finding
    from sflint.output import Report

_SEVERITIES = ("error", "warning", "note")
_FILES_GROUP = "Files"
# GFM inline punctuation that changes meaning mid-line.
_INLINE = re.compile(r"([\\`*_\[\]|~])")
# Block starts that would turn a message line into a heading, list, quote or rule.
_BLOCK_START = re.compile(r"^(\s*)(#|[-+=:]|\d+(?=[.)]))")
# Mentions (@user, @org/team, also inside e-mail addresses), issue and pull request references
# (#123, GH-123), and autolinked URLs.
_AUTOLINK = re.compile(
    r"(@|#(?=\d)|\bGH-(?=\d)|\bwww(?=\.)|\b[A-Za-z][A-Za-z0-9+.-]*(?=://))", re.IGNORECASE
)
_ZWSP = "&#8203;"


def render(report: Report) -> str:
    findings = sorted(report.findings, key=lambda f: f.sort_key)
    out = [f"## sflint: {_title_counts(findings)}", ""]
    scope = _scope(report)
    if not findings:
        out += [f"✅ No findings in {scope}." if scope else "✅ No findings.", ""]
    elif scope:
        out += [f"Checked {scope}.", ""]
    if report.suppressed:
        n = len(report.suppressed)
        parts = report.suppressed_parts()
        why = f" ({escape(parts)})" if parts else ""
        out += [f"{n} suppressed finding{'s' if n != 1 else ''} not shown{why}.", ""]
    if report.new_since is not None:
        out += [f"{escape(report.preexisting_text())}.", ""]
    if report.notices:
        out += ["### Exceptions and baseline", ""]
        out += [
            f"- {code(f'{n.location.path}:{n.location.line}')} ({n.level.value}):"
            f" {escape(n.message)}"
            for n in report.notices
        ]
        out.append("")
    for group, members in _groups(findings):
        heading = _FILES_GROUP if group is None else f"Persona: {escape(group)}"
        out += [f"### {heading}", ""]
        for finding in members:
            out += _finding(finding)
    return "\n".join(out).rstrip("\n") + "\n"


def escape(text: str) -> str:
    """Text from the project as literal GFM inline content, one line per input line.

    Other control characters are shown as escapes (:mod:`sflint.sanitize`). No line starts
    with ``::``, which a GitHub Actions log would read as a workflow command should the
    report be printed there.
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    lines = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _INLINE.sub(r"\\\1", inert(line))
        line = _BLOCK_START.sub(_escape_block_start, line)
        lines.append(_AUTOLINK.sub(lambda m: m.group() + _ZWSP, line))
    return "<br>\n".join(lines)


def code(text: str) -> str:
    """An inline code span that survives backticks in ``text`` (GFM spec, "Code spans")."""
    text = inert(text)
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _escape_block_start(match: re.Match[str]) -> str:
    indent, mark = match.group(1), match.group(2)
    if mark[0].isdigit():
        # "1." starts an ordered list: escape the delimiter that follows the digits.
        return f"{indent}{mark}\\"
    return f"{indent}\\{mark}"


def _title_counts(findings: list[Finding]) -> str:
    if not findings:
        return "no findings"
    counts = {s: sum(1 for f in findings if f.severity.value == s) for s in _SEVERITIES}
    parts = [f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n]
    total = len(findings)
    return f"{total} finding{'s' if total != 1 else ''} ({', '.join(parts)})"


def _scope(report: Report) -> str:
    parts = []
    if report.files:
        parts.append(f"{report.files} file{'s' if report.files != 1 else ''}")
    if report.components:
        n = report.components
        parts.append(f"{n} component{'s' if n != 1 else ''}")
    return " and ".join(parts)


def _groups(findings: list[Finding]) -> Iterable[tuple[str | None, list[Finding]]]:
    # Personas first, by name: a persona finding is about a real account's access; then the
    # file-scope findings.
    personas = sorted({f.persona for f in findings if f.persona is not None})
    for persona in personas:
        yield persona, [f for f in findings if f.persona == persona]
    files = [f for f in findings if f.persona is None]
    if files:
        yield None, files


def _finding(finding: Finding) -> list[str]:
    message = finding.message.strip() or f"{finding.rule} {finding.name}"
    out = [
        f"#### {escape(finding.rule)} {escape(finding.name)} ({finding.severity.value})",
        "",
        f"{code(f'{finding.path}:{max(finding.line, 1)}')} · "
        f"{escape(finding.type_name)} {escape(finding.component_name)}",
        "",
        escape(message),
        "",
    ]
    if finding.fixes:
        n = len(finding.fixes)
        out += ["<details>", f"<summary>How to fix ({n} option{'s' if n != 1 else ''})</summary>"]
        out.append("")
        for option in finding.fixes:
            # Titles are numbered by the rule pack itself ("Option 1: ...").
            out += [f"**{escape(option.title)}**", ""]
            if option.steps:
                out += [f"{j}. {escape(step)}" for j, step in enumerate(option.steps, 1)]
                out.append("")
        out += ["</details>", ""]
    return out
