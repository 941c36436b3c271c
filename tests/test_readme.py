"""The README and docs/rules.md say what the code does: the rule reference is generated from
the rule files, and the README's example rule loads."""

from __future__ import annotations

from pathlib import Path

from sflint.output.rule_docs import REGENERATE, rules_markdown
from sflint.rules.examples import run_examples
from sflint.rules.loader import builtin_rules_dir, load_rules
from tests.conftest import ROOT


def test_rule_reference_is_current() -> None:
    current = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    generated = rules_markdown(load_rules((builtin_rules_dir(),)))
    assert current == generated, f"docs/rules.md is stale: {REGENERATE}"


def test_readme_points_at_the_rule_reference_and_keeps_no_copy() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "[docs/rules.md](docs/rules.md)" in readme
    assert [line for line in readme.splitlines() if line.startswith("| SFL")] == []


PERSONA_RULE = """id: ACME002
name: missing-reference
summary: s
severity: warning
scope: persona
persona_kinds: [integration]
match: {unresolved_reference: true}
message: "{detail} is missing"
docs: {why: w, how_to_fix: h}
examples:
"""


def test_readme_rule_examples_load_and_hold(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Writing a rule", 1)[1].split("\n## ", 1)[0]
    rule_text, example = [b.split("\n```", 1)[0] for b in section.split("```yaml\n")[1:]]
    (tmp_path / "ACME001-no-modify-all-data.yaml").write_text(rule_text + "\n", encoding="utf-8")
    (tmp_path / "ACME002-missing-reference.yaml").write_text(PERSONA_RULE + example + "\n")
    first, second = load_rules((tmp_path,))
    assert (first.id, first.name) == ("ACME001", "no-modify-all-data")
    assert [e.kind.value for e in (*first.examples, *second.examples)] == ["bad", "good", "bad"]
    outcomes = run_examples([first, second], (tmp_path,))
    assert [o.describe() for o in outcomes if not o.ok] == []


def test_readme_starts_with_the_two_commands() -> None:
    blocks = (ROOT / "README.md").read_text().split("```sh\n")[1:3]
    commands = [b.split("\n```")[0] for b in blocks]
    assert commands == [
        "pip install . && sflint check testdata/projects/commission-app --show-fixes",
        'pip install -e ".[test]" && pytest',
    ]
