"""The rule commands: ``sflint rules`` (table, Markdown docs, or a run of every example) and
``sflint explain RULE``. Rendering is ``sflint.output.rule_docs``'s job."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import TextIO

from sflint.errors import USAGE, UsageError, show_error
from sflint.rules.model import Rule
from sflint.sanitize import inert


class RulesFormat(str, enum.Enum):
    TABLE = "table"  # one line per rule
    MARKDOWN = "markdown"  # docs/rules.md


def _rules(rule_dirs: tuple[Path, ...], cache: Path | None, err: TextIO) -> tuple[Rule, ...] | None:
    """The built-in rules and those of ``rule_dirs``; None once a load error is printed."""
    from sflint.rules.loader import builtin_rules_dir, load_rules

    try:
        return load_rules((builtin_rules_dir(), *rule_dirs), cache=cache)
    except UsageError as exc:
        show_error(exc, err)
        return None


def _write(out: TextIO, text: str) -> None:
    """Rule text may come from a repository's rule folder: each line is shown inert."""
    out.writelines(inert(line) + "\n" for line in text.splitlines())


def list_rules(
    rule_dirs: tuple[Path, ...],
    fmt: RulesFormat = RulesFormat.TABLE,
    out: TextIO | None = None,
    err: TextIO | None = None,
    cache: Path | None = None,
) -> int:
    from sflint.output import rule_docs

    out = out or sys.stdout
    err = err or sys.stderr
    rules = _rules(rule_dirs, cache, err)
    if rules is None:
        return USAGE
    if fmt is RulesFormat.MARKDOWN:
        _write(out, rule_docs.rules_markdown(rules))
    else:
        _write(out, rule_docs.rules_table(rules))
    return 0


def check_examples(
    rule_dirs: tuple[Path, ...],
    out: TextIO | None = None,
    err: TextIO | None = None,
    cache: Path | None = None,
) -> int:
    """Run every rule's examples; 1 when one does not give exactly its expected findings or
    a rule lacks a bad or a good example, so a rule folder can be tested in CI."""
    from sflint.rules.examples import missing_kinds, run_examples

    out = out or sys.stdout
    err = err or sys.stderr
    rules = _rules(rule_dirs, cache, err)
    if rules is None:
        return USAGE
    problems = [
        f"{r.source}: {r.id} has no {kind.value} example"
        for r in rules
        for kind in missing_kinds(r)
    ]
    outcomes = run_examples(rules, rule_dirs, cache)
    problems += [o.describe() for o in outcomes if not o.ok]
    _write(out, "\n".join(problems))
    passed = sum(o.ok for o in outcomes)
    out.write(f"{passed} of {len(outcomes)} examples of {len(rules)} rules hold.\n")
    return 1 if problems else 0


def explain_rule(
    ident: str,
    rule_dirs: tuple[Path, ...],
    out: TextIO | None = None,
    err: TextIO | None = None,
    cache: Path | None = None,
) -> int:
    from sflint.output import rule_docs

    out = out or sys.stdout
    err = err or sys.stderr
    rules = _rules(rule_dirs, cache, err)
    if rules is None:
        return USAGE
    rule = next((r for r in rules if ident in (r.id, r.name)), None)
    if rule is None:
        return show_error(UsageError(f"unknown rule {ident!r} (see `sflint rules`)"), err)
    _write(out, rule_docs.explain_text(rule))
    return 0
