"""Issue 10: the same answer in every repository shape, from every entry point.

Each test builds a small repository (git is only a ``.git`` folder: discovery never runs
git) and checks it through ``sflint check`` in-process, asserting exact (rule, path, line).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sflint.project import RootKind, locate
from tests.conftest import run_cli

NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"'


def _grant(name: str, enabled: bool = True) -> str:
    value = "true" if enabled else "false"
    return f"    <userPermissions>\n        <enabled>{value}</enabled>\n        <name>{name}</name>\n    </userPermissions>\n"


def permission_set(*grants: str, license: str | None = None, label: str = "X") -> str:
    """A permission set; its first grant is at line 4 (5 with a license)."""
    lic = f"    <license>{license}</license>\n" if license else ""
    body = "".join(_grant(g) for g in grants)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<PermissionSet {NS}>\n    <label>{label}</label>\n{lic}{body}</PermissionSet>\n'


def profile(*grants: str, user_license: str = "Salesforce Integration") -> str:
    body = "".join(_grant(g) for g in grants)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<Profile {NS}>\n    <userLicense>{user_license}</userLicense>\n{body}</Profile>\n'


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


SFDX = '{"packageDirectories": [{"path": "force-app", "default": true}]}'
PS = "force-app/main/default/permissionsets"
# An integration set that enables TwoFactorApi: SFL001 for its detected persona at line 6.
API_SET = permission_set("TwoFactorApi", "ApiEnabled", license="SalesforceAPIIntegrationPsl")


def check_json(
    capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, list[tuple[str, str, int]], dict[str, Any], str]:
    code, out, err = run_cli(capsys, "check", "--format", "json", "--no-cache", *args)
    if code == 2:
        return code, [], {}, err
    doc = json.loads(out)
    found = [(f["rule"], f["path"], f["line"]) for f in doc["findings"]]
    return code, found, doc["summary"], err


# --- 1. discovery ---------------------------------------------------------------------------


def test_locate_prefers_sfdx_then_config_then_manifest_then_git(tmp_path: Path) -> None:
    repo = write(
        tmp_path / "repo",
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "loose/A.permissionset-meta.xml": permission_set(),
            "mdapi/src/package.xml": "<Package/>",
            "mdapi/src/permissionsets/B.permissionset": permission_set(),
            "configured/.sflint.yml": "fail_on: error\n",
            "configured/sf/sfdx-project.json": SFDX,
            "configured/sf/force-app/C.permissionset-meta.xml": permission_set(),
            "configured/other/D.permissionset-meta.xml": permission_set(),
        },
    )
    cases = {
        "loose/A.permissionset-meta.xml": (".", RootKind.GIT),
        "mdapi/src/permissionsets/B.permissionset": ("mdapi", RootKind.MDAPI),
        "mdapi/src": ("mdapi", RootKind.MDAPI),
        "configured/sf/force-app/C.permissionset-meta.xml": ("configured/sf", RootKind.SFDX),
        "configured/other/D.permissionset-meta.xml": ("configured", RootKind.CONFIG),
    }
    for rel, (root, kind) in cases.items():
        found = locate(repo / rel)
        assert (found.path, found.kind) == ((repo / root).resolve(), kind), rel
    # No marker at all: the folder named.
    lone = write(tmp_path / "lone", {"E.permissionset-meta.xml": permission_set()})
    assert locate(lone) == locate(lone / "E.permissionset-meta.xml")
    assert locate(lone).kind is RootKind.GIVEN


def test_mdapi_repository_uses_the_root_config_from_any_entry_point(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A retrieve into src/ without sfdx-project.json: the root .sflint.yml declares the
    persona, and the changed file alone still gets the persona's SFL001 (the issue's case)."""
    repo = write(
        tmp_path / "org",
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            ".sflint.yml": "personas:\n  - name: Sync\n    permission_sets: [Sync]\n",
            "src/package.xml": "<Package/>",
            "src/permissionsets/Sync.permissionset": permission_set("TwoFactorApi", "ApiEnabled"),
        },
    )
    changed = repo / "src/permissionsets/Sync.permissionset"
    expected = [("SFL001", "src/permissionsets/Sync.permissionset", 4)]
    for target in (repo, repo / "src", changed):
        code, found, summary, _ = check_json(capsys, "--select", "SFL001", str(target))
        assert (code, found) == (1, expected), target
        assert summary["projects"] == [
            {
                "root": ".",
                "found_by": ".sflint.yml",
                "package_folders": ["."],
                "outside_package_folders": [],
            }
        ]


