"""The rule pack: every rule file loads, its examples hold, and bad rule files are refused
with ``file:line``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sflint.errors import UsageError
from sflint.model import CloneNaming
from sflint.output.rule_docs import REGENERATE
from sflint.rules.examples import missing_kinds, run_example
from sflint.rules.loader import builtin_rules_dir, load_rules
from sflint.rules.model import Rule
from tests.conftest import ROOT, run_check

# The built-in pack, plus any rule folders named in $SFLINT_TEST_RULE_DIRS (os.pathsep
# between them), so the meta-tests below can be pointed at a project's own rules.
EXTRA_DIRS = tuple(
    Path(p) for p in os.environ.get("SFLINT_TEST_RULE_DIRS", "").split(os.pathsep) if p
)
RULES = load_rules((builtin_rules_dir(), *EXTRA_DIRS))
EXAMPLES = [(r, n) for r in RULES for n in range(1, len(r.examples) + 1)]


def test_rule_ids_and_names_are_unique_and_documented() -> None:
    # Users name rules in suppressions, configs and baselines: docs/rules.md (checked for
    # staleness in test_readme.py) shows every id and name, so a rename shows in review.
    builtin = load_rules((builtin_rules_dir(),))
    assert len({r.id for r in builtin}) == len({r.name for r in builtin}) == len(builtin)
    docs = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for r in builtin:
        assert f"\n## {r.id} {r.name}\n" in docs, f"docs/rules.md lacks {r.id}: {REGENERATE}"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_every_rule_has_a_bad_and_a_good_example(rule: Rule) -> None:
    assert missing_kinds(rule) == ()


@pytest.mark.parametrize(("rule", "number"), EXAMPLES, ids=[f"{r.id}-{n}" for r, n in EXAMPLES])
def test_rule_examples(rule: Rule, number: int, _isolated_cache: Path) -> None:
    outcome = run_example(rule, number, EXTRA_DIRS, _isolated_cache)
    assert outcome.error is None
    assert outcome.found == outcome.expected, outcome.describe()


def test_check_examples_command_reports_a_wrong_expectation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sflint.cli import main

    folder = tmp_path / "r"
    _write_rule(folder, "ACME001-no-modify-all.yaml", GOOD + EXAMPLES_OF_GOOD.replace("[3]", "[4]"))
    assert main(["rules", "--rules", str(folder), "--check-examples"]) == 1
    out = capsys.readouterr().out
    file = folder / "ACME001-no-modify-all.yaml"
    assert (
        f"{file}: ACME001 example 1 (bad): expected ACME001 at Example.permissionset-meta.xml:4,"
        " found ACME001 at Example.permissionset-meta.xml:3\n"
    ) in out
    _write_rule(folder, "ACME001-no-modify-all.yaml", GOOD + EXAMPLES_OF_GOOD)
    assert main(["rules", "--rules", str(folder), "--check-examples"]) == 0


@pytest.mark.parametrize(
    ("tier", "found"),
    [
        (1, ["ModifyAllData 1"]),
        (2, ["ModifyAllData 1", "ManageUsers 2"]),
        ("{exactly: 2}", ["ManageUsers 2"]),
    ],
)
def test_privileged_tier_at_most_or_exactly(tmp_path: Path, tier: object, found: list[str]) -> None:
    rule = GOOD.replace("{name: ModifyAllData, enabled: true}", f"{{privileged_tier: {tier}}}")
    _write_rule(
        tmp_path / "r", "ACME001-no-modify-all.yaml", rule.replace("{label}", "{permission} {tier}")
    )
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "S.permissionset-meta.xml").write_text(
        "<PermissionSet>\n"
        + "".join(
            f"<userPermissions><enabled>true</enabled><name>{n}</name></userPermissions>\n"
            for n in ("ModifyAllData", "ManageUsers", "EditReadonlyFields", "ApiEnabled")
        )
        + "</PermissionSet>\n"
    )
    findings = run_check(tmp_path / "p", rule_dirs=(tmp_path / "r",), select=("ACME001",))
    assert [f.message.replace("S grants ", "") for f in findings.findings] == found


def test_tier_reason_is_the_catalogue_s_why(tmp_path: Path) -> None:
    rule = GOOD.replace("{name: ModifyAllData, enabled: true}", "{privileged_tier: {exactly: 2}}")
    _write_rule(
        tmp_path / "r", "ACME001-no-modify-all.yaml", rule.replace("{label}", "{tier_reason}")
    )
    (tmp_path / "S.permissionset-meta.xml").write_text(
        "<PermissionSet><userPermissions><enabled>true</enabled><name>ResetPasswords</name>"
        "</userPermissions></PermissionSet>"
    )
    (finding,) = run_check(
        tmp_path / "S.permissionset-meta.xml", rule_dirs=(tmp_path / "r",), select=("ACME001",)
    ).findings
    assert finding.message == (
        "S grants escalation / identity or security-control takeover: reset passwords / unlock"
        " users (account takeover path)"
    )


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


EXAMPLES_OF_GOOD = """examples:
  - bad: |
      <PermissionSet>
        <label>x</label>
        <userPermissions><enabled>true</enabled><name>ModifyAllData</name></userPermissions>
      </PermissionSet>
    expect: [3]
  - good: "<PermissionSet><label>x</label></PermissionSet>"
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


