"""A hostile pull request against sflint's bounds: each test is one attack, and what must hold.

SARIF within GitHub's limits (``sflint.output.sarif_limits``), SARIF message text that cannot
carry a link, xpath rules that cannot run unbounded, and bounded personas and rules.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from sflint.model import Finding, Severity
from sflint.output import sarif
from sflint.output.sarif_limits import MAX_BYTES, MAX_PER_RULE_AND_FILE, MAX_RESULTS
from tests.conftest import run_cli
from tests.factories import API_MFA, UNKNOWN_PERMISSION, make_finding, make_report
from tests.sarif_validation import assert_valid_sarif

NS = "http://soap.sforce.com/2006/04/metadata"
PERMISSION_SETS = "force-app/main/default/permissionsets"


def _grant(name: str, enabled: str = "true") -> str:
    return (
        "    <userPermissions>\n"
        f"        <enabled>{enabled}</enabled>\n"
        f"        <name>{name}</name>\n"
        "    </userPermissions>\n"
    )


def _permission_set(*grants: str, body: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<PermissionSet xmlns="{NS}">\n    <label>X</label>\n{body}{"".join(grants)}'
        "</PermissionSet>\n"
    )


def _project(root: Path, sets: dict[str, str], config: str | None = None) -> Path:
    folder = root / PERMISSION_SETS
    folder.mkdir(parents=True)
    (root / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "force-app"}]}')
    for name, text in sets.items():
        (folder / f"{name}.permissionset-meta.xml").write_text(text)
    if config is not None:
        (root / ".sflint.yml").write_text(config)
    return root


def _results(text: str) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = json.loads(text)["runs"][0]["results"]
    return results


def _left_out(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in results if "leftOut" in r["properties"]]


# --- SARIF within GitHub's limits ---------------------------------------------------------


def test_sarif_caps_findings_per_rule_and_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """250 misspelt names in one file, 50 in another: 100 of the first file's, then one
    summary result at the first finding left out; the JSON keeps all 300. (Each name is
    another one: a name granted again in its file is one finding, tested below.)"""
    big = [f"ViewAllDta-{i}" for i in range(250)]
    small = [f"ModifyAllDat-{i}" for i in range(50)]
    project = _project(
        tmp_path / "p",
        {"Big": _permission_set(*map(_grant, big)), "Small": _permission_set(*map(_grant, small))},
    )
    args = ("check", str(project), "--no-cache", "--select", "SFL004")
    code, text, _ = run_cli(capsys, *args, "--format", "sarif")
    assert code == 0
    assert_valid_sarif(text)
    results = _results(text)
    big_path = f"{PERMISSION_SETS}/Big.permissionset-meta.xml"
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]
    assert uris.count(big_path) == MAX_PER_RULE_AND_FILE + 1
    assert uris.count(f"{PERMISSION_SETS}/Small.permissionset-meta.xml") == 50
    # Grants are 4 lines each from line 4: the kept ones are the first 100 of the file.
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results]
    assert lines[:100] == [4 + 4 * i for i in range(100)]
    [summary] = _left_out(results)
    assert summary == {
        "message": {
            "text": "150 more findings of SFL004 (unknown-user-permission) in this file were"
            " left out of the SARIF: it keeps at most 100 per rule and file. Run sflint"
            " locally, or use --format json, to see all of them."
        },
        "level": "warning",
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": big_path, "uriBaseId": "SRCROOT"},
                    "region": {"endLine": 404, "startLine": 404},
                }
            }
        ],
        "partialFingerprints": {"sflint/v1": summary["partialFingerprints"]["sflint/v1"]},
        "properties": {"leftOut": 150},
        "ruleId": "SFL004",
        "ruleIndex": summary["ruleIndex"],
    }
    assert results[-1] == summary  # after every finding
    # Console and JSON keep every finding (JSON is for scripts).
    _, out, _ = run_cli(capsys, *args, "--format", "json")
    assert json.loads(out)["summary"]["findings"] == 300


def test_summary_fingerprint_does_not_change_with_the_count() -> None:
    def summary_of(n: int) -> dict[str, Any]:
        findings = tuple(
            make_finding(
                UNKNOWN_PERMISSION, "a.permissionset-meta.xml", i + 1, f"N{i}", key=f"N{i}"
            )
            for i in range(n)
        )
        [only] = _left_out(_results(sarif.render(make_report(findings, (UNKNOWN_PERMISSION,)))))
        return only

    first, second = summary_of(120), summary_of(130)
    assert first["partialFingerprints"] == second["partialFingerprints"]
    assert (first["properties"], second["properties"]) == ({"leftOut": 20}, {"leftOut": 30})


def _spread(files: int, per_file: int, severity: Severity = Severity.NOTE) -> list[Finding]:
    rule = UNKNOWN_PERMISSION if severity is Severity.NOTE else API_MFA
    return [
        make_finding(
            rule,
            f"s/F{f:04}.permissionset-meta.xml",
            i + 1,
            f"U{i} is unknown",
            severity=severity,
            key=f"U{i}",
        )
        for f in range(files)
        for i in range(per_file)
    ]


def test_sarif_caps_results_per_run_keeping_the_most_severe() -> None:
    """6,000 notes in 60 files, and 5 errors in the last file (last in path order): 5,000
    results in all, the errors among them, one summary per rule counting the rest."""
    errors = [
        make_finding(API_MFA, "z/Last.permissionset-meta.xml", i + 1, f"E{i}", key=f"E{i}")
        for i in range(5)
    ]
    findings = (*_spread(60, 100), *errors)
    text = sarif.render(make_report(findings, (API_MFA, UNKNOWN_PERMISSION)))
    assert_valid_sarif(text, multitool=False)  # the Multitool takes 20 s on 5,000 results
    results = _results(text)
    assert len(results) == MAX_RESULTS
    assert [r["message"]["text"] for r in results if r["ruleId"] == "SFL001"] == [
        f"E{i}" for i in range(5)
    ]
    [summary] = _left_out(results)
    assert summary["ruleId"] == "SFL004"
    assert summary["properties"] == {"leftOut": 6000 - (MAX_RESULTS - 5 - 1)}
    assert summary["message"]["text"] == (
        "1,006 more findings of SFL004 (unknown-user-permission) were left out of the SARIF:"
        " it keeps at most 5,000 results and 9,000,000 bytes, the most severe first. Run"
        " sflint locally, or use --format json, to see all of them."
    )
    # Where the first finding left out is: the notes are kept in path order.
    region = summary["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"] == "s/F0049.permissionset-meta.xml"
    assert region["region"]["startLine"] == 95
    kept = [r for r in results if r is not summary]
    assert kept == sorted(
        kept,
        key=lambda r: (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        ),
    )


def test_sarif_stays_under_the_size_limit_with_huge_names() -> None:
    """5,000 findings whose names are 2,700 characters of incompressible text: the SARIF
    stays under 9,000,000 bytes (and 10 MB gzip-compressed), and counts what it left out."""
    import base64
    import random

    rng = random.Random(9)
    findings = tuple(
        make_finding(
            UNKNOWN_PERMISSION,
            f"s/F{i % 200:03}.permissionset-meta.xml",
            i + 1,
            f"{name} is unknown",
            key=name,
            component_name=name,
        )
        for i, name in enumerate(
            base64.b64encode(rng.randbytes(2025)).decode() for _ in range(MAX_RESULTS)
        )
    )
    text = sarif.render(make_report(findings, (UNKNOWN_PERMISSION,)))
    data = text.encode("utf-8")
    assert len(data) <= MAX_BYTES
    assert len(gzip.compress(data)) < 10_000_000
    results = _results(text)
    left_out = sum(r["properties"]["leftOut"] for r in _left_out(results))
    assert len(results) - len(_left_out(results)) + left_out == MAX_RESULTS
    assert left_out > 0
    message = results[0]["message"]["text"]
    assert len(message) == 2000 and message.endswith("…")


def test_every_finding_is_kept_or_counted() -> None:
    findings = (*_spread(30, 150), *_spread(3, 10, Severity.ERROR))
    results = _results(sarif.render(make_report(findings, (API_MFA, UNKNOWN_PERMISSION))))
    summaries = _left_out(results)
    assert len(results) - len(summaries) + sum(r["properties"]["leftOut"] for r in summaries) == (
        len(findings)
    )
    assert len(results) == 30 * 101 + 30  # no run cap: 100 and a summary per file, the errors


def test_clone_fixes_too_large_for_sarif_are_left_out() -> None:
    finding = make_finding(API_MFA, "a.permissionset-meta.xml", 3, "m")
    big = sarif.ProposedFix("clone", (sarif.ByteEdit("b.xml", 0, 0, "x" * 100_000),))
    small = sarif.ProposedFix("edit", (sarif.ByteEdit("a.xml", 4, 4, "false"),))
    [large] = _results(sarif.render(make_report((finding,), (API_MFA,)), lambda _: [big]))
    assert "fixes" not in large
    assert large["properties"]["fixesLeftOut"] == (
        "too large for SARIF; sflint check --diff shows them"
    )
    [fine] = _results(sarif.render(make_report((finding,), (API_MFA,)), lambda _: [small]))
    assert fine["fixes"][0]["description"] == {"text": "edit"}


def test_a_rule_with_too_many_tags_keeps_githubs_maximum() -> None:

    rule = API_MFA._replace(tags=("security", *(f"t{i}" for i in range(30))))
    doc = sarif.build_log(make_report((), (rule,)))
    tags = doc["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["tags"]
    assert tags == ["security", *(f"t{i}" for i in range(19))]


# --- SARIF message text cannot carry a link -------------------------------------------------


@pytest.mark.parametrize(
    ("message", "text"),
    [
        ("Unknown [click](https://evil.example)", "Unknown \\[click\\](https://evil.example)"),
        ("a\\[b] c", "a\\\\\\[b\\] c"),
        ("no brackets \\ here", "no brackets \\ here"),
    ],
)
def test_sarif_message_escapes_embedded_link_syntax(message: str, text: str) -> None:
    finding = make_finding(API_MFA, "a.permissionset-meta.xml", 3, message)
    fix = sarif.ProposedFix(f"Disable {message}", (sarif.ByteEdit("a.xml", 4, 4, "false"),))
    [result] = _results(sarif.render(make_report((finding,), (API_MFA,)), lambda _: [fix]))
    assert result["message"] == {"text": text}
    assert result["fixes"][0]["description"] == {"text": f"Disable {text}"}


def test_permission_named_like_a_link_is_literal_in_sarif(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path / "p", {"Evil": _permission_set(_grant("[click](https://evil)"))})
    args = ("check", str(project), "--no-cache", "--select", "SFL004")
    _, text, _ = run_cli(capsys, *args, "--format", "sarif")
    _, out, _ = run_cli(capsys, *args, "--format", "json")
    [finding] = json.loads(out)["findings"]
    [result] = _results(text)
    assert "[click](https://evil)" in finding["message"]
    assert result["message"]["text"] == finding["message"].replace("[", "\\[").replace("]", "\\]")
    assert_valid_sarif(text)


# --- xpath rules are bounded ----------------------------------------------------------------

XPATH_RULE = """id: ACME001
name: costly
summary: An xpath rule from the repository
severity: warning
scope: file
match:
  xpath: {expression}
