from __future__ import annotations

import json
from typing import Any

import pytest
import sarif_om

from sflint.model import Severity
from sflint.output import Format, sarif
from sflint.output import render as render_format
from sflint.rules.model import FixTemplate
from tests.factories import (
    API_MFA,
    PERMISSION_NAME,
    PROFILE_PATH,
    SPACES_PATH,
    make_finding,
    make_report,
    scenario_report,
)
from tests.sarif_validation import assert_valid_sarif


def _log(text: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(text)
    return doc


def _results(doc: dict[str, Any]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = doc["runs"][0]["results"]
    return results


def test_snapshot(snapshot: Any) -> None:
    text = render_format(Format.SARIF, scenario_report())
    assert text == snapshot
    assert text.endswith("}\n")
    assert_valid_sarif(text)


def test_envelope() -> None:
    doc = _log(sarif.render(scenario_report()))
    assert doc["$schema"] == sarif.SCHEMA_URI
    assert doc["version"] == "2.1.0"
    assert len(doc["runs"]) == 1
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["name"] == "sflint"
    assert driver["version"] == "0.1.0"
    # No category by default: it would override upload-sarif's `category` input.
    assert "automationDetails" not in doc["runs"][0]


def test_every_enabled_rule_is_described_even_without_findings() -> None:
    doc = _log(sarif.render(make_report((), (PERMISSION_NAME, API_MFA))))
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["SFL001", "SFL003"]
    first = rules[0]
    assert first["name"] == "integration-api-mfa"
    assert first["shortDescription"]["text"] == API_MFA.summary
    assert first["fullDescription"]["text"] == API_MFA.docs.why
    assert first["defaultConfiguration"] == {"level": "error"}
    assert first["properties"] == {
        "tags": ["security", "mfa"],
        "precision": "high",
        "security-severity": "8.0",
    }
    assert "security-severity" not in rules[1]["properties"]
    assert _results(doc) == []


def test_help_lists_fix_options_and_links_references() -> None:
    doc = _log(sarif.render(make_report((), (API_MFA,))))
    help_ = doc["runs"][0]["tool"]["driver"]["rules"][0]["help"]
    for option in API_MFA.fixes:
        assert option.title in help_["text"]
        assert option.title in help_["markdown"]
    assert "1. Open {component}." in help_["markdown"]
    assert "### Disable TwoFactorApi in the permission set (PermissionSet)" in help_["markdown"]
    assert f"- <{API_MFA.docs.references[0]}>" in help_["markdown"]
    assert "- [Salesforce MFA FAQ](https://help.salesforce.com/" in help_["markdown"]


def test_results_levels_uris_and_fingerprints() -> None:
    report = scenario_report()
    doc = _log(sarif.render(report))
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    by_rule = {r["ruleId"]: r for r in _results(doc)}
    # "warning" equals sarif-om's default and must still be written (§3.27.10).
    assert {k: r["level"] for k, r in by_rule.items()} == {
        "SFL001": "error",
        "SFL003": "warning",
        "SFL004": "note",
    }
    for rule_id, result in by_rule.items():
        assert rules[result["ruleIndex"]]["id"] == rule_id
        assert result["message"]["text"]
    region = by_rule["SFL001"]["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"] == (
        "force-app/main/default/profiles/Custom%253A%20Sales%20Profile.profile-meta.xml"
    )
    assert region["region"] == {"startLine": 12, "endLine": 12}
    spaces = by_rule["SFL003"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert spaces == "force-app/main/default/permissionsets/Sales%20Ops.permissionset-meta.xml"
    finding = next(f for f in report.findings if f.rule == "SFL001")
    assert by_rule["SFL001"]["partialFingerprints"] == {"sflint/v1": finding.fingerprint}
    assert by_rule["SFL001"]["properties"]["persona"] == "Commission app connection"


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        (PROFILE_PATH, PROFILE_PATH.replace("%", "%25").replace(" ", "%20")),
        ("a:b/c.permissionset-meta.xml", "a%3Ab/c.permissionset-meta.xml"),
        ("./x/Ünïcode #1?.profile-meta.xml", "x/%C3%9Cn%C3%AFcode%20%231%3F.profile-meta.xml"),
        ("dir\\win.profile", "dir/win.profile"),
    ],
)
def test_artifact_uri(path: str, uri: str) -> None:
    assert sarif.artifact_uri(path) == uri


def test_results_sorted_and_output_deterministic() -> None:
    report = scenario_report()
    shuffled = report._replace(findings=tuple(reversed(report.findings)))
    assert sarif.render(report) == sarif.render(shuffled)
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in _results(_log(sarif.render(report)))
    ]
    assert uris == sorted(uris)