PERSONA_RULE = GOOD.replace("scope: file\n", "scope: persona\npersona_kinds: [integration]\n")
ALL_LICENSE = GOOD.replace(
    "  user_permission: {name: ModifyAllData, enabled: true}\n",
    "  all:\n"
    "    - user_permission: {name: ModifyAllData, enabled: true}\n"
    "    - license: SalesforceAPIIntegrationPsl\n",
)
UNRESOLVED = PERSONA_RULE.replace(
    "  user_permission: {name: ModifyAllData, enabled: true}\n", "  unresolved_reference: true\n"
)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            GOOD.replace("scope: file\n", "scope: file\ncomponent_types: [PermissonSet]\n"),
            6,
            "component_types.0: 'PermissonSet' is not one of ['Profile', 'PermissionSet',",
        ),
        (
            GOOD.replace("scope: file\n", "scope: persona\npersona_kinds: [integraton]\n"),
            6,
            "persona_kinds.0: 'integraton' is not one of ['integration', 'user']",
        ),
        (
            GOOD.replace("scope: file\n", "scope: file\napplies_to: [PermissionSet]\n"),
            6,
            "applies_to is split in two: component_types (file scope: Profile, PermissionSet,",
        ),
        (
            GOOD.replace("scope: file", "scope: persona"),
            5,
            "a persona-scope rule needs persona_kinds",
        ),
        (
            GOOD.replace("scope: file\n", "scope: file\npersona_kinds: [user]\n"),
            6,
            "persona_kinds needs scope persona",
        ),
        (
            PERSONA_RULE.replace(
                "scope: persona\n", "scope: persona\ncomponent_types: [Profile]\n"
            ),
            6,
            "component_types needs scope file",
        ),
        (
            GOOD.replace("{label}", "{persona}"),
            8,
            "placeholder {persona} is not filled for every file-scope finding of this rule"
            " (its match gives no persona there); available: component, component_type,"
            " did_you_mean, label, path, permission",
        ),
        # A persona finding from a grant names the set holding it, but one about a missing
        # reference has no component (its set is what is missing).
        (UNRESOLVED.replace("{label}", "{detail}"), 9, "placeholder {component} is not filled"),
        # all: the hits are the first child's, so the license matcher's value never arrives.
        (ALL_LICENSE.replace("{label}", "{license}"), 10, "placeholder {license} is not filled"),
        # any: a hit may come from either branch, so only what both give is certain.
        (
            ALL_LICENSE.replace("  all:", "  any:").replace(" grants {label}", ": {permission}"),
            10,
            "placeholder {permission} is not filled",
        ),
        (
            GOOD.replace(
                "{name: ModifyAllData, enabled: true}", "{name: X, not_names: [X]}"
            ).replace("{label}", "{tier}"),
            8,
            "placeholder {tier} is not filled",
        ),
        (
            PERSONA_RULE.replace(
                "  user_permission: {name: ModifyAllData, enabled: true}\n", "  xpath: /*\n"
            ),
            7,
            "this match can never match in scope persona",
        ),
        (
            GOOD.replace(
                "  user_permission: {name: ModifyAllData, enabled: true}\n",
                "  not: {in_persona: {kind: integraton}}\n",
            ),
            7,
            "match.not.in_persona.kind: 'integraton' is not one of ['integration', 'user']",
        ),
        (GOOD + "examples:\n  - bad: <PermissionSet/>\n", 13, "a bad example needs expect"),
        (
            GOOD + "examples:\n  - good: <PermissionSet/>\n    expect: [1]\n",
            14,
            "a good example gives no finding; drop expect",
        ),
        (
            GOOD + "examples:\n  - good: {A.permissionset.xml: <PermissionSet/>}\n",
            13,
            "'A.permissionset.xml' is not a permission metadata file name",
        ),
        (
            GOOD
            + "examples:\n  - bad: {A.permissionset-meta.xml: <PermissionSet/>}\n"
            + "    expect: [{path: B.permissionset-meta.xml, line: 1}]\n",
            14,
            "'B.permissionset-meta.xml' is none of the example's files: A.permissionset-meta.xml",
        ),
        (
            GOOD + "examples:\n  - bad: <PermissionSet/>\n    good: <PermissionSet/>\n",
            13,
            "an example has exactly one of bad and good",
        ),
    ],
)
def test_rule_contract_is_checked_at_load(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    _write_rule(tmp_path, "ACME001-no-modify-all.yaml", text)
    with pytest.raises(UsageError) as info:
        load_rules((tmp_path,))
    assert (info.value.line, info.value.message[: len(message)]) == (line, message)


def test_misspelled_component_type_is_exit_2_with_file_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sflint.cli import main

    text = GOOD.replace("scope: file\n", "scope: file\ncomponent_types: [PermissonSet]\n")
    file = _write_rule(tmp_path / "r", "ACME001-no-modify-all.yaml", text)
    (tmp_path / "p.permissionset-meta.xml").write_text("<PermissionSet/>")
    code = main(["check", str(tmp_path / "p.permissionset-meta.xml"), "--rules", str(file.parent)])
    err = capsys.readouterr().err
    assert code == 2
    # The rule file is shown relative to the project (here tmp_path, without sfdx-project.json).
    assert err.startswith("sflint: error: r/ACME001-no-modify-all.yaml:6: component_types.0: ")


def test_a_fix_option_for_component_types_may_name_the_component(tmp_path: Path) -> None:
    fix = (
        "fixes:\n  - id: add\n    title: Add it\n    applies_to: [PermissionSetGroup]\n"
        "    steps: ['Edit {component}.']\n"
    )
    text = UNRESOLVED.replace("{component} grants {label}", "{detail}").replace(
        "scope: persona\npersona_kinds", "scope: [file, persona]\npersona_kinds"
    )
    _write_rule(tmp_path, "ACME001-no-modify-all.yaml", text + fix)
    (rule,) = load_rules((tmp_path,))
    assert rule.fixes[0].steps == ("Edit {component}.",)
    _write_rule(
        tmp_path,
        "ACME001-no-modify-all.yaml",
        text + fix.replace("applies_to: [PermissionSetGroup]", "applies_to: [Persona]"),
    )
    with pytest.raises(
        UsageError, match=r"placeholder \{component\} is not filled for every persona"
    ):
        load_rules((tmp_path,))


def test_each_matcher_yields_only_what_it_declares() -> None:
    from sflint.model import ObjectAccess, PersonaKind
    from sflint.rules import matchers as m
    from sflint.rules.scope import SCOPE_PLACEHOLDERS, Scope

    leaves: list[m.Matcher] = [  # the leaves; each declares PROVIDES
        m.UserPermission(misspelling_of=frozenset({"X"}), tiers=frozenset({2})),
        m.License(frozenset({"L"})),
        m.ObjectPermission(frozenset({ObjectAccess.VIEW_ALL})),
        m.StrictPermissions(True),
        m.InPersona(PersonaKind.INTEGRATION),
        m.Detected(True),
        m.Invalid(),
        m.Incomplete(),
        m.Unresolved(),
        m.IntegrationSignal(True),
        m.Duplicate(),
        m.StandardProfile(True, frozenset({"Admin"})),
        m.ViaGroup(True),
        m.ProfileKnown(False),
        m.XPath("/*", None),  # type: ignore[arg-type]  # yields never runs the expression
    ]
    assert {type(x) for x in leaves} | {m.All, m.Any_, m.Not} == set(m.MATCHERS)
    for leaf in leaves:
        for scope in Scope:
            for shape in leaf.yields(scope).shapes:
                provides: frozenset[str] = type(leaf).PROVIDES  # type: ignore[attr-defined]
                assert shape <= provides, (leaf, scope)
    for scope in Scope:
        assert SCOPE_PLACEHOLDERS[scope] <= m.KNOWN_PLACEHOLDERS


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
component_types: [PermissionSet, Profile]
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