message: "{{component}} has {{detail}}"
docs:
  why: Because.
  how_to_fix: Remove it.
"""


def _xpath_rule(folder: Path, expression: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ACME001-costly.yaml").write_text(
        XPATH_RULE.format(expression=json.dumps(expression))
    )
    return folder


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        (
            "count(//*[count(//*[count(//*)>0])>0])",
            "a path that starts with // inside a predicate ([...]) is not supported: it scans"
            " the document once per node",
        ),
        (
            "//userPermissions[name = /*/label]",
            "a path that starts with / inside a predicate ([...]) is not supported: it scans"
            " the document once per node",
        ),
        (
            "//*[.//name]",
            "// inside a predicate ([...]) is not supported: it scans the document once per node",
        ),
        (
            "//*[preceding-sibling::*]",
            "the preceding-sibling axis is not supported: from each node it reaches all",
        ),
        (
            "//*[ancestor::userPermissions]",
            "the ancestor axis inside a predicate ([...]); allowed there: attribute, child,"
            " parent, self",
        ),
        ("//a//b//c//d//e", "more than 4 steps that descend (//, descendant::)"),
        ("/*" + "[1]" * 600, "longer than 1000 characters"),
        ("(" * 17 + "1" + ")" * 17, "nested more than 16 brackets deep"),
    ],
)
def test_costly_xpath_is_a_load_error_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], expression: str, reason: str
) -> None:
    project = _project(tmp_path / "p", {"S": _permission_set(_grant("ViewAllData"))})
    rules = _xpath_rule(project / "rules", expression)
    code, out, err = run_cli(capsys, "check", str(project), "--no-cache", "--rules", str(rules))
    assert (code, out) == (2, "")
    assert err == f"sflint: error: rules/ACME001-costly.yaml:7: invalid xpath: {reason}\n"


@pytest.mark.parametrize(
    "expression",
    [
        "/*/userPermissions[name='ViewAllData' and enabled='true']",
        "//userPermissions[enabled='true'][starts-with(name, 'View')]",
        "/*/*[local-name()='userPermissions'][not(enabled='false')][../label]",
    ],
)
def test_ordinary_xpath_rules_still_work(tmp_path: Path, expression: str) -> None:
    from tests.conftest import run_check

    project = _project(tmp_path / "p", {"S": _permission_set(_grant("ViewAllData"))})
    rules = _xpath_rule(tmp_path / "rules", expression)
    findings = run_check(project, rule_dirs=(rules,), select=("ACME001",)).findings
    assert [(f.rule, f.path, f.line, f.message) for f in findings] == [
        ("ACME001", f"{PERMISSION_SETS}/S.permissionset-meta.xml", 4, "S has ViewAllData")
    ]


def test_xpath_never_reads_a_file_the_reader_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file over the size limit, and one with a DOCTYPE: an xpath rule that matches every
    file finds neither; each is an invalid-metadata finding instead."""
    from sflint import safeio
    from tests.conftest import run_check

    big = _permission_set(*(_grant(f"P{i}") for i in range(50)))
    doctype = _permission_set(_grant("ViewAllData")).replace(
        "<PermissionSet", '<!DOCTYPE PermissionSet [<!ENTITY x "y">]>\n<PermissionSet', 1
    )
    small = _permission_set(_grant("ViewAllData"))
    project = _project(tmp_path / "p", {"Big": big, "Doc": doctype, "Small": small})
    monkeypatch.setattr(safeio, "METADATA_LIMIT", len(doctype.encode()))
    rules = _xpath_rule(tmp_path / "rules", "/*")
    findings = run_check(project, rule_dirs=(rules,), select=("ACME001", "SFL010")).findings
    assert [(f.rule, f.path.rpartition("/")[2], f.line) for f in findings] == [
        ("SFL010", "Big.permissionset-meta.xml", 1),
        ("SFL010", "Doc.permissionset-meta.xml", 2),
        ("ACME001", "Small.permissionset-meta.xml", 2),
    ]


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux's /proc")
def test_a_file_larger_than_its_status_says_is_read_whole_and_never_past_the_limit(
    tmp_path: Path,
) -> None:
    """A file is read in one read of the size its status gives, then in more reads for
    whatever it grew by: /proc's files say 0 bytes and hold more. The limit still holds."""
    from sflint import safeio

    status = Path("/proc/self/status")
    assert status.stat().st_size == 0
    assert safeio.read_no_follow(status, 1 << 20).startswith(b"Name:\t")
    with pytest.raises(safeio.Refused, match="grew over the 10 byte limit while being read"):
        safeio.read_no_follow(status, 10)
    exact = tmp_path / "exact.xml"
    exact.write_bytes(b"<a>" + b"x" * 100_000 + b"</a>")
    assert safeio.read_no_follow(exact, 100_007) == exact.read_bytes()
    with pytest.raises(safeio.Refused, match="is 100007 bytes, over the 100006 byte limit"):
        safeio.read_no_follow(exact, 100_006)


