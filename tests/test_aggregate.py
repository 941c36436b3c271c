"""Aggregated findings (issue 11, precision on real repositories): a rule with
``aggregate: {by: component}`` gives one finding per persona and component, at the first
element, counting them and naming the first few, with every element in ``items`` (JSON and
SARIF). SFL016 is such a rule: a retrieved profile of an integration persona held View All
or Modify All on 832 objects, 832 warnings. A comment on one element leaves that element
out; the baseline and ``--new-since`` count each element, so a new object is never hidden
by the aggregate it joins."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sflint.errors import UsageError
from sflint.model import Finding, Severity, fingerprint
from sflint.rules.loader import parse_rule
from sflint.rules.schema import SCHEMA
from sflint.yamlload import load_checked
from tests.conftest import run_cli
from tests.sarif_validation import assert_valid_sarif

NS = "http://soap.sforce.com/2006/04/metadata"
PROFILE = "force-app/main/default/profiles/Sync.profile-meta.xml"
COMMENT = "    <!-- sflint: ignore SFL016 (the app reconciles every opportunity) -->\n"
# (object, View All, Modify All); Lead holds neither.
OBJECTS = (
    ("Account", False, True),
    ("Contact", True, False),
    ("Lead", False, False),
    ("Opportunity", True, True),
    ("Case", True, False),
    ("Solution", False, True),
)


def _obj(name: str, view_all: bool, modify_all: bool) -> str:
    """An <objectPermissions> element of 6 lines."""
    return (
        "    <objectPermissions>\n        <allowRead>true</allowRead>\n"
        f"        <modifyAllRecords>{str(modify_all).lower()}</modifyAllRecords>\n"
        f"        <object>{name}</object>\n"
        f"        <viewAllRecords>{str(view_all).lower()}</viewAllRecords>\n"
        "    </objectPermissions>\n"
    )


def _profile(objects: tuple[tuple[str, bool, bool], ...] = OBJECTS, before: str = "") -> str:
    """The profile, with ``COMMENT`` before Opportunity's element: Account at line 4,
    Contact 10, Lead 16, the comment 22, Opportunity 23, Case 29, Solution 35."""
    body = "".join((COMMENT if o[0] == "Opportunity" else "") + _obj(*o) for o in objects)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Profile xmlns="{NS}">\n'
        f"    <custom>true</custom>\n{before}{body}    <userLicense>Salesforce</userLicense>\n"
        "</Profile>\n"
    )


def _project(tmp_path: Path, profile: str | None = None, config: str = "") -> Path:
    root = tmp_path / "p"
    (root / ".git").mkdir(parents=True)
    (root / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "force-app"}]}')
    (root / ".sflint.yml").write_text(
        "personas:\n  - name: Sync app\n    profile: Sync\nrules:\n  select: [SFL016]\n" + config
    )
    (root / PROFILE).parent.mkdir(parents=True)
    (root / PROFILE).write_text(profile or _profile())
    return root


def _json(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> dict[str, Any]:
    code, out, err = run_cli(capsys, "check", str(root), "--format", "json", *args)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def _items(f: dict[str, Any]) -> list[tuple[str, int, str]]:
    return [(i["key"], i["line"], i["values"]["access"]) for i in f["items"]]


MESSAGE = (
    'Integration persona "Sync app" holds View All or Modify All on 4 objects through profile'
    " Sync: Account (Modify All), Contact (View All), Case (View All) and Solution (Modify All)."
    " View All reads and Modify All changes every record of its object regardless of sharing;"
    " an integration usually needs only the records it syncs."
)


def test_one_finding_per_persona_and_component_with_every_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _json(capsys, _project(tmp_path))
    ((f,),) = [doc["findings"]]
    assert (f["rule"], f["path"], f["line"], f["key"], f["occurrences"], f["lines"]) == (
        "SFL016",
        PROFILE,
        4,
        "*",
        4,
        [4, 10, 29, 35],
    )
    assert f["message"] == MESSAGE
    # Every object with its line and flags; Opportunity, under its comment, is left out.
    assert _items(f) == [
        ("Account", 4, "Modify All"),
        ("Contact", 10, "View All"),
        ("Case", 29, "View All"),
        ("Solution", 35, "Modify All"),
    ]
    assert f["items"][0] == {
        "key": "Account",
        "path": PROFILE,
        "line": 4,
        "values": {"object": "Account", "access": "Modify All"},
    }
    assert f["fixes"][0]["steps"][:2] == [
        "Ask the app's owner for which objects it must see or change every record: Account"
        " (Modify All), Contact (View All), Case (View All) and Solution (Modify All) (the"
        " finding's items list each object with its line and flags). Most integrations work on"
        " the records shared with their user.",
        "For every other object, clear View All and Modify All in Sync, keep the Read, Create,"
        " Edit and Delete the app's API calls use, and share the records it needs (an owner, a"
        " sharing rule or a queue).",
    ]
    # The suppressed object is its own finding, accepted by its comment with its reason.
    ((s,),) = [doc["suppressed"]]
    assert (s["rule"], s["path"], s["line"], s["key"], _items(s)) == (
        "SFL016",
        PROFILE,
        23,
        "Opportunity",
        [("Opportunity", 23, "View All, Modify All")],
    )
    assert "occurrences" not in s
    assert s["suppression"]["kind"] == "comment"
    assert s["suppression"]["reason"] == "the app reconciles every opportunity"
    assert s["fingerprint"] == fingerprint("SFL016", "Profile", "Sync", "Opportunity", "Sync app")
    assert doc["summary"]["suppressed"]["comment"] == 1


def test_the_console_names_the_first_three_and_counts_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    more = tuple((f"Obj{n}__c", True, False) for n in range(1, 831))
    root = _project(tmp_path, _profile((*OBJECTS, *more)))
    code, out, _ = run_cli(capsys, "check", str(root))
    assert code == 0
    first, summary = out.splitlines()
    assert first == (
        f'{PROFILE}:4: SFL016 [warning] Integration persona "Sync app" holds View All or Modify'
        " All on 834 objects through profile Sync: Account (Modify All), Contact (View All), Case"
        " (View All) and 831 more. View All reads and Modify All changes every record of its"
        " object regardless of sharing; an integration usually needs only the records it syncs."
    )
    assert summary.startswith("Found 1 finding (1 warning) in 1 file, 1 component; 1 finding")


def test_sarif_carries_every_object_and_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "check", str(_project(tmp_path)), "--format", "sarif")
    assert code == 0
    assert_valid_sarif(out)
    results = json.loads(out)["runs"][0]["results"]
    found = [
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["properties"]["key"],
            r["properties"].get("occurrences"),
            [(i["key"], i["line"], i["values"]["access"]) for i in r["properties"]["items"]],
            [s["kind"] for s in r.get("suppressions", ())],
        )
        for r in results
    ]
    assert found == [
        (
            "SFL016",
            4,
            "*",
            4,
            [
                ("Account", 4, "Modify All"),
                ("Contact", 10, "View All"),
                ("Case", 29, "View All"),
                ("Solution", 35, "Modify All"),
            ],
            [],
        ),
        (
            "SFL016",
            23,
            "Opportunity",
            None,
            [("Opportunity", 23, "View All, Modify All")],
            ["inSource"],
        ),
    ]
    assert results[0]["properties"]["lines"] == [4, 10, 29, 35]
    assert results[0]["message"]["text"] == MESSAGE


def test_the_aggregate_is_suppressed_only_when_every_object_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # ignore-file: one suppressed finding for every object of the file.
    whole = _profile().replace(
        "<Profile", "<!-- sflint: ignore-file SFL016 (retired) -->\n<Profile"
    )
    doc = _json(capsys, _project(tmp_path / "a", whole))
    assert doc["findings"] == []
    assert [
        (s["line"], s["key"], s["occurrences"], s["suppression"]["reason"])
        for s in doc["suppressed"]
    ] == [(5, "*", 5, "retired")]
    # A comment before each element: each object is accepted by its own comment.
    each = "".join(
        f"    <!-- sflint: ignore SFL016 ({name}) -->\n" + _obj(name, va, ma)
        for name, va, ma in OBJECTS
        if va or ma
    )
    doc = _json(
        capsys,
        _project(
            tmp_path / "b", _profile(()).replace("    <userLicense>", each + "    <userLicense>")
        ),
    )
    assert doc["findings"] == []
    assert [(s["key"], s["suppression"]["reason"]) for s in doc["suppressed"]] == [
        ("Account", "Account"),
        ("Contact", "Contact"),
        ("Opportunity", "Opportunity"),
        ("Case", "Case"),
        ("Solution", "Solution"),
    ]


def test_an_exception_by_rule_and_component_covers_the_whole_component(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = (
        "exceptions:\n  - rule: SFL016\n    component: Sync\n"
        "    reason: the reconciliation job reads everything\n"
    )
    doc = _json(capsys, _project(tmp_path, config=config))
    assert doc["findings"] == []
    assert [(s["line"], s["key"], s["suppression"]["kind"]) for s in doc["suppressed"]] == [
        (4, "*", "exception"),
        (23, "Opportunity", "comment"),
    ]
    assert doc["notices"] == []


def test_the_baseline_counts_each_object_and_never_hides_a_new_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path)
    monkeypatch.chdir(root)
    code, _, err = run_cli(capsys, "baseline")
    # One finding, and the baseline counts its objects: one entry each.
    assert (code, err) == (0, "Wrote .sflint-baseline.json: 1 finding covering 4 grants.\n")
    entries = [
        json.loads(line.strip().rstrip(","))
        for line in (root / ".sflint-baseline.json").read_text().splitlines()[3:-2]
    ]
    # One entry per object, each with the identity a finding on that object alone has.
    assert [(e["rule"], e["permission"], e["fingerprint"]) for e in entries] == [
        ("SFL016", o, fingerprint("SFL016", "Profile", "Sync", o, "Sync app"))
        for o in ("Account", "Case", "Contact", "Solution")
    ]
    doc = _json(capsys, root)
    assert doc["findings"] == []
    assert [(s["line"], s["key"], s["suppression"]["kind"]) for s in doc["suppressed"]] == [
        (4, "*", "baseline"),
        (23, "Opportunity", "comment"),
    ]
    # A new object: the aggregate is new again, with all five.
    added = (*OBJECTS, ("Pricebook2", True, False))
    (root / PROFILE).write_text(_profile(added))
    code, out, _ = run_cli(capsys, "check", str(root), "--format", "json")
    ((f,),) = [json.loads(out)["findings"]]
    assert (code, f["line"], f["occurrences"], [i["key"] for i in f["items"]]) == (
        0,
        4,
        5,
        ["Account", "Contact", "Case", "Solution", "Pricebook2"],
    )
    # One object swapped for another: as many as the baseline holds, and still new.
    swapped = tuple(("Pricebook2", True, False) if o[0] == "Account" else o for o in OBJECTS)
    (root / PROFILE).write_text(_profile(swapped))
    doc = _json(capsys, root)
    assert [(f["line"], f["occurrences"]) for f in doc["findings"]] == [(4, 4)]
    assert [n["message"] for n in doc["notices"]] == [
        "baseline entry for SFL016 on Sync (Account, Sync app) matches no finding: run sflint"
        " baseline to update the file"
    ]
    # One object removed: the rest stays accepted; its entry is paid off.
    fewer = tuple(o for o in OBJECTS if o[0] != "Account")
    (root / PROFILE).write_text(_profile(fewer))
    doc = _json(capsys, root)
    assert doc["findings"] == []
    assert [(s["line"], s["key"]) for s in doc["suppressed"]] == [(4, "*"), (17, "Opportunity")]
    assert [(n["line"], n["message"]) for n in doc["notices"]] == [
        (
            4,
            "baseline entry for SFL016 on Sync (Account, Sync app) matches no finding: run"
            " sflint baseline to update the file",
        )
    ]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def test_new_since_reports_the_aggregate_when_an_object_is_added(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path)
    (root / ".git").rmdir()
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "the org as it is")
    doc = _json(capsys, root, "--new-since", "HEAD")
    assert (doc["findings"], doc["summary"]["new_since"]["preexisting"]) == ([], 1)
    swapped = tuple(("Pricebook2", False, True) if o[0] == "Contact" else o for o in OBJECTS)
    (root / PROFILE).write_text(_profile(swapped))
    doc = _json(capsys, root, "--new-since", "HEAD")
    assert [
        (f["line"], f["occurrences"], [i["key"] for i in f["items"]]) for f in doc["findings"]
    ] == [(4, 4, ["Account", "Pricebook2", "Case", "Solution"])]


def test_the_fingerprint_stays_when_an_unrelated_line_moves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _json(capsys, _project(tmp_path / "a"))["findings"][0]
    grant = (
        "    <userPermissions>\n        <enabled>true</enabled>\n"
        "        <name>RunReports</name>\n    </userPermissions>\n"
    )
    after = _json(capsys, _project(tmp_path / "b", _profile(before=grant)))["findings"][0]
    assert (before["line"], after["line"]) == (4, 8)
    assert after["fingerprint"] == before["fingerprint"]
    assert before["fingerprint"] == fingerprint("SFL016", "Profile", "Sync", "*", "Sync app")


def test_units_are_the_elements_of_an_aggregated_finding() -> None:
    from sflint.model import Item, Location

    plain = Finding(
        "SFL001",
        "n",
        Severity.ERROR,
        "a.xml",
        3,
        "m",
        None,
        "P",
        "TwoFactorApi",
        "P",
        occurrences=2,
    )
    assert plain.units == ((plain.fingerprint, "a.xml", 2),)
    items = (Item("Account", Location("a.xml", 4)), Item("Case", Location("b.xml", 9), count=2))
    agg = Finding(
        "SFL016",
        "n",
        Severity.WARNING,
        "a.xml",
        4,
        "m",
        None,
        "P",
        "*",
        "P",
        occurrences=3,
        items=items,
    )
    assert agg.units == (
        (fingerprint("SFL016", "Persona", "P", "Account", "P"), "a.xml", 1),
        (fingerprint("SFL016", "Persona", "P", "Case", "P"), "b.xml", 2),
    )


RULE = """\
id: ACME001
name: all-objects
summary: Every object a set reads all of
severity: warning
scope: file
match:
  object_permission: {access: [viewAllRecords]}