def test_suppressed_findings_are_left_out() -> None:
    # With --sarif-suppressed omit (and for suppressed findings without a waiver).
    report = scenario_report()
    kept, dropped = report.findings[:2], report.findings[2:]
    for omit in (True, False):
        doc = _log(
            sarif.render(
                report._replace(findings=kept, suppressed=dropped, sarif_suppressed=not omit)
            )
        )
        assert len(_results(doc)) == 2
        assert "suppressions" not in json.dumps(doc)


def test_suppressed_findings_carry_their_suppression() -> None:
    from sflint.model import Location, Waiver, WaiverKind

    report = scenario_report()
    kept, dropped = report.findings[:1], report.findings[1:3]
    waivers = (
        Waiver(
            WaiverKind.COMMENT,
            "people who use Data Loader",
            Location(dropped[0].path, dropped[0].line),
        ),
        Waiver(WaiverKind.BASELINE, "in the baseline", Location(".sflint-baseline.json", 4)),
    )
    accepted = tuple(f._replace(waiver=w) for f, w in zip(dropped, waivers, strict=True))
    text = sarif.render(report._replace(findings=kept, suppressed=accepted))
    results = _results(_log(text))
    assert [(r["ruleId"], "suppressions" in r) for r in results] == [
        (kept[0].rule, False),
        (accepted[0].rule, True),
        (accepted[1].rule, True),
    ]
    comment, base = results[1]["suppressions"][0], results[2]["suppressions"][0]
    assert (comment["kind"], comment["status"], comment["justification"]) == (
        "inSource",
        "accepted",
        "people who use Data Loader",
    )
    assert (base["kind"], base["justification"]) == ("external", "in the baseline")
    region = base["location"]["physicalLocation"]
    assert (region["artifactLocation"]["uri"], region["region"]["startLine"]) == (
        ".sflint-baseline.json",
        4,
    )
    assert_valid_sarif(text, multitool=False)


@pytest.mark.parametrize(("category", "expected"), [("sflint", "sflint/"), ("ci/x/", "ci/x/")])
def test_category_becomes_automation_details(category: str, expected: str) -> None:
    text = sarif.render(scenario_report(sarif_category=category))
    assert _log(text)["runs"][0]["automationDetails"] == {"id": expected}
    assert_valid_sarif(text, multitool=False)


