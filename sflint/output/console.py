"""Console output: ``path:line: ID [severity] message``, one finding per line.

Every text that comes from the project (paths, messages built from names, fix steps) goes
through :mod:`sflint.sanitize`, so a file name cannot move the cursor, colour the terminal or
start a CI log line of its own.
"""

from __future__ import annotations

from sflint.model import Confidence, Finding, Severity
from sflint.output import Report
from sflint.sanitize import inert, line_start

_COLORS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.NOTE: "36"}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _line(f: Finding, color: bool) -> str:
    where = _paint(f"{line_start(f.path)}:{f.line}:", "1", color)
    # A finding on a persona detected from weak signals says so; high confidence is the
    # norm and is not printed.
    low = "" if f.confidence is Confidence.HIGH else f", {f.confidence.value} confidence"
    sev = _paint(f"[{f.severity.value}{low}]", _COLORS[f.severity], color)
    return f"{where} {_paint(f.rule, '1', color)} {sev} {inert(f.message)}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def projects(report: Report) -> str:
    """Which project roots and package folders were read (issue 10: never a silent scope)."""
    if not report.projects:
        return ""
    described = []
    for p in report.projects:
        text = f"{p.root} ({p.found_by}; {p.scanned})"
        if p.outside:
            text += f", and outside them as named: {', '.join(p.outside)}"
        described.append(text)
    word = "Project" if len(described) == 1 else "Projects"
    return f" {word}: {'; '.join(described)}."


def summary(report: Report) -> str:
    return _counts(report) + inert(projects(report))


def _counts(report: Report) -> str:
    scanned = f"{_plural(report.files, 'file')}, {_plural(report.components, 'component')}"
    if report.forceignored:
        scanned += (
            f"; {report.forceignored} skipped by .forceignore (--no-forceignore includes them)"
        )
    if report.unchecked:
        scanned += (
            f"; {_plural(report.unchecked, 'detected persona')} below --min-confidence"
            f" {report.min_confidence} not checked (--min-confidence low checks them)"
        )
    if report.suppressed:
        scanned += f"; {report.suppressed_text()}"
    if report.new_since is not None:
        scanned += f"; {inert(report.preexisting_text())}"
    if not report.findings:
        return f"No findings ({scanned})."
    counts = [
        _plural(n, sev.value)
        for sev in Severity
        if (n := sum(1 for f in report.findings if f.severity is sev))
    ]
    return f"Found {_plural(len(report.findings), 'finding')} ({', '.join(counts)}) in {scanned}."


def notices(report: Report) -> list[str]:
    """``path:line: [warning] message`` for each notice about the triage."""
    return [
        f"{line_start(n.location.path)}:{n.location.line}: [{n.level.value}] {inert(n.message)}"
        for n in report.notices
    ]


def render(report: Report) -> str:
    lines = [_line(f, report.color) for f in report.findings]
    lines += notices(report)
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def render_full(report: Report) -> str:
    """Each finding followed by its fix options and their steps (``--show-fixes``)."""
    lines: list[str] = []
    for f in report.findings:
        lines.append(_line(f, report.color))
        for option in f.fixes:
            auto = "  [sflint --fix]" if option.action else ""
            lines.append(f"    {_paint(inert(option.title), '1', report.color)}{auto}")
            lines.extend(f"      {i}. {inert(step)}" for i, step in enumerate(option.steps, 1))
        lines.append("")
    lines += notices(report)
    lines.append(summary(report))
    return "\n".join(lines) + "\n"
