"""Which modules may import which: the layers the architecture promises, checked."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SFLINT = Path(__file__).resolve().parents[1] / "sflint"


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _under(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


@pytest.mark.parametrize("path", sorted((SFLINT / "fix").glob("*.py")), ids=lambda p: p.name)
def test_fix_package_never_imports_output(path: Path) -> None:
    # output/ carries fix values (SARIF fixes); the fix engine must not depend on a format.
    assert _under(_imports(path), "sflint.output") == []


def test_rule_matchers_do_not_import_the_metadata_reader() -> None:
    # Both parse XML with sflint.xmlsafe; a matcher depends on values, not on the reader.
    assert _under(_imports(SFLINT / "rules" / "matchers.py"), "sflint.metadata") == []