aggregate:
  by: component
  item: "{object}"
  count: {one: object, other: objects}
message: "{component} holds View All on {count}: {items}"
docs: {why: w, how_to_fix: h}
"""


def _rule(tmp_path: Path, text: str) -> None:
    file = tmp_path / "ACME001-all-objects.yaml"
    file.write_text(text)
    parse_rule(load_checked(file, file.name, SCHEMA, None, root=tmp_path))


def test_the_loader_checks_an_aggregated_rule(tmp_path: Path) -> None:
    _rule(tmp_path, RULE)
    with pytest.raises(UsageError) as err:
        _rule(tmp_path, RULE.replace("View All on {count}", "View All on {object}"))
    assert str(err.value) == (
        "ACME001-all-objects.yaml:12: placeholder {object} differs between the elements one"
        " aggregated finding stands for: name it in aggregate.item, and {count} and {items} here"
    )
    with pytest.raises(UsageError) as err:
        _rule(tmp_path, RULE.replace('item: "{object}"', 'item: "{persona}"'))
    assert "placeholder {persona} is not filled for every file-scope finding" in str(err.value)
    with pytest.raises(UsageError) as err:
        _rule(
            tmp_path,
            RULE.replace(
                "  object_permission: {access: [viewAllRecords]}",
                "  not: {object_permission: {access: [viewAllRecords]}}",
            ),
        )
    assert str(err.value).startswith(
        "ACME001-all-objects.yaml:8: aggregate needs a match that always finds elements"
    )
    with pytest.raises(UsageError) as err:
        _rule(tmp_path, RULE.replace("by: component", "by: persona"))
    assert "ACME001-all-objects.yaml:9" in str(err.value)
    with pytest.raises(UsageError) as err:
        _rule(
            tmp_path,
            RULE.replace(
                "{component} holds View All on {count}", "{count} {items} {component}"
            ).replace(
                'aggregate:\n  by: component\n  item: "{object}"\n  count: {one: object, other: objects}\n',
                "",
            ),
        )
    assert "placeholder {count} is not filled" in str(err.value)


def test_diff_introduces_the_aggregate_an_object_joins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _project(tmp_path / "base")
    swapped = tuple(("Pricebook2", False, True) if o[0] == "Contact" else o for o in OBJECTS)
    head = _project(tmp_path / "head", _profile(swapped))
    same = _project(tmp_path / "same")
    code, out, _ = run_cli(capsys, "diff", str(base), str(head), "--format", "json")
    assert code == 0  # a warning; fail_on is error
    doc = json.loads(out)
    assert [(f["rule"], f["line"], f["key"]) for f in doc["findings"]["introduced"]] == [
        ("SFL016", 4, "*")
    ]
    # Not resolved: it still stands for Account, Case and Solution.
    assert doc["findings"]["resolved"] == []
    code, out, _ = run_cli(capsys, "diff", str(base), str(same), "--format", "json")
    doc = json.loads(out)
    assert (code, doc["findings"]["introduced"], doc["findings"]["resolved"]) == (0, [], [])


def test_thousands_of_comments_and_elements_cost_no_product() -> None:
    """20,000 suppressed elements under 20,000 comments: each finding's comment is looked up
    by place (waivers), as each element's is when aggregating (engine); comparing each with
    each took minutes."""
    import time
    from datetime import date

    from sflint.model import Location, Suppression
    from sflint.waivers import waive

    n = 20_000
    comments = [
        Suppression(("SFL016",), Location("a.xml", 10 * i), reason=f"r{i}") for i in range(n)
    ]
    comments.append(Suppression(("SFL002",), Location("b.xml", 1), whole_file=True, reason="old"))
    findings = [
        Finding("SFL016", "n", Severity.WARNING, "a.xml", 10 * i + (i % 2), "m", None, "P", f"O{i}")
        for i in range(n)
    ]
    findings.append(
        Finding("SFL002", "n", Severity.NOTE, "b.xml", 7, "m", None, "S", "TwoFactorApi")
    )
    start = time.monotonic()
    waived = waive(findings, comments, (), None, date(2026, 1, 1))
    assert time.monotonic() - start < 10
    reasons = [w.reason if w else None for w in waived.waivers]
    assert reasons[:4] == ["r0", None, "r2", None]
    assert reasons[-1] == "old"
    assert sum(r is not None for r in reasons) == n // 2 + 1