def test_nested_sfdx_projects_are_their_own(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A tool repository holding test projects: each is checked with its own settings and
    never merged into another (the same set name in both is no duplicate)."""
    repo = write(
        tmp_path / "tool",
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "fixtures/one/sfdx-project.json": SFDX,
            f"fixtures/one/{PS}/Sync.permissionset-meta.xml": API_SET,
            "fixtures/two/sfdx-project.json": SFDX,
            "fixtures/two/.sflint.yml": "detect_integration: false\n",
            f"fixtures/two/{PS}/Sync.permissionset-meta.xml": API_SET,
        },
    )
    code, found, summary, _ = check_json(capsys, "--select", "SFL001,SFL002,SFL015", str(repo))
    assert code == 1
    assert found == [
        ("SFL001", f"fixtures/one/{PS}/Sync.permissionset-meta.xml", 5),
        ("SFL002", f"fixtures/two/{PS}/Sync.permissionset-meta.xml", 5),
    ]
    assert [p["root"] for p in summary["projects"]] == ["fixtures/one", "fixtures/two"]
    # Each file alone gives the same.
    for rule, rel, line in found:
        assert check_json(capsys, "--select", "SFL001,SFL002", str(repo / rel))[1] == [
            (rule, rel, line)
        ]


def test_a_folder_without_permission_metadata_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = write(tmp_path / "empty", {"README.md": "nothing here\n"})
    code, _, _, err = check_json(capsys, str(empty))
    assert code == 2
    assert err == (
        "sflint: error: .: no permission metadata found (no profile, permission set,"
        " permission set group or muting permission set): check the path, or pass"
        " --allow-empty\n"
    )
    code, found, summary, _ = check_json(capsys, str(empty), "--allow-empty")
    assert (code, found, summary["files"]) == (0, [], 0)


# --- 2. what you name is what is linted --------------------------------------------------------


def test_a_folder_outside_package_directories_is_linted_when_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = write(
        tmp_path / "p",
        {
            "sfdx-project.json": SFDX,
            f"{PS}/Clean.permissionset-meta.xml": permission_set("ApiEnabled"),
            "unpackaged/Sync.permissionset-meta.xml": API_SET,
        },
    )
    code, found, summary, _ = check_json(capsys, "--select", "SFL001", str(project))
    assert (code, found) == (0, [])  # the project's own scan: packageDirectories only
    for named in (project / "unpackaged", project / "unpackaged/Sync.permissionset-meta.xml"):
        code, found, summary, _ = check_json(capsys, "--select", "SFL001", str(named))
        assert (code, found) == (1, [("SFL001", "unpackaged/Sync.permissionset-meta.xml", 5)])
        outside = named.relative_to(project).as_posix()
        assert summary["projects"] == [
            {
                "root": ".",
                "found_by": "sfdx-project.json",
                "package_folders": ["force-app"],
                "outside_package_folders": [outside],
            }
        ]
    code, out, _ = run_cli(capsys, "check", "--select", "SFL001", str(project / "unpackaged"))
    assert out.splitlines()[-1].endswith(
        "Project: . (sfdx-project.json; package folder force-app), and outside them as"
        " named: unpackaged."
    )


# --- 3. config mistakes are errors -----------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "line", "message"),
    [
        (
            "personas:\n  - name: App\n    permission_sets: [MFA_]\n",
            3,
            "persona 'App' names permission set 'MFA_', which is not in the project (API name"
            " or label, matched exactly); did you mean 'MFA'?",
        ),
        (
            "personas:\n  - name: App\n    permission_sets:\n      - MFA\n      - mfa\n",
            5,
            "persona 'App' names permission set 'mfa', which is not in the project (API name"
            " or label, matched exactly); did you mean 'MFA'?",
        ),
        (
            "personas:\n  - name: App\n    profile: Integraton Profile\n",
            3,
            "persona 'App' names profile 'Integraton Profile', which is not in the project (API"
            " name or label, matched exactly); did you mean 'Integration Profile'?",
        ),
    ],
)
def test_a_persona_naming_a_missing_component_is_exit_2_with_a_suggestion(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: str, line: int, message: str
) -> None:
    project = write(
        tmp_path / "p",
        {
            "sfdx-project.json": SFDX,
            ".sflint.yml": config,
            f"{PS}/MFA.permissionset-meta.xml": permission_set(
                "TwoFactorApi", label="Multi-factor"
            ),
            "force-app/main/default/profiles/Integration Profile.profile-meta.xml": profile(),
        },
    )
    code, _, _, err = check_json(capsys, str(project))
    assert (code, err) == (2, f"sflint: error: .sflint.yml:{line}: {message}\n")


def test_an_unknown_persona_kind_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = write(
        tmp_path / "p",
        {
            "sfdx-project.json": SFDX,
            ".sflint.yml": "personas:\n  - name: App\n    kind: integraton\n",
            f"{PS}/MFA.permissionset-meta.xml": permission_set(),
        },
    )
    code, _, _, err = check_json(capsys, str(project))
    assert code == 2
    assert err.startswith("sflint: error: .sflint.yml:3: ")


def test_a_managed_package_set_stays_sfl011(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = write(
        tmp_path / "p",
        {
            "sfdx-project.json": SFDX,
            ".sflint.yml": "personas:\n  - name: App\n    permission_sets: [MFA, acme__Reports]\n",
            f"{PS}/MFA.permissionset-meta.xml": permission_set("ApiEnabled"),
        },
    )
    code, found, _, _ = check_json(capsys, "--select", "SFL011", str(project))
    assert (code, found) == (0, [("SFL011", ".sflint.yml", 3)])


# --- 4. detection beside declaration -----------------------------------------------------------


def test_detection_continues_beside_declared_personas(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A profile added later with the Salesforce Integration license and TwoFactorApi is an
    error, although the config declares another persona; with detection off it is a note
    that says why no persona covers it."""
    project = write(
        tmp_path / "p",
        {
            "sfdx-project.json": SFDX,
            ".sflint.yml": "personas:\n  - name: App\n    permission_sets: [App]\n",
            f"{PS}/App.permissionset-meta.xml": permission_set("ApiEnabled"),
            "force-app/main/default/profiles/Later.profile-meta.xml": profile("TwoFactorApi"),
        },
    )
    later = "force-app/main/default/profiles/Later.profile-meta.xml"
    code, found, _, _ = check_json(capsys, "--select", "SFL001,SFL002", str(project))
    assert (code, found) == (1, [("SFL001", later, 4)])

    (project / ".sflint.yml").write_text(
        "personas:\n  - name: App\n    permission_sets: [App]\ndetect_integration: false\n"
    )
    code, out, _ = run_cli(capsys, "check", "--select", "SFL001,SFL002", str(project))
    assert code == 0
    assert out.splitlines()[0] == (
        f"{later}:4: SFL002 [note] Multi-Factor Authentication for API Logins (TwoFactorApi) is"
        " enabled in profile Later. It carries an integration user's signal (its license, or"
        " API Only User), yet no integration persona covers it, because detect_integration is"
        " off in .sflint.yml or a persona of kind user declares it: if an integration user"
        " holds it, that user's API logins will fail."
    )
    assert "No integration persona uses it" not in out


# --- 5. a component defined twice -----------------------------------------------------------


@pytest.mark.parametrize("granting", ["a", "b"])
def test_a_component_defined_twice_is_reported_at_both_and_each_copy_is_checked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, granting: str
) -> None:
    """Neither copy hides the other: whichever package directory enables TwoFactorApi, the
    declared persona's SFL001 points at it, and SFL015 at both copies."""
    other = "b" if granting == "a" else "a"
    project = write(
        tmp_path / "p",
        {
            "sfdx-project.json": '{"packageDirectories": [{"path": "a"}, {"path": "b"}]}',
            ".sflint.yml": "personas:\n  - name: App\n    permission_sets: [Sync]\n",
            f"{granting}/Sync.permissionset-meta.xml": permission_set("TwoFactorApi"),
            f"{other}/Sync.permissionset-meta.xml": permission_set("ApiEnabled"),
        },
    )
    code, found, summary, _ = check_json(capsys, "--select", "SFL001,SFL015", str(project))
    assert code == 1
    assert sorted(found) == sorted(
        [
            ("SFL001", f"{granting}/Sync.permissionset-meta.xml", 4),
            ("SFL015", "a/Sync.permissionset-meta.xml", 2),
            ("SFL015", "b/Sync.permissionset-meta.xml", 2),
        ]
    )
    assert summary["components"] == 2


