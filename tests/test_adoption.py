"""Issue 13, "Done when": a team adopts sflint on a repository with existing findings by
writing a baseline, and a later change that adds one TwoFactorApi grant fails with that one
finding only; ``--new-since`` does the same from git; exceptions with reasons and expiry
behave as described in every format. The real CLI in a subprocess, on a git repository."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLE
from tests.sarif_validation import assert_valid_sarif

PS = "force-app/main/default/permissionsets"
INT = "integrations/main/default/permissionsets"
GRANT = (
    "    <userPermissions>\n        <enabled>true</enabled>\n"
    "        <name>TwoFactorApi</name>\n    </userPermissions>\n"
)
# The example's findings today: (rule, path, line).
BACKLOG = [
    ("SFL001", f"{PS}/Commission_App_API.permissionset-meta.xml", 24),
    ("SFL003", "force-app/main/default/profiles/Custom%3A Sales Profile.profile-meta.xml", 9),
    ("SFL002", f"{INT}/Data_Loader_Users.permissionset-meta.xml", 13),
    ("SFL001", f"{INT}/Sales_Data_Access.permissionset-meta.xml", 8),
]  # Sales_Data_Access's SFL005 is folded into its SFL001 (issue 11)


def sflint(repo: Path, *args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "sflint", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The example project as a git repository with one commit."""
    project = tmp_path / "repo"
    shutil.copytree(EXAMPLE, project)
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "the org as it is")
    return project


def add_grant(repo: Path, name: str = "Reporting_Sync") -> None:
    """One TwoFactorApi grant in a set of the integration persona's group (line 12)."""
    file = repo / PS / f"{name}.permissionset-meta.xml"
    file.write_text(file.read_text().replace("</PermissionSet>", GRANT + "</PermissionSet>"))


def found(out: str) -> tuple[list[tuple[str, str, int]], dict[str, Any]]:
    doc = json.loads(out)
    return [(f["rule"], f["path"], f["line"]) for f in doc["findings"]], doc


def test_adopt_with_a_baseline_then_one_new_grant_fails_with_it_alone(repo: Path) -> None:
    code, _, err = sflint(repo, "baseline")
    assert (code, err) == (0, "Wrote .sflint-baseline.json: 4 findings.\n")
    text = (repo / ".sflint-baseline.json").read_text()
    lines = text.splitlines()
    # Sorted, one entry per line, for a diff a reviewer can read.
    assert lines[:2] == ["{", '  "schema": "sflint/baseline/v1",']
    assert [json.loads(line.strip().rstrip(","))["rule"] for line in lines[3:-2]] == [
        "SFL001",
        "SFL003",
        "SFL002",
        "SFL001",
    ]
    code, out, _ = sflint(repo, "check", "--format", "json")
    findings, doc = found(out)
    assert (code, findings) == (0, [])
    assert [(f["rule"], f["path"], f["line"]) for f in doc["suppressed"]] == BACKLOG
    assert {f["suppression"]["kind"] for f in doc["suppressed"]} == {"baseline"}
    assert doc["summary"]["suppressed"] == {
        "total": 4,
        "comment": 0,
        "exception": 0,
        "baseline": 4,
    }
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "adopt sflint")

    add_grant(repo)
    code, out, _ = sflint(repo, "check", "--format", "json")
    assert (code, found(out)[0]) == (
        1,
        [("SFL001", f"{PS}/Reporting_Sync.permissionset-meta.xml", 12)],
    )
    code, out, _ = sflint(repo, "check")
    assert code == 1
    assert out.splitlines()[0].startswith(
        f"{PS}/Reporting_Sync.permissionset-meta.xml:12: SFL001 [error] Integration persona"
    )
    assert out.splitlines()[1].startswith("Found 1 finding (1 error) in 8 files")
    assert "; 4 findings suppressed (4 by the baseline)." in out
    # --no-ignores: an auditor sees everything again.
    code, out, _ = sflint(repo, "check", "--format", "json", "--no-ignores")
    assert (code, len(found(out)[0])) == (1, 5)


def test_new_since_reports_only_what_the_change_adds(repo: Path) -> None:
    add_grant(repo)
    code, out, _ = sflint(repo, "check", "--format", "json", "--new-since", "HEAD")
    findings, doc = found(out)
    assert (code, findings) == (1, [("SFL001", f"{PS}/Reporting_Sync.permissionset-meta.xml", 12)])
    assert doc["summary"]["new_since"] == {"revision": "HEAD", "preexisting": 4}
    # Moving a finding's lines is not new: fingerprints hold no line numbers.
    sales = repo / INT / "Sales_Data_Access.permissionset-meta.xml"
    sales.write_text(sales.read_text().replace("<label>", "\n\n\n<label>"))
    code, out, _ = sflint(repo, "check", "--format", "json", "--new-since", "HEAD")
    assert (code, found(out)[0]) == (
        1,
        [("SFL001", f"{PS}/Reporting_Sync.permissionset-meta.xml", 12)],
    )
    code, out, err = sflint(repo, "check", "--new-since", "no-such-rev")
    assert (code, out) == (2, "")
    assert err.startswith("sflint: error: --new-since no-such-rev: not a commit of the repository")
    # The working tree and the index are untouched.
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
    assert sorted(status.splitlines()) == [
        f" M {PS}/Reporting_Sync.permissionset-meta.xml",
        f" M {INT}/Sales_Data_Access.permissionset-meta.xml",
    ]