# --- personas and rules are bounded, and cost linear time ----------------------------------


def _personas(n: int) -> str:
    return "personas:\n" + "".join(f"  - name: P{i}\n    permission_sets: [S]\n" for i in range(n))


def test_more_personas_than_the_limit_is_an_error_at_the_first_one_too_many(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sflint.config import MAX_PERSONAS

    sets = {"S": _permission_set(_grant("ApiEnabled"))}
    project = _project(tmp_path / "p", sets, _personas(MAX_PERSONAS + 1))
    code, out, err = run_cli(capsys, "check", str(project), "--no-cache")
    assert (code, out) == (2, "")
    assert err == (
        "sflint: error: .sflint.yml:2002: more than 1000 personas (the limit); this is"
        " persona 1001\n"
    )
    fine = _project(tmp_path / "q", sets, _personas(MAX_PERSONAS))
    code, _, err = run_cli(capsys, "check", str(fine), "--no-cache", "--select", "SFL004")
    assert (code, err) == (0, "")


def test_a_duplicate_persona_name_among_many_is_found_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _personas(900) + "  - name: P17\n"
    project = _project(tmp_path / "p", {"S": _permission_set()}, config)
    code, _, err = run_cli(capsys, "check", str(project), "--no-cache")
    assert (code, err) == (2, "sflint: error: .sflint.yml:1802: duplicate persona name 'P17'\n")


def test_more_rule_files_than_the_limit_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sflint.rules.loader import MAX_RULES, builtin_rules_dir

    builtin = len(list(builtin_rules_dir().glob("*.yaml")))
    project = _project(tmp_path / "p", {"S": _permission_set()})
    rules = project / "rules"
    rules.mkdir()
    extra = MAX_RULES - builtin + 1
    for i in range(extra):
        (rules / f"ACME{i:04}-r.yaml").write_text("{}\n")
    code, out, err = run_cli(capsys, "check", str(project), "--no-cache", "--rules", str(rules))
    assert (code, out) == (2, "")
    assert err == (
        f"sflint: error: rules: {extra} rule files; at most 1000 are loaded from all rule"
        " folders together\n"
    )


def test_a_persona_rule_note_is_evaluated_once_per_persona_not_per_finding() -> None:
    """A group of 300 sets that each enable TwoFactorApi: 300 findings on one persona; the
    note's matcher (which reads every grant) runs once for it, not 300 times."""
    from dataclasses import dataclass

    from sflint.access import Index as AccessIndex
    from sflint.access import Persona, resolve
    from sflint.catalogue import load_catalogue
    from sflint.config import Reference
    from sflint.engine import evaluate
    from sflint.model import Component, ComponentType, Grant, Location, Member, PersonaKind
    from sflint.rules import matchers as m
    from sflint.rules.model import Note
    from sflint.rules.scope import Scope

    @dataclass
    class Counting:
        calls: int = 0

        def evaluate(self, subject: m.Subject) -> m.Result:
            self.calls += 1
            return (True, ())

        def yields(self, scope: Scope) -> m.Yield:
            return m.HITLESS

    sets = [
        Component(
            ComponentType.PERMISSION_SET,
            f"S{i}",
            (f"S{i}.permissionset-meta.xml",),
            grants=(Grant("TwoFactorApi", True, Location(f"S{i}.permissionset-meta.xml", 3)),),
        )
        for i in range(300)
    ]
    group = Component(
        ComponentType.PERMISSION_SET_GROUP,
        "G",
        ("G.permissionsetgroup-meta.xml",),
        members=tuple(Member(s.name, Location("G.permissionsetgroup-meta.xml", 3)) for s in sets),
    )
    components = (*sets, group)
    index = AccessIndex.build(components)
    persona = Persona(
        "App",
        PersonaKind.INTEGRATION,
        (Reference(ComponentType.PERMISSION_SET_GROUP, "G", Location(".sflint.yml", 2)),),
        Location(".sflint.yml", 2),
    )
    counting = Counting()
    rule = API_MFA._replace(
        scope=(Scope.PERSONA,),
        component_types=(),
        persona_kinds=(PersonaKind.INTEGRATION,),
        match=m.UserPermission(names=frozenset({"TwoFactorApi"}), enabled=True),
        message="{persona} gets {permission} from {component}",
        notes=(Note(counting, "(noted)"),),
    )
    access = resolve(persona, index)
    findings = evaluate([rule], components, (access,), load_catalogue(), index=index)
    assert [(f.path, f.line, f.message) for f in findings[:2]] == [
        ("S0.permissionset-meta.xml", 3, "App gets TwoFactorApi from S0 (noted)"),
        ("S1.permissionset-meta.xml", 3, "App gets TwoFactorApi from S1 (noted)"),
    ]
    assert len(findings) == 300
    assert counting.calls == 1


ANY_RULE = """id: ACME009
name: any-grant
summary: Any grant
severity: note
scope: file
match:
  any:
    - user_permission: {enabled: true}
    - user_permission: {name: TwoFactorApi}
message: "{component} grants {permission}"
docs:
  why: Because.
  how_to_fix: Remove it.
"""


def test_any_over_many_duplicate_grants_is_linear(tmp_path: Path) -> None:
    """10,000 grants under an ``any`` rule: every one is a finding, in seconds (comparing
    each hit with every kept one took half a minute here, 200 s at 25,000). Each grant names
    another permission: copies of one grant are one finding (the test after this one)."""
    import time

    from tests.conftest import run_check

    grants = [_grant(f"Perm{i}") for i in range(10_000)]
    project = _project(tmp_path / "p", {"Dup": _permission_set(*grants)})
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ACME009-any-grant.yaml").write_text(ANY_RULE)
    start = time.monotonic()
    findings = run_check(project, rule_dirs=(rules,), select=("ACME009",)).findings
    assert time.monotonic() - start < 15
    assert [f.line for f in findings] == [4 + 4 * i for i in range(10_000)]
