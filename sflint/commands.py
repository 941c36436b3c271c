"""The informational commands: ``rules`` and ``explain``."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import TextIO

from sflint.errors import UsageError
from sflint.rules.model import Rule


def _rules(rule_dirs: tuple[Path, ...]) -> tuple[Rule, ...]:
    from sflint.rules.loader import builtin_rules_dir, load_rules

    return load_rules((builtin_rules_dir(), *rule_dirs))


def _fail(exc: UsageError, err: TextIO) -> int:
    err.write(f"sflint: error: {exc}\n")
    return 2


def list_rules(
    rule_dirs: tuple[Path, ...], out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        rules = _rules(rule_dirs)
    except UsageError as exc:
        return _fail(exc, err)
    width = max(len(r.name) for r in rules)
    for r in rules:
        scope = "/".join(r.scope)
        out.write(f"{r.id}  {r.name:<{width}}  {r.severity.value:<7}  {scope:<12}  {r.summary}\n")
    return 0


def explain_rule(
    ident: str, rule_dirs: tuple[Path, ...], out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        rules = _rules(rule_dirs)
    except UsageError as exc:
        return _fail(exc, err)
    rule = next((r for r in rules if ident in (r.id, r.name)), None)
    if rule is None:
        err.write(f"sflint: error: unknown rule {ident!r} (see `sflint rules`)\n")
        return 2
    wrap = textwrap.TextWrapper(width=88)
    lines = [
        f"{rule.id} {rule.name} [{rule.severity.value}]",
        "",
        rule.summary,
        "",
        "Why is this a problem?",
    ]
    lines += [*wrap.wrap(rule.docs.why), "", "How to fix it", *wrap.wrap(rule.docs.how_to_fix)]
    if rule.fixes:
        lines += ["", "Fix options"]
        for fix in rule.fixes:
            kinds = f" ({', '.join(fix.applies_to)})" if fix.applies_to else ""
            auto = " [sflint --fix]" if fix.action else ""
            lines.append(f"  {fix.title}{kinds}{auto}")
            lines += [f"    {i}. {s}" for i, s in enumerate(fix.steps, 1)]
    if rule.docs.references:
        lines += ["", "References"] + [f"  {ref}" for ref in rule.docs.references]
    out.write("\n".join(lines) + "\n")
    return 0