def test_a_second_identical_finding_is_new_and_paid_debt_is_listed(repo: Path) -> None:
    assert sflint(repo, "baseline")[0] == 0
    api = repo / PS / "Commission_App_API.permissionset-meta.xml"
    text = api.read_text()
    # The same grant twice in one file: the same fingerprint, the baseline counts one. The
    # copies are one finding at the first, whose lines name the new one (the copies' count
    # is more than the baseline accepted, so it is new).
    api.write_text(text.replace("</PermissionSet>", GRANT + "</PermissionSet>"))
    added = text.count("\n")
    code, out, _ = sflint(repo, "check", "--format", "json")
    assert (code, found(out)[0]) == (1, [("SFL001", api.relative_to(repo).as_posix(), 24)])
    [finding] = found(out)[1]["findings"]
    assert (finding["occurrences"], finding["lines"]) == (2, [24, added])
    # Paying one debt: the entry that matches nothing is listed at its line.
    loader = repo / INT / "Data_Loader_Users.permissionset-meta.xml"
    loader.write_text(loader.read_text().replace("TwoFactorApi", "RunReports"))
    api.write_text(text)
    code, out, _ = sflint(repo, "check")
    assert code == 0
    assert out.splitlines()[0] == (
        ".sflint-baseline.json:6: [warning] baseline entry for SFL002 on Data_Loader_Users"
        " (TwoFactorApi) matches no finding: run sflint baseline to update the file"
    )
    code, _, err = sflint(repo, "baseline")
    assert (code, err) == (
        0,
        "Wrote .sflint-baseline.json: 3 findings (0 added, 1 removed since the file it replaces).\n",
    )


EXCEPTIONS = """\
exceptions:
  - rule: SFL002
    component: Data_Loader_Users
    permission: TwoFactorApi
    reason: People who use Data Loader must pass MFA
    owner: "@acme/security"
    expires: 2999-12-31
  - rule: mfa-permission-name
    component: "Custom: Sales Profile"
    reason: the deploy tool renames it
    expires: 2001-01-31
  - rule: SFL003
    component: Nothing_Here
    reason: left over
"""


def test_exceptions_with_reasons_and_expiry_in_every_format(repo: Path, tmp_path: Path) -> None:
    config = repo / ".sflint.yml"
    offset = config.read_text().count("\n")
    config.write_text(config.read_text() + EXCEPTIONS)
    first, expired, unmatched = offset + 2, offset + 8, offset + 12
    expired_text = (
        "exception for mfa-permission-name on Custom: Sales Profile expired on 2001-01-31:"
        " it no longer applies; its finding counts again"
    )
    unmatched_text = (
        "exception for SFL003 on Nothing_Here matches no finding: remove it, or correct its"
        " rule, component, permission or persona"
    )
    kept = [b for b in BACKLOG if b[0] != "SFL002"]

    code, out, _ = sflint(repo, "check", "--format", "json")
    findings, doc = found(out)
    assert (code, findings) == (1, kept)
    [accepted] = doc["suppressed"]
    assert (accepted["rule"], accepted["path"], accepted["line"]) == BACKLOG[2]
    assert accepted["suppression"] == {
        "kind": "exception",
        "reason": "People who use Data Loader must pass MFA",
        "path": ".sflint.yml",
        "line": first,
        "owner": "@acme/security",
        "expires": "2999-12-31",
    }
    assert doc["notices"] == [
        {"level": "warning", "path": ".sflint.yml", "line": expired, "message": expired_text},
        {"level": "warning", "path": ".sflint.yml", "line": unmatched, "message": unmatched_text},
    ]

    code, out, _ = sflint(repo, "check")
    lines = out.splitlines()
    assert lines[3:5] == [
        f".sflint.yml:{expired}: [warning] {expired_text}",
        f".sflint.yml:{unmatched}: [warning] {unmatched_text}",
    ]
    assert "; 1 finding suppressed (1 by an exception)." in lines[5]

    code, out, _ = sflint(repo, "check", "--format", "github")
    assert out.splitlines()[3:] == [
        f"::warning file=.sflint.yml,line={expired},title=sflint triage::{expired_text}",
        f"::warning file=.sflint.yml,line={unmatched},title=sflint triage::{unmatched_text}",
        "::notice title=sflint::1 finding suppressed (1 by an exception)",
    ]

    code, out, _ = sflint(repo, "check", "--format", "markdown")
    assert "1 suppressed finding not shown (1 by an exception).\n" in out
    assert f"- `.sflint.yml:{expired}` (warning): exception for mfa-permission-name on" in out

    sarif = tmp_path / "x.sarif"
    code, _, _ = sflint(repo, "check", "--sarif-file", str(sarif))
    log = json.loads(sarif.read_text())
    run = log["runs"][0]
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert [
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in suppressed
    ] == [("SFL002", 13)]
    assert suppressed[0]["suppressions"][0]["kind"] == "external"
    assert suppressed[0]["suppressions"][0]["status"] == "accepted"
    assert (
        suppressed[0]["suppressions"][0]["justification"]
        == "People who use Data Loader must pass MFA"
    )
    notes = run["invocations"][0]["toolConfigurationNotifications"]
    assert [n["message"]["text"] for n in notes] == [expired_text, unmatched_text]
    assert run["invocations"][0]["properties"]["suppressed"] == {
        "total": 1,
        "comment": 0,
        "exception": 1,
        "baseline": 0,
    }
    assert_valid_sarif(sarif)
    code, _, _ = sflint(repo, "check", "--sarif-file", str(sarif), "--sarif-suppressed", "omit")
    assert not [
        r for r in json.loads(sarif.read_text())["runs"][0]["results"] if "suppressions" in r
    ]

    # --no-ignores: every finding, and nothing to say about the triage.
    code, out, _ = sflint(repo, "check", "--format", "json", "--no-ignores")
    findings, doc = found(out)
    assert (findings, doc["notices"], doc["suppressed"]) == (BACKLOG, [], [])


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{not json", "invalid JSON: Expecting property name enclosed in double quotes"),
        ('{"schema": "sflint/baseline/v1", "findings": [], "extra": 1}', "unknown key 'extra'"),
        (
            '{"schema": "sflint/baseline/v1", "findings": [\n  {"fingerprint": "00000000000000000000000000000000", "rule": "SFL014", "component": {"type": "PermissionSet", "name": "Old"}, "permission": "X", "persona": null, "path": "a"}\n]}',
            "findings.0: the fingerprint is not that of its rule, component, permission and"
            " persona; regenerate the file with sflint baseline",
        ),
    ],
    ids=["not-json", "unknown-key", "borrowed-fingerprint"],
)
def test_a_hostile_baseline_is_a_file_line_error(repo: Path, entry: str, message: str) -> None:
    (repo / ".sflint-baseline.json").write_text(entry)
    code, out, err = sflint(repo, "check")
    line = 2 if "findings.0" in message else 1
    assert (code, out, err) == (2, "", f"sflint: error: .sflint-baseline.json:{line}: {message}\n")


