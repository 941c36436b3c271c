"""Each folder in testdata/cases is a small project whose files mark every expected finding
with an ``expect:`` comment; the check must produce exactly those (rule, path, line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CASES, EXAMPLE, expected_markers, run_check

PROJECTS = sorted(p for p in CASES.iterdir() if p.is_dir())


@pytest.mark.parametrize("project", PROJECTS, ids=[p.name for p in PROJECTS])
def test_case_findings_match_markers(project: Path) -> None:
    expected = expected_markers(project)
    assert expected, "a case without markers proves nothing"
    # A list, not a set: the same finding reported twice (by two personas, or by a file
    # rule and a persona rule) is a defect; a marker names a rule twice when it is meant.
    found = sorted((f.rule, f.path, f.line) for f in run_check(project).findings)
    assert found == expected


def test_example_project_findings() -> None:
    found = {(f.rule, f.path, f.line, f.persona) for f in run_check(EXAMPLE).findings}
    ps = "force-app/main/default/permissionsets"
    assert found == {
        (
            "SFL001",
            f"{ps}/Commission_App_API.permissionset-meta.xml",
            24,
            "Commission app connection",
        ),
        (
            "SFL001",
            "integrations/main/default/permissionsets/Sales_Data_Access.permissionset-meta.xml",
            8,
            "Commission app connection",
        ),
        (
            "SFL002",
            "integrations/main/default/permissionsets/Data_Loader_Users.permissionset-meta.xml",
            13,
            None,
        ),
        (
            "SFL003",
            "force-app/main/default/profiles/Custom%3A Sales Profile.profile-meta.xml",
            9,
            None,
        ),
    }
