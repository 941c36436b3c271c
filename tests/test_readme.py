"""The README's rule table is generated from the rule files; keep the two in step."""

from __future__ import annotations

from sflint.rules.loader import builtin_rules_dir, load_rules
from tests.conftest import ROOT


def test_readme_rule_table_matches_rule_files() -> None:
    rows = [
        line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| SFL")
    ]
    expected = [
        f"| {r.id} | `{r.name}` | {r.severity.value} | {'/'.join(r.scope)} | {r.summary} |"
        for r in load_rules((builtin_rules_dir(),))
    ]
    assert rows == expected


def test_readme_starts_with_the_two_commands() -> None:
    blocks = (ROOT / "README.md").read_text().split("```sh\n")[1:3]
    commands = [b.split("\n```")[0] for b in blocks]
    assert commands == [
        "pip install . && sflint check testdata/projects/commission-app --show-fixes",
        'pip install -e ".[test]" && pytest',
    ]