def test_a_set_both_decomposed_and_whole_is_defined_twice(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = write(
        tmp_path / "p",
        {
            "sfdx-project.json": SFDX,
            f"{PS}/Sync.permissionset-meta.xml": permission_set("ApiEnabled"),
            f"{PS}/Sync/Sync.permissionset-meta.xml": permission_set(),
            f"{PS}/Sync/Sync.userPermission-meta.xml": permission_set("ApiEnabled"),
        },
    )
    code, found, _, _ = check_json(capsys, "--select", "SFL015", str(project))
    # A warning: repositories keep deliberate per-environment copies in later package folders
    # (bcgov/MoH-SAT's dev-app-post overrides force-app), so it must not fail a run by itself.
    assert (code, sorted(found)) == (
        0,
        [
            ("SFL015", f"{PS}/Sync.permissionset-meta.xml", 2),
            ("SFL015", f"{PS}/Sync/Sync.permissionset-meta.xml", 2),
        ],
    )


# --- 6. repository-relative paths --------------------------------------------------------------


def test_paths_are_relative_to_the_git_top_level(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = write(
        tmp_path / "repo",
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "sf/sfdx-project.json": SFDX,
            f"sf/{PS}/Sync.permissionset-meta.xml": API_SET,
        },
    )
    rel = f"sf/{PS}/Sync.permissionset-meta.xml"
    monkeypatch.chdir(repo / "sf")  # from anywhere: the paths stay repository-relative
    code, out, _ = run_cli(capsys, "check", "--select", "SFL001", "--no-cache")
    assert code == 1
    assert out.startswith(f"{rel}:5: SFL001 [error] ")
    assert out.splitlines()[-1].endswith(
        " Project: sf (sfdx-project.json; package folder force-app)."
    )
    code, out, _ = run_cli(capsys, "check", "--select", "SFL001", "--format", "github", ".")
    assert out.startswith(f"::error file={rel},line=5,")
    code, out, _ = run_cli(capsys, "check", "--select", "SFL001", "--format", "sarif", ".")
    (run,) = json.loads(out)["runs"]
    assert run["originalUriBaseIds"] == {"SRCROOT": {"uri": repo.resolve().as_uri() + "/"}}
    place = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert place == {"uri": rel, "uriBaseId": "SRCROOT"}
    # --path-base sets the base.
    code, found, _, _ = check_json(capsys, "--select", "SFL001", "--path-base", ".", ".")
    assert found == [("SFL001", f"{PS}/Sync.permissionset-meta.xml", 5)]


def test_a_nested_sfdx_project_inside_a_package_directory_does_not_hide_its_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The CLI deploys a package directory whole: a pull request that adds an
    sfdx-project.json inside one cannot move its sets out of the project."""
    project = write(
        tmp_path / "p",
        {
            "sfdx-project.json": SFDX,
            f"{PS}/sfdx-project.json": '{"packageDirectories": []}',
            f"{PS}/Sync.permissionset-meta.xml": API_SET,
        },
    )
    expected = [("SFL001", f"{PS}/Sync.permissionset-meta.xml", 5)]
    for target in (project, project / f"{PS}/Sync.permissionset-meta.xml"):
        code, found, summary, _ = check_json(capsys, "--select", "SFL001", str(target))
        assert (code, found) == (1, expected), target
        assert [p["root"] for p in summary["projects"]] == ["."]
