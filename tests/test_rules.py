"""The rule pack: every rule file loads, its examples hold, and bad rule files are refused
with ``file:line``."""

from __future__ import annotations

from pathlib import Path

import pytest

from sflint.errors import UsageError
from sflint.kinds import kind_of
from sflint.model import CloneNaming, ComponentType
from sflint.rules.loader import builtin_rules_dir, load_rules
from sflint.rules.model import Example, Rule
from tests.conftest import run_check

RULES = load_rules((builtin_rules_dir(),))
EXAMPLES = [(r, e) for r in RULES for e in r.examples]


def test_rule_names_are_the_contract() -> None:
    assert {r.id: r.name for r in RULES} == {
        "SFL001": "integration-api-mfa",
        "SFL002": "api-mfa-enabled",
        "SFL003": "mfa-permission-name",
        "SFL004": "unknown-user-permission",
        "SFL005": "api-mfa-requires-ui-mfa",
        "SFL006": "integration-api-disabled",
        "SFL007": "integration-not-api-only",
        "SFL008": "integration-privileged",
        "SFL009": "mfa-waived",
        "SFL010": "invalid-metadata",
        "SFL011": "unresolved-reference",
    }


@pytest.mark.parametrize(
    ("rule", "example"), EXAMPLES, ids=[f"{r.id}-{i}" for i, (r, _) in enumerate(EXAMPLES)]
)
def test_rule_examples(rule: Rule, example: Example, tmp_path: Path) -> None:
    kind = kind_of(ComponentType(example.component_type))
    folder, suffix = kind.folder, kind.source_suffix
    target = tmp_path / "force-app" / folder / f"Example{suffix}"
    target.parent.mkdir(parents=True)
    target.write_text(example.xml, encoding="utf-8")
    (tmp_path / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "force-app"}]}')
    findings = list(run_check(tmp_path, select=(rule.id,)).findings)
    assert len(findings) == example.expect, [f.message for f in findings]
    assert all(f.path.endswith(suffix) for f in findings)