def test_baseline_links_and_sizes_are_refused(repo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text('{"schema": "sflint/baseline/v1", "findings": []}')
    (repo / ".sflint-baseline.json").symlink_to(secret)
    code, _, err = sflint(repo, "check")
    assert (code, err) == (
        2,
        "sflint: error: .sflint-baseline.json: not read: it is a symbolic link to a file"
        " outside the project\n",
    )
    (repo / ".sflint-baseline.json").unlink()
    with (repo / ".sflint-baseline.json").open("wb") as big:
        big.truncate(16 * 1024 * 1024 + 1)
    code, _, err = sflint(repo, "check")
    assert (code, err) == (
        2,
        "sflint: error: .sflint-baseline.json: not read: it is 16777217 bytes, over the"
        " 16777216 byte limit\n",
    )


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "exceptions:\n  - rule: SFL001\n    component: X\n",
            2,
            "exceptions.0: 'reason' is a required property",
        ),
        (
            "exceptions:\n  - rule: SFL001\n    component: X\n    reason: '  '\n",
            4,
            "exceptions.0.reason: '  ' does not match '\\\\S'",
        ),
        (
            "exceptions:\n  - rule: SFL001\n    component: X\n    reason: r\n    expires: 2025-02-30\n",
            5,
            "exceptions.0.expires: '2025-02-30' is not a date (YYYY-MM-DD)",
        ),
        (
            "exceptions:\n  - rule: SFL001\n    component: X\n    reason: r\n    until: 2025-01-01\n",
            5,
            "unknown key 'until'",
        ),
    ],
    ids=["no-reason", "blank-reason", "impossible-date", "unknown-key"],
)
def test_exception_mistakes_are_file_line_errors(
    repo: Path, text: str, line: int, message: str
) -> None:
    (repo / ".sflint.yml").write_text(text)
    code, out, err = sflint(repo, "check")
    assert (code, out, err) == (2, "", f"sflint: error: .sflint.yml:{line}: {message}\n")


def test_a_comment_keeps_its_reason_in_json(tmp_path: Path) -> None:
    from tests.conftest import CASES

    project = tmp_path / "suppressed"
    shutil.copytree(CASES / "suppressed", project)
    code, out, _ = sflint(project, "check", "--format", "json", "--select", "SFL002,SFL005")
    doc = json.loads(out)
    assert code == 0
    assert [
        (f["rule"], f["line"], f["suppression"]["kind"], f["suppression"]["reason"])
        for f in doc["suppressed"]
    ] == [
        ("SFL002", 10, "comment", "people with Data Loader must pass MFA"),
        ("SFL002", 5, "comment", "suppressed by a comment (no reason given)"),
        ("SFL005", 5, "comment", "suppressed by a comment (no reason given)"),
    ]
