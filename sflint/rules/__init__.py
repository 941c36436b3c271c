"""Rules: the file format, loading, the compiled matchers. This module itself imports
nothing, so that ``settings`` can name the built-in pack without loading the rule schema
and matchers (a run whose findings come from the memo never loads them)."""

from __future__ import annotations

from pathlib import Path


def builtin_rules_dir() -> Path:
    """The built-in pack: ``sflint/builtin_rules`` in a wheel, ``rules/`` in a checkout."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "builtin_rules"
    return installed if installed.is_dir() else package.parent / "rules"
