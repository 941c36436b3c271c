from __future__ import annotations

from typing import Any

import pytest

from sflint.model import Severity
from sflint.output import Format, github
from sflint.output import render as render_format
from tests.factories import API_MFA, MULTILINE_MESSAGE, make_finding, make_report, scenario_report


def test_snapshot(snapshot: Any) -> None:
    assert render_format(Format.GITHUB, scenario_report()) == snapshot


def test_one_command_per_finding_with_exact_escaping() -> None:
    lines = github.render(scenario_report()).splitlines()
    assert len(lines) == 3
    assert lines[1] == (
        "::warning file=force-app/main/default/permissionsets/Sales Ops.permissionset-meta.xml,"
        "line=7,title=SFL003 mfa-permission-name::"
        "ForceTwoFactorInApi is not a user permission: the deploy fails,%0A"
        "use TwoFactorApi (100%25 of API logins need it)%0D%0A"
        "# not a heading, - not a list"
    )
    # The literal "%3A" of the Salesforce file name survives the runner's unescaping.
    assert lines[2].startswith(
        "::error file=force-app/main/default/profiles/Custom%253A Sales Profile.profile-meta.xml,"
        "line=12,title=SFL001 integration-api-mfa::"
    )


@pytest.mark.parametrize(
    ("severity", "command"),
    [(Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.NOTE, "notice")],
)
def test_levels(severity: Severity, command: str) -> None:
    finding = make_finding(API_MFA, "a.profile-meta.xml", 3, "m", severity=severity)
    assert github.annotation(finding).startswith(f"::{command} file=")


def test_escaping_follows_actions_toolkit() -> None:
    assert github.escape_data("100%\r\n: ,") == "100%25%0D%0A: ,"
    assert github.escape_property("a%3A b:c,d\ne") == "a%253A b%3Ac%2Cd%0Ae"
    assert github.escape_data(MULTILINE_MESSAGE).count("\n") == 0


def test_title_is_a_property_and_escaped() -> None:
    rule = API_MFA._replace(id="SFL001", name="odd:name,x")
    finding = make_finding(rule, "a.xml", 0, "")
    # Line 0 would be rejected by the runner; an empty message would show nothing.
    assert github.annotation(finding) == (
        "::error file=a.xml,line=1,title=SFL001 odd%3Aname%2Cx::SFL001 odd:name,x"
    )


def test_no_findings_no_output() -> None:
    assert github.render(make_report((), (API_MFA,))) == ""
