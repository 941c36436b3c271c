"""The command line as users meet it: exit codes, formats, errors as ``file:line``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from sflint.cli import main
from sflint.rules import validated
from sflint.rules.loader import builtin_rules_dir
from tests.conftest import CASES, EXAMPLE, ROOT
from tests.sarif_validation import assert_valid_sarif

# Paths are relative to the git top level (issue 10, item 6): this checkout, for the example.
IN_REPO = EXAMPLE.relative_to(ROOT).as_posix() + "/"
PROJECT = (
    f" Project: {IN_REPO.rstrip('/')} (sfdx-project.json; package folders force-app, integrations)."
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("NO_COLOR", raising=False)


def test_console_output(capsys: pytest.CaptureFixture[str], snapshot: SnapshotAssertion) -> None:
    code, out, err = run(capsys, "check", str(EXAMPLE))
    assert (code, err) == (1, "")
    assert out == snapshot


def test_console_with_fixes(
    capsys: pytest.CaptureFixture[str], snapshot: SnapshotAssertion
) -> None:
    code, out, _ = run(capsys, str(EXAMPLE), "--show-fixes", "--select", "SFL001")
    assert code == 1
    assert out == snapshot


def test_json_contract(capsys: pytest.CaptureFixture[str], snapshot: SnapshotAssertion) -> None:
    code, out, _ = run(capsys, "check", str(EXAMPLE), "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["schema"] == "sflint/findings/v1"
    assert doc["summary"] == {
        "files": 8,
        "components": 8,
        "forceignored": 1,
        "findings": 4,
        "by_severity": {"error": 3, "warning": 0, "note": 1},
        "suppressed": {"total": 0, "comment": 0, "exception": 0, "baseline": 0},
        "projects": [
            {
                "root": IN_REPO.rstrip("/"),
                "found_by": "sfdx-project.json",
                "package_folders": ["force-app", "integrations"],
                "outside_package_folders": [],
            }
        ],
    }
    first = doc["findings"][0]
    assert (first["rule"], first["name"], first["line"], first["persona"]) == (
        "SFL001",
        "integration-api-mfa",
        24,
        "Commission app connection",
    )
    assert [f["id"] for f in first["fixes"]] == ["edit-existing", "clone-new"]
    assert out == snapshot


def test_sarif_of_example_validates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sarif = tmp_path / "out.sarif"
    code, out, _ = run(capsys, "check", str(EXAMPLE), "--sarif-file", str(sarif))
    assert code == 1
    assert "SFL001" in out
    log = json.loads(sarif.read_text())
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert (
        f"{IN_REPO}force-app/main/default/profiles/Custom%253A%20Sales%20Profile.profile-meta.xml"
        in uris
    )
    assert_valid_sarif(sarif)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--fail-on", "never"], 0),
        (["--select", "SFL002"], 0),
        (["--select", "api-mfa-enabled", "--fail-on", "note"], 1),
        (["--ignore", "SFL001,SFL003"], 0),
        (["--ignore", "SFL001,SFL003", "--fail-on", "warning"], 1),
    ],
)
def test_exit_codes(capsys: pytest.CaptureFixture[str], args: list[str], code: int) -> None:
    assert run(capsys, "check", str(EXAMPLE), *args)[0] == code


def test_unknown_rule_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", str(EXAMPLE), "--select", "SFL999")
    assert code == 2
    assert err == "sflint: error: unknown rule 'SFL999' in --select/--ignore (see `sflint rules`)\n"


def test_bad_config_is_file_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    (project / ".sflint.yml").write_text("personas:\n  - name: X\n    profiles: [A]\n")
    code, out, err = run(capsys, "check", str(project))
    assert (code, out) == (2, "")
    assert err == "sflint: error: .sflint.yml:3: unknown key 'profiles'\n"


@pytest.mark.parametrize("command", [("check",), ("access", "--path")])
def test_persona_kind_typo_is_file_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: tuple[str, ...]
) -> None:
    """A misspelt kind would leave the persona outside every rule, silently."""
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    config = project / ".sflint.yml"
    config.write_text(config.read_text().replace("kind: integration", "kind: integraton"))
    code, out, err = run(capsys, *command, str(project))
    assert (code, out) == (2, "")
    assert err == (
        "sflint: error: .sflint.yml:4: personas.0.kind: 'integraton' is not one of"
        " ['integration', 'user']\n"
    )


def test_user_persona_is_outside_the_integration_rules(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    config = project / ".sflint.yml"
    text = config.read_text().replace("kind: integration", "kind: user")
    config.write_text(text + "detect_integration: false\n")
    code, out, _ = run(capsys, "check", str(project), "--format", "json", "--fail-on", "never")
    assert code == 0
    assert [f["persona"] for f in json.loads(out)["findings"] if f["persona"]] == []
    code, out, _ = run(capsys, "access", "--path", str(project))
    assert code == 0
    assert out.splitlines()[0] == "Commission app connection [user] (declared in .sflint.yml:3)"


def test_single_file_reports_only_that_file(capsys: pytest.CaptureFixture[str]) -> None:
    target = (
        EXAMPLE
        / "integrations/main/default/permissionsets/Sales_Data_Access.permissionset-meta.xml"
    )
    code, out, _ = run(capsys, "check", str(target), "--format", "json")
    assert code == 1
    found = [(f["rule"], f["line"]) for f in json.loads(out)["findings"]]
    # SFL005 on the same element is folded into SFL001 (issue 11): one finding, saying both.
    assert found == [("SFL001", 8)]
    assert "also SFL005 (api-mfa-requires-ui-mfa)" in json.loads(out)["findings"][0]["message"]


def test_changed_group_reports_the_member_grant(capsys: pytest.CaptureFixture[str]) -> None:
    group = (
        EXAMPLE
        / "force-app/main/default/permissionsetgroups/Integration_Base.permissionsetgroup-meta.xml"
    )
    code, out, _ = run(capsys, "check", str(group), "--format", "json")
    assert code == 1
    found = [(f["rule"], f["path"], f["line"]) for f in json.loads(out)["findings"]]
    assert found == [
        (
            "SFL001",
            f"{IN_REPO}integrations/main/default/permissionsets/Sales_Data_Access.permissionset-meta.xml",
            8,
        )
    ]


def test_clean_file_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    clean = EXAMPLE / "force-app/main/default/permissionsets/Reporting_Sync.permissionset-meta.xml"
    assert run(capsys, "check", str(clean))[:2] == (
        0,
        "No findings (8 files, 8 components; 1 skipped by .forceignore (--no-forceignore includes them))."
        f"{PROJECT}\n",
    )


def test_no_forceignore_includes_skipped(capsys: pytest.CaptureFixture[str]) -> None:
    _code, out, _ = run(
        capsys, "check", str(EXAMPLE), "--no-forceignore", "--select", "SFL002", "--format", "json"
    )
    paths = [f["path"] for f in json.loads(out)["findings"]]
    assert f"{IN_REPO}force-app/main/default/profiles/Admin.profile-meta.xml" in paths


def test_fix_then_recheck_is_clean_and_idempotent(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    code, diff, _ = run(capsys, "check", str(project), "--diff")
    assert code == 1
    assert diff.count("-        <name>TwoFactorApi</name>") == 2
    assert run(capsys, "check", str(project), "--select", "SFL001", "--fix")[0] == 0
    assert run(capsys, "check", str(project), "--select", "SFL001")[0] == 0
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    assert run(capsys, "check", str(project), "--select", "SFL001", "--fix")[0] == 0
    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before


def test_profile_fix_sets_false(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(CASES / "mdapi-format", project)
    run(capsys, "check", str(project), "--select", "SFL001", "--fix")
    text = (project / "src/profiles/Integration%20API.profile").read_text()
    assert "<enabled>false</enabled>\n        <name>TwoFactorApi</name>" in text


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    from sflint import __version__

    assert run(capsys, "--version") == (0, f"sflint {__version__}\n", "")
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "check" in out and "explain" in out


def test_rules_and_explain(capsys: pytest.CaptureFixture[str], snapshot: SnapshotAssertion) -> None:
    code, out, _ = run(capsys, "rules")
    assert code == 0 and out.splitlines()[0].startswith("SFL001  integration-api-mfa")
    code, out, _ = run(capsys, "explain", "integration-api-mfa")
    assert code == 0
    assert out == snapshot
    assert run(capsys, "explain", "nope")[0] == 2


def test_access_tree(capsys: pytest.CaptureFixture[str], snapshot: SnapshotAssertion) -> None:
    code, out, _ = run(capsys, "access", "--path", str(EXAMPLE))
    assert code == 0
    assert out == snapshot


def test_no_color_and_missing_path(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run(capsys, "check", str(EXAMPLE))
    assert "\x1b[" not in out
    code, _, err = run(capsys, "check", "no/such/dir")
    assert (code, err) == (2, "sflint: error: no/such/dir: no such file or folder\n")


def test_sarif_fixes_equal_what_fix_writes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    sarif = tmp_path / "out.sarif"
    run(capsys, "check", str(project), "--format", "sarif", "--output", str(sarif))
    assert_valid_sarif(sarif)
    patched: dict[str, bytes] = {}
    for result in json.loads(sarif.read_text())["runs"][0]["results"]:
        for fix in result.get("fixes", []):
            for change in fix["artifactChanges"]:
                rel = change["artifactLocation"]["uri"]
                data = patched.get(rel, (project / rel).read_bytes())
                for rep in sorted(
                    change["replacements"], key=lambda r: -r["deletedRegion"]["byteOffset"]
                ):
                    start = rep["deletedRegion"]["byteOffset"]
                    end = start + rep["deletedRegion"]["byteLength"]
                    data = data[:start] + rep["insertedContent"]["text"].encode() + data[end:]
                patched[rel] = data
    assert sorted(patched) == [
        "force-app/main/default/permissionsets/Commission_App_API.permissionset-meta.xml",
        "integrations/main/default/permissionsets/Sales_Data_Access.permissionset-meta.xml",
    ]
    run(capsys, "check", str(project), "--fix")
    assert {rel: (project / rel).read_bytes() for rel in patched} == patched


def test_files_of_two_projects_in_one_batch(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a", "b"):
        shutil.copytree(EXAMPLE, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    sales = "integrations/main/default/permissionsets/Sales_Data_Access.permissionset-meta.xml"
    group = (
        "force-app/main/default/permissionsetgroups/Integration_Base.permissionsetgroup-meta.xml"
    )
    code, out, err = run(capsys, "check", f"a/{group}", f"b/{sales}", "--format", "json")
    assert (code, err) == (1, "")
    found = [(f["rule"], f["path"], f["line"]) for f in json.loads(out)["findings"]]
    assert found == [
        ("SFL001", f"a/{sales}", 8),
        ("SFL001", f"b/{sales}", 8),
    ]


def test_init_writes_detected_personas(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, snapshot: SnapshotAssertion
) -> None:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    (project / ".sflint.yml").unlink()
    code, out, _ = run(capsys, "init", "--path", str(project))
    assert code == 0
    assert out.splitlines()[1:] == [
        "  permission set Commission_App_API: its license is SalesforceAPIIntegrationPsl (Salesforce API Integration)",
        "  profile Minimum Access - API Only Integrations: its user license is Salesforce Integration",
    ]
    assert (project / ".sflint.yml").read_text() == snapshot
    code, _, err = run(capsys, "init", "--path", str(project))
    assert code == 2 and "exists; --force overwrites it" in err
    # The written personas are used as declared ones: the profile's persona now has no
    # TwoFactorApi, the set's persona has it.
    code, out, _ = run(capsys, "check", str(project), "--select", "SFL001", "--format", "json")
    assert [(f["persona"], f["line"]) for f in json.loads(out)["findings"]] == [
        ("permission set Commission_App_API", 24)
    ]


def test_clone_strategy_rewires_persona_and_group(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    # The original Commission_App_API keeps its integration license after the clone: with
    # detection on (the default, issue 10) it stays an integration persona of its own and its
    # TwoFactorApi an SFL001 error. This test is about the rewiring, under declared personas.
    config = project / ".sflint.yml"
    config.write_text(config.read_text() + "detect_integration: false\n")
    before = {
        p.relative_to(project).as_posix(): p.read_bytes() for p in project.rglob("*") if p.is_file()
    }
    code, _, err = run(
        capsys, "check", str(project), "--select", "SFL001", "--fix", "--fix-strategy", "clone"
    )
    assert code == 0
    after = {
        p.relative_to(project).as_posix(): p.read_bytes() for p in project.rglob("*") if p.is_file()
    }
    ps = "force-app/main/default/permissionsets"
    group = (
        "force-app/main/default/permissionsetgroups/Integration_Base.permissionsetgroup-meta.xml"
    )
    assert sorted(set(after) - set(before)) == [
        f"{ps}/Commission_App_API_No_API_MFA.permissionset-meta.xml",
        "integrations/main/default/permissionsets/Sales_Data_Access_No_API_MFA.permissionset-meta.xml",
    ]
    assert sorted(k for k in before if before[k] != after[k]) == [".sflint.yml", group]
    assert b"permission_sets: [Commission_App_API_No_API_MFA]" in after[".sflint.yml"]
    assert b"<permissionSets>Sales_Data_Access_No_API_MFA</permissionSets>" in after[group]
    assert (
        ".sflint.yml:6: persona 'Commission app connection' now names Commission_App_API_No_API_MFA"
        in err
    )
    # The originals are untouched, the clones lack the permission, and a second run is a no-op.
    assert (
        b"TwoFactorApi" not in after[f"{ps}/Commission_App_API_No_API_MFA.permissionset-meta.xml"]
    )
    assert (
        run(
            capsys, "check", str(project), "--select", "SFL001", "--fix", "--fix-strategy", "clone"
        )[0]
        == 0
    )
    assert {
        p.relative_to(project).as_posix(): p.read_bytes() for p in project.rglob("*") if p.is_file()
    } == after


def test_clone_strategy_explains_profiles(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = tmp_path / "p"
    shutil.copytree(CASES / "mdapi-format", project)
    code, _, err = run(
        capsys, "check", str(project), "--select", "SFL001", "--fix", "--fix-strategy", "clone"
    )
    assert code == 1
    assert (
        "src/profiles/Integration%20API.profile:14: not cloned: TwoFactorApi is granted by profile Integration API. A user has exactly one profile"
        in err
    )


def test_suppressed_findings_are_listed_but_do_not_fail(capsys: pytest.CaptureFixture[str]) -> None:
    project = CASES / "suppressed"
    code, out, _ = run(
        capsys, "check", str(project), "--format", "json", "--select", "SFL002,SFL005"
    )
    assert code == 0
    doc = json.loads(out)
    ps = f"{project.relative_to(ROOT).as_posix()}/force-app/main/default/permissionsets"
    assert [(f["rule"], f["path"], f["line"]) for f in doc["suppressed"]] == [
        ("SFL002", f"{ps}/Data_Loader.permissionset-meta.xml", 10),
        ("SFL002", f"{ps}/Legacy.permissionset-meta.xml", 5),
        ("SFL005", f"{ps}/Legacy.permissionset-meta.xml", 5),
    ]
    assert [(f["rule"], f["line"]) for f in doc["findings"]] == [("SFL005", 10)]
    assert run(capsys, "check", str(project), "--select", "SFL002", "--fail-on", "note")[0] == 0


def test_unwritable_output_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "check", str(EXAMPLE), "--output", str(tmp_path / "no" / "x.txt"))
    assert code == 2
    assert err.startswith(f"sflint: error: cannot write {tmp_path / 'no' / 'x.txt'}: ")


def test_bad_project_file_is_exit_2_for_every_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "sfdx-project.json").write_text('{"packageDirectories": [\n  {"path": }\n]}')
    for args in (
        ["check", str(tmp_path)],
        ["init", "--path", str(tmp_path)],
        ["access", "--path", str(tmp_path)],
    ):
        code, _, err = run(capsys, *args)
        assert code == 2, args
        assert err.startswith(
            "sflint: error: sfdx-project.json:2: cannot read sfdx-project.json"
        ), err
    assert not (tmp_path / ".sflint.yml").exists()


def test_package_directory_outside_the_project_is_not_scanned(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Stray.permissionset-meta.xml").write_text("<PermissionSet><label>x</PermissionSet>")
    project = tmp_path / "p"
    project.mkdir()
    (project / "sfdx-project.json").write_text(
        '{"packageDirectories": [{"path": "../outside"}, {"path": "force-app"}]}'
    )
    (project / "force-app").mkdir()
    # A project without permission metadata is exit 2 (issue 10) unless --allow-empty.
    code, out, _ = run(capsys, "check", str(project), "--allow-empty")
    assert (code, out) == (
        0,
        "No findings (0 files, 0 components). Project: . (sfdx-project.json; package folder"
        " force-app).\n",
    )
    code, _, err = run(capsys, "check", str(project))
    assert code == 2
    assert "no permission metadata found in force-app" in err


def test_fix_leaves_read_only_files_alone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    target = (
        project / "force-app/main/default/permissionsets/Commission_App_API.permissionset-meta.xml"
    )
    before = target.read_bytes()
    target.chmod(0o444)
    code, _, err = run(capsys, "check", str(project), "--select", "SFL001", "--fix")
    assert code == 1
    assert f"{target}: not written: is read-only" in err
    assert target.read_bytes() == before


def test_fix_of_a_group_names_its_type(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The fix engine formats the component type it is given: it must read as the type's
    name on every Python version (an f-string of a str-mixin enum member does not)."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ACME004-fix-group.yaml").write_text(
        "id: ACME004\nname: fix-group\nsummary: s\nseverity: error\nscope: file\n"
        "component_types: [PermissionSetGroup]\nmatch:\n  not: {license: Nope}\nmessage: m\n"
        "fixes:\n  - id: turn-off\n    title: t\n    action: disable-permission\n    steps: [s]\n"
        "docs: {why: w, how_to_fix: h}\n"
    )
    project = tmp_path / "p"
    shutil.copytree(CASES / "muting", project)
    args = ("check", str(project), "--rules", str(rules), "--select", "ACME004", "--fix")
    code, _, err = run(capsys, *args)
    assert code == 1
    group = "force-app/main/default/permissionsetgroups/Plain_Group.permissionsetgroup-meta.xml"
    assert (
        f"{group}: not fixed: cannot fix a PermissionSetGroup: only PermissionSet, Profile\n" in err
    )


def test_fix_goes_on_past_a_permission_with_nothing_to_disable(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ACME003-no-author-apex.yaml").write_text(
        "id: ACME003\nname: no-author-apex\nsummary: s\nseverity: error\nscope: file\n"
        "match:\n  user_permission: {name: AuthorApex}\nmessage: m\n"
        "fixes:\n  - id: turn-off\n    title: t\n    action: disable-permission\n    steps: [s]\n"
        "docs: {why: w, how_to_fix: h}\n"
    )
    project = tmp_path / "p"
    (project / "force-app").mkdir(parents=True)
    ps = project / "force-app" / "Sync.permissionset-meta.xml"
    ps.write_text(
        "<PermissionSet>\n    <license>SalesforceAPIIntegrationPsl</license>\n"
        "    <userPermissions>\n        <enabled>false</enabled>\n        <name>AuthorApex</name>\n    </userPermissions>\n"
        "    <userPermissions>\n        <enabled>true</enabled>\n        <name>TwoFactorApi</name>\n    </userPermissions>\n"
        "</PermissionSet>\n"
    )
    code, _, err = run(
        capsys, "check", str(project), "--rules", str(rules), "--select", "ACME003,SFL001", "--fix"
    )
    assert "Fixed 1 of 2 findings; 1 files written." in err
    assert "TwoFactorApi" not in ps.read_text()
    assert code == 1  # the AuthorApex finding (enabled or not) remains


def test_changed_profile_or_muting_set_reports_what_it_causes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    profile = (
        project
        / "force-app/main/default/profiles/Minimum Access - API Only Integrations.profile-meta.xml"
    )
    # Without the Salesforce Integration user license too: that license alone makes its
    # users API-only (SFL007 says nothing of a persona that holds it).
    profile.write_text(
        profile.read_text()
        .replace("<name>ApiUserOnly</name>", "<name>ApiOnlyUserX</name>")
        .replace("Salesforce Integration</userLicense>", "Salesforce</userLicense>")
    )
    api = (
        project / "force-app/main/default/permissionsets/Commission_App_API.permissionset-meta.xml"
    )
    api.write_text(api.read_text().replace("<license>SalesforceAPIIntegrationPsl</license>", ""))
    muting = (
        project
        / "force-app/main/default/mutingpermissionsets/Integration_Base_Muting.mutingpermissionset-meta.xml"
    )
    muting.write_text(muting.read_text().replace("ViewAllData", "RunReports"))
    _, out, _ = run(capsys, "check", str(profile), "--format", "json", "--select", "SFL007")
    assert [(f["rule"], f["path"], f["line"]) for f in json.loads(out)["findings"]] == [
        ("SFL007", ".sflint.yml", 3)
    ]
    _, out, _ = run(capsys, "check", str(muting), "--format", "json", "--select", "SFL008")
    assert [(f["rule"], f["line"]) for f in json.loads(out)["findings"]] == [("SFL008", 12)]


def test_missing_config_file_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "check", str(EXAMPLE), "--config", str(tmp_path / "nope.yml"))
    assert (code, err) == (2, f"sflint: error: {tmp_path / 'nope.yml'}: config file not found\n")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("rules:\n  paths: [sflint-rules]\n", ".sflint.yml:9: rule folder not found: sflint-rules"),
        (
            "rules:\n  select: [SFL001, SFL999]\n",
            ".sflint.yml:9: unknown rule 'SFL999' (see `sflint rules`)",
        ),
    ],
)
def test_config_rule_errors_point_at_their_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, extra: str, message: str
) -> None:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    with (project / ".sflint.yml").open("a") as config:
        config.write(extra)
    code, _, err = run(capsys, "check", str(project))
    assert (code, err) == (2, f"sflint: error: {message}\n")


def test_detection_beside_declared_personas_reports_each_grant_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    with (project / ".sflint.yml").open("a") as config:
        config.write("detect_integration: true\n")
    _, out, _ = run(capsys, "check", str(project), "--format", "json", "--select", "SFL001")
    found = [
        (f["path"].rsplit("/", 1)[1], f["line"], f["persona"]) for f in json.loads(out)["findings"]
    ]
    assert found == [
        ("Commission_App_API.permissionset-meta.xml", 24, "Commission app connection"),
        ("Sales_Data_Access.permissionset-meta.xml", 8, "Commission app connection"),
    ]


def test_json_counts_every_severity(capsys: pytest.CaptureFixture[str]) -> None:
    clean = CASES / "decomposed-beta2"
    _, out, _ = run(capsys, "check", str(clean), "--format", "json", "--select", "SFL009")
    assert json.loads(out)["summary"]["by_severity"] == {"error": 0, "warning": 0, "note": 0}


def test_cli_caches_validated_yaml(
    capsys: pytest.CaptureFixture[str], _isolated_cache: Path
) -> None:
    shutil.rmtree(_isolated_cache, ignore_errors=True)
    first = run(capsys, "check", str(EXAMPLE), "--format", "json")
    # The YAML entries sit at the top; read metadata files under parsed/ (test_cache_parsed).
    entries = sorted(p.name for p in _isolated_cache.glob("*.json"))
    # The built-in rules come validated with sflint (rules/validated.json): only the
    # example's .sflint.yml is validated and cached here.
    shipped = {f"{k}.json" for k in validated.load(builtin_rules_dir())}
    assert (len(entries), set(entries) & shipped) == (1, set())
    assert run(capsys, "check", str(EXAMPLE), "--format", "json") == first
    assert sorted(p.name for p in _isolated_cache.glob("*.json")) == entries
    run(capsys, "check", str(EXAMPLE), "--no-cache")
    assert sorted(p.name for p in _isolated_cache.glob("*.json")) == entries