def test_finding_of_a_rule_not_enabled_still_resolves() -> None:
    orphan = make_finding(API_MFA, "x.profile-meta.xml", 0, "  ", severity=Severity.WARNING)
    orphan = orphan._replace(rule="SFL999", name="invalid-metadata")
    text = sarif.render(make_report((orphan,), (PERMISSION_NAME,)))
    doc = _log(text)
    result = _results(doc)[0]
    assert doc["runs"][0]["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "SFL999"
    assert result["message"]["text"] == "SFL999 invalid-metadata"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
    assert_valid_sarif(text, multitool=False)


def test_duplicate_rules_are_described_once() -> None:
    doc = _log(sarif.render(make_report((), (API_MFA, API_MFA))))
    assert len(doc["runs"][0]["tool"]["driver"]["rules"]) == 1


def test_security_severity_is_a_string() -> None:
    rule = API_MFA._replace(security_severity=7.25)
    doc = _log(sarif.render(make_report((), (rule,))))
    assert doc["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"] == "7.25"


def test_fix_hook_emits_valid_fixes() -> None:
    report = scenario_report()
    profile = sarif.ByteEdit(PROFILE_PATH, offset=412, length=4, text="false")
    insertion = sarif.ByteEdit(SPACES_PATH, offset=0, length=0, text="<!-- x -->\n")

    def provider(finding: Any) -> list[sarif.ProposedFix]:
        if finding.rule != "SFL001":
            return []
        return [sarif.ProposedFix("Disable TwoFactorApi", (profile, insertion))]

    text = sarif.render(report, provider)
    fixed = next(r for r in _results(_log(text)) if r["ruleId"] == "SFL001")
    assert fixed["fixes"] == [
        {
            # One change per file, in path order.
            "artifactChanges": [
                {
                    "artifactLocation": {"uri": sarif.artifact_uri(SPACES_PATH)},
                    "replacements": [
                        {
                            "deletedRegion": {"byteLength": 0, "byteOffset": 0},
                            "insertedContent": {"text": "<!-- x -->\n"},
                        }
                    ],
                },
                {
                    "artifactLocation": {"uri": sarif.artifact_uri(PROFILE_PATH)},
                    "replacements": [
                        {
                            "deletedRegion": {"byteLength": 4, "byteOffset": 412},
                            "insertedContent": {"text": "false"},
                        }
                    ],
                },
            ],
            "description": {"text": "Disable TwoFactorApi"},
        }
    ]
    assert sum("fixes" in r for r in _results(_log(text))) == 1
    assert_valid_sarif(text)


@pytest.mark.parametrize(
    ("before", "after", "edit"),
    [
        (b"<a>true</a>\n", b"<a>false</a>\n", (3, 3, b"fals")),
        (b"x\n  <b/>\n", b"x\n", (2, 7, b"")),
        ("<l>caf\u00e9</l>".encode(), "<l>caf\u00e8</l>".encode(), (6, 2, "\u00e8".encode())),
        (b"same", b"same", None),
    ],
)
def test_byte_edit_from_whole_file_contents(
    before: bytes, after: bytes, edit: tuple[int, int, bytes] | None
) -> None:
    result = sarif.byte_edit("p.xml", before, after)
    if edit is None:
        assert result is None
        return
    assert result == sarif.ByteEdit("p.xml", *edit)
    assert isinstance(result.text, bytes)
    assert before[: result.offset] + result.text + before[result.offset + result.length :] == after


def test_non_utf8_insertions_are_written_as_binary() -> None:
    fix = sarif.ProposedFix("latin-1", (sarif.ByteEdit("a.xml", 0, 1, b"\xe9"),))
    [out] = sarif.sarif_fixes([fix])
    replacement = out["artifactChanges"][0]["replacements"][0]
    assert replacement["insertedContent"] == {"binary": "6Q=="}


def test_fix_hook_rejects_overlapping_edits() -> None:
    edits = (sarif.ByteEdit("a", 10, 5, "x"), sarif.ByteEdit("a", 12, 1, "y"))
    with pytest.raises(ValueError, match="overlapping"):
        sarif.sarif_fixes([sarif.ProposedFix("bad", edits)])
    assert sarif.sarif_fixes([]) == []


def test_converter_uses_sarif_names_and_keeps_explicit_levels() -> None:
    # sarif-om's Suppression.state is SARIF 2.1.0's "status" (§3.35.3).
    suppression = sarif_om.Suppression(kind="external", state="accepted")
    assert sarif._to_json(suppression) == {"kind": "external", "status": "accepted"}
    config = sarif_om.ReportingConfiguration(level="warning")
    assert sarif._to_json(config) == {"level": "warning"}
    with pytest.raises(TypeError):
        sarif._to_json({"x": {1, 2}})


def test_validation_helper_rejects_what_github_rejects() -> None:
    doc = sarif.build_log(make_report((), (API_MFA,)))
    doc["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"] = 8.0
    with pytest.raises(pytest.fail.Exception, match="security-severity"):
        assert_valid_sarif(json.dumps(doc), multitool=False)


def test_help_markdown_escapes_html_outside_code_spans() -> None:
    rule = API_MFA._replace(
        fixes=(
            FixTemplate(
                id="x",
                title="Remove <userPermissions>",
                steps=("Delete the <userPermissions> block; `sflint check --fix <path>` does it.",),
            ),
        ),
    )
    doc = _log(sarif.render(make_report((), (rule,))))
    markdown = doc["runs"][0]["tool"]["driver"]["rules"][0]["help"]["markdown"]
    assert "### Remove &lt;userPermissions&gt;\n\n" in markdown
    assert "1. Delete the &lt;userPermissions&gt; block; `sflint check --fix <path>` does it." in (
        markdown
    )
