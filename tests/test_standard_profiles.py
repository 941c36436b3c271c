"""Salesforce's standard profiles, what a licence implies, and findings an admin acts on
(issue 11, items 3, 5 and 7): exact findings on small projects."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sflint.catalogue import load_catalogue
from sflint.kinds import Role, kind_of
from sflint.metadata import reader
from sflint.model import Component, ComponentType, Severity
from tests.conftest import CASES, EXAMPLE, run_check, run_cli

CASE = CASES / "standard-profiles"
PROFILES = "force-app/main/default/profiles"
SETS = "force-app/main/default/permissionsets"
_NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"'


def _found(project: Path) -> list[tuple[str, str, int, Severity]]:
    return sorted((f.rule, f.path, f.line, f.severity) for f in run_check(project).findings)


def test_findings_on_standard_profiles_are_notes_that_say_so_but_errors_stay_errors() -> None:
    assert _found(CASE) == [
        # Named in .sflint.yml by its Setup name, System Administrator; its SFL005 is folded in.
        # Still an error: the API login breaks whoever set the permission (move the user).
        ("SFL001", f"{PROFILES}/Admin.profile-meta.xml", 21, Severity.ERROR),
        (
            "SFL001",
            f"{PROFILES}/Minimum Access - API Only Integrations.profile-meta.xml",
            18,
            Severity.ERROR,
        ),
        ("SFL008", f"{PROFILES}/Admin.profile-meta.xml", 26, Severity.NOTE),
        ("SFL009", f"{PROFILES}/Chatter Free User.profile-meta.xml", 6, Severity.NOTE),
        ("SFL009", f"{PROFILES}/Standard.profile-meta.xml", 6, Severity.NOTE),  # no <custom>
        ("SFL009", f"{PROFILES}/Support Agent.profile-meta.xml", 6, Severity.WARNING),
        # Object access too: "you can never edit the object permissions on a standard profile".
        ("SFL016", f"{PROFILES}/Admin.profile-meta.xml", 6, Severity.NOTE),
    ]
    by_place = {(f.path.rpartition("/")[2], f.rule): f for f in run_check(CASE).findings}
    admin = by_place[("Admin.profile-meta.xml", "SFL008")]
    assert (
        "Profile Admin (System Administrator in Setup) is one of Salesforce's standard profiles:"
        " Salesforce does not let an admin change a standard profile's permissions"
    ) in admin.message
    assert "move that user to a custom profile (a clone of System Administrator, say)" in (
        admin.message
    )
    assert [o.id for o in admin.fixes] == ["standard-profile"]
    assert [o.action for o in admin.fixes] == [None]
    objects = by_place[("Admin.profile-meta.xml", "SFL016")]
    # View All on Account is implied by the View All Data it holds (SFL008): not repeated.
    assert "should not have Modify All on Account, move that user" in objects.message
    chatter = by_place[("Chatter Free User.profile-meta.xml", "SFL009")]
    assert "Profile Chatter Free User is one of Salesforce's standard profiles" in chatter.message
    custom = by_place[("Support Agent.profile-meta.xml", "SFL009")]
    assert "standard profile" not in custom.message


def test_the_api_only_integrations_profile_is_editable_and_option_2_offers_a_clone() -> None:
    # Salesforce Help, "Give Integration Users API Only Access": only its API-only access is
    # fixed; its other permissions can be changed, so Option 1 holds for it.
    (f,) = [
        f
        for f in run_check(CASE).findings
        if f.path.endswith("API Only Integrations.profile-meta.xml")
    ]
    assert [(o.id, o.action) for o in f.fixes] == [
        ("edit-profile", "disable-permission"),
        ("other-profile", None),
    ]
    other = " ".join(f.fixes[1].steps)
    assert "use the Minimum Access - API Only Integrations profile" not in other
    assert "clone profile Minimum Access - API Only Integrations" in other


def test_option_2_on_a_custom_profile_advises_the_api_only_integrations_profile(
    tmp_path: Path,
) -> None:
    grant = "    <userPermissions>\n        <enabled>true</enabled>\n        <name>TwoFactorApi"
    profile = f"<Profile {_NS}>\n    <custom>true</custom>\n{grant}</name>\n    </userPermissions>\n</Profile>\n"
    files = {"Sync Profile.profile-meta.xml": profile}
    checked = run_check(_project(tmp_path, files, _persona(profile='"Sync Profile"')))
    (f,) = [f for f in checked.findings if f.rule == "SFL001"]
    assert (f.rule, f.path, f.line) == ("SFL001", f"{PROFILES}/Sync Profile.profile-meta.xml", 3)
    assert [o.id for o in f.fixes] == ["edit-profile", "other-profile"]
    assert f.fixes[1].steps[1] == (
        "Better still, use the Minimum Access - API Only Integrations profile and grant what"
        " the app needs through permission sets."
    )


def test_fix_never_edits_a_standard_profile_and_says_why(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = tmp_path / "p"
    shutil.copytree(CASE, project)
    admin = project / PROFILES / "Admin.profile-meta.xml"
    api_only = project / PROFILES / "Minimum Access - API Only Integrations.profile-meta.xml"
    before = admin.read_bytes()
    run_cli(capsys, "check", str(project))  # the memo of this run serves the next one
    code, _, err = run_cli(capsys, "check", str(project), "--fix")
    assert admin.read_bytes() == before
    assert (
        f"{PROFILES}/Admin.profile-meta.xml:21: not fixed: profile Admin (System Administrator"
        " in Setup) is Salesforce's standard profile, whose permissions no one can edit; --fix"
        " leaves it unchanged."
    ) in err
    # The editable one is fixed as any profile is: an explicit false.
    assert "<enabled>false</enabled>\n        <name>TwoFactorApi</name>" in api_only.read_text()
    # The SFL001 on the standard profile remains an error: --fix cannot edit that profile,
    # the admin moves the user off it.
    assert code == 1
    code, _, err = run_cli(capsys, "check", str(project), "--fix", "--fix-strategy", "clone")
    assert f"{PROFILES}/Admin.profile-meta.xml:21: not fixed: profile Admin" in err
    assert admin.read_bytes() == before


def test_a_setup_name_resolves_only_for_a_standard_profile(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = tmp_path / "p"
    shutil.copytree(CASE, project)
    code, out, _ = run_cli(capsys, "access", "--path", str(project), "Reporting sync")
    assert code == 0
    assert "profile Admin" in out
    config = project / ".sflint.yml"
    # Names match exactly, as API name or Setup name; another case is a suggestion.
    config.write_text(config.read_text().replace("System Administrator", "system administrator"))
    code, _, err = run_cli(capsys, "check", str(project))
    assert code == 2
    assert (
        ".sflint.yml:5: persona 'Reporting sync' names profile 'system administrator', which is"
        " not in the project (API name or label, matched exactly); did you mean 'System"
        " Administrator'?"
    ) in err


def test_a_forceignored_standard_profile_may_be_named_by_its_setup_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = tmp_path / "p"
    shutil.copytree(CASE, project)
    (project / ".forceignore").write_text("**/profiles/Admin.profile-meta.xml\n")
    code, out, _ = run_cli(capsys, "check", str(project), "--format", "json")
    found = [(f["rule"], f["path"], f["line"]) for f in json.loads(out)["findings"]]
    assert ("SFL011", ".sflint.yml", 5) in found  # incomplete, not a config error
    assert code == 1


def _profile(custom: str | None, name: str) -> Component:
    cat = load_catalogue()
    body = f"<custom>{custom}</custom>" if custom is not None else ""
    data = f'<?xml version="1.0" encoding="UTF-8"?>\n<Profile {_NS}>\n    {body}\n</Profile>\n'
    parsed = reader.parse_bytes(data.encode(), f"{name}.profile-meta.xml", ComponentType.PROFILE)
    assert cat.standard is not None
    return Component(ComponentType.PROFILE, name, (), custom=parsed.custom)


@pytest.mark.parametrize(
    ("custom", "name", "standard", "locked"),
    [
        ("false", "Chatter Free User", "Chatter Free User", True),
        ("false", "Some Salesforce Profile", "Some Salesforce Profile", True),  # not in table
        (None, "Admin", "System Administrator", True),  # no <custom>: the table decides
        (
            None,
            "Minimum Access - API Only Integrations",
            "Minimum Access - API Only Integrations",
            False,
        ),
        ("true", "Admin", None, False),  # a custom profile is custom, whatever its name
        (None, "Support Agent", None, False),
    ],
)
def test_which_profiles_are_standard(
    custom: str | None, name: str, standard: str | None, locked: bool
) -> None:
    table = load_catalogue().standard
    component = _profile(custom, name)
    found = table.of(component)
    assert (found.setup_name if found else None) == standard
    assert (table.locked(component) is not None) is locked


def test_both_reader_paths_read_custom() -> None:
    data = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Profile {_NS}>\n    <custom>false</custom>\n'
        "    <customPermissions>\n        <enabled>true</enabled>\n"
        "        <name>X</name>\n    </customPermissions>\n</Profile>\n"
    ).encode()
    roots = kind_of(ComponentType.PROFILE).roots(Role.MAIN)
    plain = reader.parse_bytes(data, "A.profile-meta.xml", ComponentType.PROFILE)
    general = reader._parse(data, "A.profile-meta.xml", roots)
    assert plain.custom == general.custom == "false"
    assert plain == general


# --- what a licence implies (item 5) ---------------------------------------------------------


def _project(tmp_path: Path, files: dict[str, str], config: str) -> Path:
    project = tmp_path / "p"
    (project / SETS).mkdir(parents=True)
    (project / PROFILES).mkdir(parents=True)
    (project / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "force-app"}]}')
    for name, text in files.items():
        folder = PROFILES if name.endswith(".profile-meta.xml") else SETS
        (project / folder / name).write_text(text)
    (project / ".sflint.yml").write_text(config)
    return project


def _set(label: str, *grants: str, license: str | None = None) -> str:
    lic = f"    <license>{license}</license>\n" if license else ""
    body = "".join(
        f"    <userPermissions>\n        <enabled>true</enabled>\n"
        f"        <name>{g}</name>\n    </userPermissions>\n"
        for g in grants
    )
    return f"<PermissionSet {_NS}>\n    <label>{label}</label>\n{lic}{body}</PermissionSet>\n"


def _persona(**refs: str) -> str:
    lines = "".join(f"    {k}: {v}\n" for k, v in refs.items())
    return f"personas:\n  - name: Sync\n    kind: integration\n{lines}"


def test_a_psl_set_means_api_only_with_api_enabled(tmp_path: Path) -> None:
    files = {"Sync.permissionset-meta.xml": _set("Sync", license="SalesforceAPIIntegrationPsl")}
    project = _project(tmp_path, files, _persona(permission_sets="[Sync]"))
    assert _found(project) == []


def test_the_integration_user_license_means_api_only_with_api_enabled(tmp_path: Path) -> None:
    profile = (
        f"<Profile {_NS}>\n    <userLicense>Salesforce Integration</userLicense>\n</Profile>\n"
    )
    files = {"Integration.profile-meta.xml": profile, "Sync.permissionset-meta.xml": _set("Sync")}
    config = _persona(profile="Integration", permission_sets="[Sync]")
    assert _found(_project(tmp_path, files, config)) == []


def test_a_persona_without_a_profile_is_told_what_sflint_cannot_see(tmp_path: Path) -> None:
    files = {"Sync.permissionset-meta.xml": _set("Sync", "ApiUserOnly")}
    checked = run_check(_project(tmp_path, files, _persona(permission_sets="[Sync]")))
    assert [(f.rule, f.path, f.line, f.severity) for f in checked.findings] == [
        ("SFL006", ".sflint.yml", 2, Severity.NOTE)
    ]
    assert checked.findings[0].message == (
        'Integration persona "Sync": sflint cannot see its profile, as .sflint.yml names none.'
        " Its permission sets and groups grant no API Enabled (ApiEnabled); unless its profile"
        " does, the app cannot use the API. Add the user's profile to the persona so that"
        " sflint can tell."
    )


def test_a_known_profile_without_api_enabled_is_a_claim(tmp_path: Path) -> None:
    profile = f"<Profile {_NS}>\n    <custom>true</custom>\n</Profile>\n"
    files = {"Sync Profile.profile-meta.xml": profile, "Sync.permissionset-meta.xml": _set("Sync")}
    config = _persona(profile='"Sync Profile"', permission_sets="[Sync]")
    assert _found(_project(tmp_path, files, config)) == [
        ("SFL006", ".sflint.yml", 2, Severity.WARNING),
        ("SFL007", ".sflint.yml", 2, Severity.WARNING),
    ]


@pytest.mark.parametrize("project", [EXAMPLE, CASE], ids=["example", "standard-profiles"])
def test_init_then_check_adds_no_warning(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, project: Path
) -> None:
    copy = tmp_path / "p"
    shutil.copytree(project, copy)
    (copy / ".sflint.yml").unlink()
    code, out, err = run_cli(capsys, "init", "--path", str(copy))
    assert code == 0, err
    code, out, _ = run_cli(capsys, "check", str(copy), "--format", "json")
    config = [
        (f["rule"], f["severity"])
        for f in json.loads(out)["findings"]
        if f["path"] == ".sflint.yml" and f["severity"] != "note"
    ]
    assert config == []


# --- SFL005 folded into SFL001 (item 7) -------------------------------------------------------

_SALES = "integrations/main/default/permissionsets/Sales_Data_Access.permissionset-meta.xml"


def test_sfl005_stays_where_sfl001_is_not_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, out, _ = run_cli(capsys, "check", str(EXAMPLE), "--format", "json", "--ignore", "SFL001")
    found = [(f["rule"], f["path"], f["line"]) for f in json.loads(out)["findings"]]
    assert ("SFL005", "testdata/projects/commission-app/" + _SALES, 8) in found
    # Suppressing SFL001 accepts the finding as shown, with the SFL005 folded into it.
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    sales = project / _SALES
    text = sales.read_text()
    at = text.index(
        "    <userPermissions>\n        <enabled>true</enabled>\n        <name>TwoFactorApi"
    )
    sales.write_text(text[:at] + "    <!-- sflint: ignore SFL001 -->\n" + text[at:])
    checked = run_check(project)
    assert [(f.rule, f.line) for f in checked.findings if f.path == _SALES] == []
    assert [(f.rule, f.line) for f in checked.suppressed] == [("SFL001", 9)]
    assert "also SFL005 (api-mfa-requires-ui-mfa)" in checked.suppressed[0].message


def test_an_aggregate_on_a_standard_profile_names_its_elements_together(tmp_path: Path) -> None:
    # Salesforce's own integration profile, retrieved: tier-2 permissions and object access
    # are one finding each (aggregated), a note, and its steps speak of all the elements.
    root = tmp_path / "p"
    folder = root / PROFILES
    folder.mkdir(parents=True)
    (root / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "force-app"}]}')
    objects = "".join(
        "<objectPermissions><allowCreate>false</allowCreate><allowDelete>false</allowDelete>"
        "<allowEdit>false</allowEdit><allowRead>true</allowRead>"
        f"<modifyAllRecords>false</modifyAllRecords><object>{name}</object>"
        "<viewAllRecords>true</viewAllRecords></objectPermissions>\n"
        for name in ("Account", "Contact")
    )
    grants = "".join(
        f"<userPermissions><enabled>true</enabled><name>{name}</name></userPermissions>\n"
        for name in ("ApiEnabled", "ApiUserOnly", "ManageUsers", "ModifyMetadata")
    )
    (folder / "Analytics Cloud Integration User.profile-meta.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Profile {_NS}>\n<custom>false</custom>\n'
        f"{objects}<userLicense>Analytics Cloud Integration User</userLicense>\n{grants}</Profile>\n"
    )
    found = {f.rule: f for f in run_check(root).findings}
    assert sorted((f.rule, f.line, f.severity, f.occurrences) for f in found.values()) == [
        ("SFL012", 9, Severity.NOTE, 2),
        ("SFL016", 4, Severity.NOTE, 2),
    ]
    assert found["SFL016"].fixes[0].steps[1] == (
        "In Setup, clone profile Analytics Cloud Integration User, uncheck each of them"
        " (View All on 2 objects) in the clone, and change the user's profile to the clone;"
        " or give the user a profile with fewer permissions and grant what it needs through"
        " permission sets."
    )
    assert found["SFL012"].fixes[0].steps[1] == (
        "In Setup, clone profile Analytics Cloud Integration User, uncheck each of them"
        " (Manage Users (ManageUsers) and Modify Metadata Through Metadata API Functions"
        " (ModifyMetadata)) in the clone, and change the user's profile to the clone; or give"
        " the user a profile with fewer permissions and grant what it needs through permission"
        " sets."
    )
