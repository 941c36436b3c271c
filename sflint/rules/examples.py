"""Run each rule's examples as a real project and compare the exact findings.

A rule's examples are its tests and its documentation at once (ansible-lint keeps a rule's
pass and fail cases beside it for the same reason): ``sflint rules --check-examples`` and the
test suite both run them through the whole check, config and discovery included, so a persona
or group example proves what a user's project would see.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sflint.errors import UsageError
from sflint.rules.model import EXAMPLE_CONFIG, EXAMPLE_PACKAGE, Example, ExampleKind, Rule

# (rule, example path, line): what an example expects and what a check finds.
Triple = tuple[str, str, int]


@dataclass(frozen=True)
class Outcome:
    rule: Rule
    number: int  # 1-based, in the rule file's order
    example: Example
    expected: tuple[Triple, ...]
    found: tuple[Triple, ...]
    error: str | None = None  # the check refused the example's project

    @property
    def ok(self) -> bool:
        return self.error is None and self.expected == self.found

    def describe(self) -> str:
        kind = self.example.kind.value
        head = f"{self.rule.source}: {self.rule.id} example {self.number} ({kind})"
        if self.error is not None:
            return f"{head}: {self.error}"
        return f"{head}: expected {_show(self.expected)}, found {_show(self.found)}"


def _show(triples: tuple[Triple, ...]) -> str:
    return ", ".join(f"{rule} at {path}:{line}" for rule, path, line in triples) or "no finding"


def missing_kinds(rule: Rule) -> tuple[ExampleKind, ...]:
    """The kinds of example (bad, good) the rule has none of; every built-in rule has both."""
    have = {e.kind for e in rule.examples}
    return tuple(k for k in ExampleKind if k not in have)


def write_project(root: Path, example: Example) -> None:
    """The example as an SFDX project: its files in one package folder, its config at the root."""
    (root / "sfdx-project.json").write_text(
        json.dumps({"packageDirectories": [{"path": EXAMPLE_PACKAGE, "default": True}]}),
        encoding="utf-8",
    )
    for f in example.files:
        target = root / EXAMPLE_PACKAGE / f.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f.text, encoding="utf-8")
    if example.config is not None:
        (root / EXAMPLE_CONFIG).write_text(example.config, encoding="utf-8")


def _example_path(path: str) -> str:
    return path.removeprefix(f"{EXAMPLE_PACKAGE}/")


def run_example(
    rule: Rule,
    number: int,
    rule_dirs: tuple[Path, ...] = (),
    cache: Path | None = None,
) -> Outcome:
    """Check example ``number`` of ``rule`` with only that rule selected."""
    from sflint.app import check
    from sflint.pipeline import load
    from sflint.settings import LoadOptions

    example = rule.examples[number - 1]
    expected = tuple((rule.id, e.path, e.line) for e in example.expect)
    with tempfile.TemporaryDirectory(prefix="sflint-example-") as tmp:
        root = Path(tmp)
        write_project(root, example)
        options = LoadOptions(
            paths=(root,), select=(rule.id,), rule_dirs=rule_dirs, cache_dir=cache
        )
        try:
            checked = check(load(options))
        except UsageError as exc:
            return Outcome(rule, number, example, expected, (), str(exc))
    # A list, not a set: the same finding twice is a defect the example must show.
    found = tuple(sorted((f.rule, _example_path(f.path), f.line) for f in checked.findings))
    return Outcome(rule, number, example, expected, found)


def run_examples(
    rules: Iterable[Rule], rule_dirs: tuple[Path, ...] = (), cache: Path | None = None
) -> list[Outcome]:
    return [
        run_example(rule, n, rule_dirs, cache)
        for rule in rules
        for n in range(1, len(rule.examples) + 1)
    ]