def _write_rule(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    file = folder / name
    file.write_text(text, encoding="utf-8")
    return file


GOOD = """id: ACME001
name: no-modify-all
summary: Nobody gets Modify All Data
severity: warning
scope: file
match:
  user_permission: {name: ModifyAllData, enabled: true}
message: "{component} grants {label}"
docs:
  why: Because.
  how_to_fix: Remove it.
"""


CLONE_FIX = """fixes:
  - id: clone
    title: Clone it
    action: clone-without-permission
    clone: {name_suffix: _No_MAD, label_suffix: ' (no MAD)'}
    steps: [Assign the clone.]
"""


def test_clone_option_names_its_clone(tmp_path: Path) -> None:
    _write_rule(tmp_path, "ACME001-no-modify-all.yaml", GOOD + CLONE_FIX)
    (rule,) = load_rules((tmp_path,))
    assert rule.fixes[0].clone == CloneNaming("_No_MAD", " (no MAD)")


def test_user_rule_folder_adds_a_rule(tmp_path: Path) -> None:
    _write_rule(tmp_path / "r", "ACME001-no-modify-all.yaml", GOOD)
    (tmp_path / "p.permissionset-meta.xml").write_text(
        "<PermissionSet><userPermissions><enabled>true</enabled><name>ModifyAllData</name>"
        "</userPermissions></PermissionSet>"
    )
    findings = run_check(
        tmp_path / "p.permissionset-meta.xml", rule_dirs=(tmp_path / "r",)
    ).findings
    assert [(f.rule, f.line, f.message) for f in findings] == [
        ("ACME001", 1, "P grants Modify All Data")
    ]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (GOOD + "colour: red\n", 12, "unknown key 'colour'"),
        (
            GOOD.replace("severity: warning", "severity: fatal"),
            4,
            "severity: 'fatal' is not one of",
        ),
        (
            GOOD.replace("scope: file\n", "scope: file\nscope: persona\n"),
            6,
            "duplicate key 'scope'",
        ),
        (GOOD.replace("{label}", "{labl}"), 8, "unknown placeholder {labl}"),
        (GOOD.replace("{name: ModifyAllData", "{nmae: ModifyAllData"), 7, "unknown key 'nmae'"),
        (GOOD + "  - [\n", 12, "invalid YAML"),
        (GOOD + "security_severity: 5\n", 12, "security_severity needs the tag 'security'"),
        (
            GOOD
            + CLONE_FIX.replace(
                "    clone: {name_suffix: _No_MAD, label_suffix: ' (no MAD)'}\n", ""
            ),
            13,
            "'clone' is a required property",
        ),
        (GOOD + CLONE_FIX.replace("_No_MAD", "No MAD"), 16, "does not match"),
    ],
)
def test_bad_rule_file_is_file_line_message(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    _write_rule(tmp_path, "ACME001-no-modify-all.yaml", text)
    with pytest.raises(UsageError) as info:
        load_rules((tmp_path,))
    assert info.value.line == line
    assert message in info.value.message
    assert str(info.value).startswith(f"{tmp_path / 'ACME001-no-modify-all.yaml'}:{line}: ")


def test_duplicate_rule_id_across_folders(tmp_path: Path) -> None:
    _write_rule(tmp_path / "a", "ACME001-no-modify-all.yaml", GOOD)
    _write_rule(
        tmp_path / "b", "ACME001-other-name.yaml", GOOD.replace("no-modify-all", "other-name")
    )
    with pytest.raises(UsageError, match="duplicate rule 'ACME001'") as info:
        load_rules((tmp_path / "a", tmp_path / "b"))
    assert info.value.line == 1


def test_file_name_must_match_id_and_name(tmp_path: Path) -> None:
    _write_rule(tmp_path, "whatever.yaml", GOOD)
    with pytest.raises(UsageError, match=r"file name must be ACME001-no-modify-all\.yaml"):
        load_rules((tmp_path,))


def test_validated_documents_are_cached_by_content(tmp_path: Path) -> None:
    from sflint.rules.schema import SCHEMA
    from sflint.yamlload import load_checked

    rule = _write_rule(tmp_path / "r", "ACME001-no-modify-all.yaml", GOOD)
    cache = tmp_path / "cache"
    first = load_checked(rule, "r.yaml", SCHEMA, cache)
    (entry,) = cache.iterdir()
    assert load_checked(rule, "r.yaml", SCHEMA, cache) == first
    entry.write_text("{damaged")
    assert load_checked(rule, "r.yaml", SCHEMA, cache) == first
    rule.write_text(GOOD + "colour: red\n")
    with pytest.raises(UsageError, match="unknown key 'colour'"):
        load_checked(rule, "r.yaml", SCHEMA, cache)
    assert list(cache.iterdir()) == [entry]  # an invalid document is never stored


XPATH_RULE = """id: ACME002
name: no-view-all-data
summary: View All Data only through reviewed sets
severity: warning
scope: file
applies_to: [PermissionSet, Profile]
match:
  xpath: "/*/userPermissions[name='ViewAllData' and enabled='true']"
message: "{component} grants {detail}"
docs:
  why: Because.
  how_to_fix: Remove it.
"""


def test_xpath_rule_on_namespace_free_view(tmp_path: Path) -> None:
    _write_rule(tmp_path / "r", "ACME002-no-view-all-data.yaml", XPATH_RULE)
    project = tmp_path / "p"
    project.mkdir()
    (project / "S.permissionset-meta.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        "    <userPermissions><enabled>false</enabled><name>ViewAllData</name></userPermissions>\n"
        "    <!-- <userPermissions><enabled>true</enabled><name>ViewAllData</name></userPermissions> -->\n"
        "    <userPermissions><enabled>true</enabled><name>ViewAllData</name></userPermissions>\n"
        "</PermissionSet>\n"
    )
    findings = run_check(project, rule_dirs=(tmp_path / "r",), select=("ACME002",)).findings
    assert [(f.rule, f.path, f.line, f.message) for f in findings] == [
        ("ACME002", "S.permissionset-meta.xml", 5, "S grants ViewAllData")
    ]


def test_invalid_xpath_is_file_line(tmp_path: Path) -> None:
    _write_rule(
        tmp_path,
        "ACME002-no-view-all-data.yaml",
        XPATH_RULE.replace("enabled='true']", "enabled='true'"),
    )
    with pytest.raises(UsageError, match="invalid xpath") as info:
        load_rules((tmp_path,))
    assert info.value.line == 8


@pytest.mark.parametrize(
    "expression", ["//userPermissions[name=$x]", "foo:bar(1)", "document('x')", "//a["]
)
def test_xpath_that_cannot_run_is_rejected_at_load(tmp_path: Path, expression: str) -> None:
    text = XPATH_RULE.replace(
        "\"/*/userPermissions[name='ViewAllData' and enabled='true']\"", repr(expression)
    )
    _write_rule(tmp_path, "ACME002-no-view-all-data.yaml", text)
    with pytest.raises(UsageError, match="invalid xpath") as info:
        load_rules((tmp_path,))
    assert info.value.line == 8


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: &x [1, 2]\nb: *x\n", 1, "YAML anchors and aliases are not supported"),
        ("a: &x [*x]\n", 1, "YAML anchors and aliases are not supported"),
        (
            "".join(
                f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n" for i in range(1, 9)
            ).replace("*l0", "1"),
            1,
            "anchors and aliases",
        ),
    ],
    ids=["alias", "cycle", "laughs"],
)
def test_yaml_aliases_are_refused(text: str, line: int, message: str) -> None:
    from sflint.yamlload import parse_yaml

    with pytest.raises(UsageError, match=message) as info:
        parse_yaml(text, "x.yml")
    assert info.value.line == line
