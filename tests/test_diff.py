"""``sflint diff``: a small git repository built here, two commits apart.

The change (``head`` against ``base``): permission set Sync gains TwoFactorApi and Modify All
on Account and loses ApiEnabled; Old_Name is renamed New_Name (same content, a detected
persona that follows it); in Helper a line is added above a misspelt grant, so its SFL004
finding moves without being new. Expected outputs are exact: syrupy for console and
markdown, a dict for JSON."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from tests.conftest import run_cli

NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"'
PS = "force-app/main/default/permissionsets"
# Fixed names and dates: the same commit ids on every run.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "a",
    "GIT_AUTHOR_EMAIL": "a@example.com",
    "GIT_COMMITTER_NAME": "a",
    "GIT_COMMITTER_EMAIL": "a@example.com",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | GIT_ENV
    done = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _grant(name: str) -> str:
    return (
        f"    <userPermissions>\n        <enabled>true</enabled>\n"
        f"        <name>{name}</name>\n    </userPermissions>\n"
    )


def _object(name: str, modify_all: bool) -> str:
    flag = "true" if modify_all else "false"
    return (
        "    <objectPermissions>\n        <allowCreate>false</allowCreate>\n"
        "        <allowDelete>false</allowDelete>\n        <allowEdit>false</allowEdit>\n"
        f"        <allowRead>true</allowRead>\n        <modifyAllRecords>{flag}</modifyAllRecords>\n"
        f"        <object>{name}</object>\n        <viewAllRecords>{flag}</viewAllRecords>\n"
        "    </objectPermissions>\n"
    )


def _set(label: str, body: str, license: str | None = None) -> str:
    lic = f"    <license>{license}</license>\n" if license else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<PermissionSet {NS}>\n'
        f"    <label>{label}</label>\n{lic}{body}</PermissionSet>\n"
    )


BASE = {
    "sfdx-project.json": '{"packageDirectories": [{"path": "force-app"}]}\n',
    ".sflint.yml": "personas:\n  - name: Sync app\n    permission_sets: [Sync]\n",
    f"{PS}/Sync.permissionset-meta.xml": _set(
        "Sync", _grant("ApiEnabled") + _grant("ApiUserOnly") + _object("Account", False)
    ),
    f"{PS}/Old_Name.permissionset-meta.xml": _set(
        "Reports", _grant("ApiEnabled") + _grant("RunReports"), "SalesforceAPIIntegrationPsl"
    ),
    f"{PS}/Helper.permissionset-meta.xml": _set("Helper", _grant("ViewAlData")),
}
HEAD = {
    **{k: v for k, v in BASE.items() if "Old_Name" not in k},
    f"{PS}/Sync.permissionset-meta.xml": _set(
        "Sync", _grant("ApiUserOnly") + _grant("TwoFactorApi") + _object("Account", True)
    ),
    f"{PS}/New_Name.permissionset-meta.xml": BASE[f"{PS}/Old_Name.permissionset-meta.xml"],
    # One grant more above the misspelt one: its finding moves down five lines.
    f"{PS}/Helper.permissionset-meta.xml": _set(
        "Helper", _grant("RunReports") + _grant("ViewAlData")
    ),
}


def _write(repo: Path, files: dict[str, str]) -> None:
    for rel in git(repo, "ls-files").splitlines():
        (repo / rel).unlink()
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    for tag, files in (("base", BASE), ("head", HEAD)):
        _write(repo, files)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", tag)
        git(repo, "tag", tag)
    return repo


def _diff(capsys: pytest.CaptureFixture[str], repo: Path, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, "diff", *args, "--path", str(repo), "--no-cache")


def test_console(
    repo: Path, capsys: pytest.CaptureFixture[str], snapshot: SnapshotAssertion
) -> None:
    code, out, err = _diff(capsys, repo, "base", "head")
    assert (code, err) == (1, "")  # SFL001 is introduced, an error
    assert out == snapshot


def test_markdown(
    repo: Path, capsys: pytest.CaptureFixture[str], snapshot: SnapshotAssertion
) -> None:
    code, out, err = _diff(capsys, repo, "base", "head", "--format", "markdown")
    assert (code, err) == (1, "")
    assert out == snapshot


def test_json(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sflint import __version__

    code, out, err = _diff(capsys, repo, "base", "head", "--format", "json")
    assert err == ""
    doc = json.loads(out)
    findings = doc.pop("findings")
    sync = f"{PS}/Sync.permissionset-meta.xml"
    assert doc == {
        "schema": "sflint/diff/v1",
        "version": __version__,
        "base": {"kind": "git", "name": "base", "commit": git(repo, "rev-parse", "base")},
        "head": {"kind": "git", "name": "head", "commit": git(repo, "rev-parse", "head")},
        "personas": [
            {
                "name": "Sync app",
                "kind": "integration",
                "status": "changed",
                "base_name": None,
                "highlights": [
                    {
                        "kind": "gains-two-factor-api",
                        "text": "gains TwoFactorApi (Multi-Factor Authentication for API Logins):"
                        " every API login will need a second factor",
                        "permission": "TwoFactorApi",
                        "tier": None,
                    },
                    {
                        "kind": "loses-api-access",
                        "text": "loses ApiEnabled (API Enabled): it can no longer use the API",
                        "permission": "ApiEnabled",
                        "tier": None,
                    },
                ],
                "user_permissions": {
                    "gained": [
                        {
                            "permission": "TwoFactorApi",
                            "via": [
                                {
                                    "component": {"type": "PermissionSet", "name": "Sync"},
                                    "group": None,
                                    "path": sync,
                                    "line": 8,
                                }
                            ],
                        }
                    ],
                    "lost": [
                        {
                            "permission": "ApiEnabled",
                            "via": [
                                {
                                    "component": {"type": "PermissionSet", "name": "Sync"},
                                    "group": None,
                                    "path": sync,
                                    "line": 4,
                                }
                            ],
                        }
                    ],
                },
                "object_permissions": {
                    "gained": [
                        {
                            "object": "Account",
                            "access": ["viewAllRecords", "modifyAllRecords"],
                            "via": [
                                {
                                    "component": {"type": "PermissionSet", "name": "Sync"},
                                    "group": None,
                                    "path": sync,
                                    "line": 12,
                                }
                            ],
                        }
                    ],
                    "lost": [],
                },
            }
        ],
        "components": {
            "added": [],
            "removed": [],
            "renamed": [
                {
                    "type": "PermissionSet",
                    "from": "Old_Name",
                    "to": "New_Name",
                    "from_path": f"{PS}/Old_Name.permissionset-meta.xml",
                    "to_path": f"{PS}/New_Name.permissionset-meta.xml",
                }
            ],
        },
        "summary": {
            # SFL005 is folded into SFL001; SFL006 is a note: the persona names no profile.
            "introduced": 3,
            "resolved": 0,
            "introduced_by_severity": {"error": 1, "warning": 1, "note": 1},
            "highlights": 2,
            "fail_on": "error",
            "failed": True,
        },
    }
    # Helper's SFL004 moved from line 4 to line 8 (test_a_moved_finding_is_not_new): it is in
    # neither list.
    assert [(f["rule"], f["path"], f["line"], f["key"]) for f in findings["introduced"]] == [
        ("SFL001", sync, 8, "TwoFactorApi"),
        ("SFL016", sync, 12, "*"),
        ("SFL006", ".sflint.yml", 2, "Sync app"),
    ]
    assert findings["resolved"] == []
    assert code == 1  # SFL001 is an error, and fail_on is error


def test_a_moved_finding_is_not_new(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Both sides have Helper's SFL004, at another line: the diff lists it nowhere."""
    helper = f"{PS}/Helper.permissionset-meta.xml"
    lines = []
    for tag in ("base", "head"):
        git(repo, "checkout", "-q", tag)
        code, out, _ = run_cli(capsys, "check", str(repo), "--format", "json", "--no-cache")
        doc = json.loads(out)
        lines.append(
            [f["line"] for f in doc["findings"] if f["rule"] == "SFL004" and f["path"] == helper]
        )
    assert lines == [[4], [8]]
    git(repo, "checkout", "-q", "head")
    code, out, _ = _diff(capsys, repo, "base", "head", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert [
        f for k in ("introduced", "resolved") for f in doc["findings"][k] if f["rule"] == "SFL004"
    ] == []


def test_the_working_tree_is_head_by_default_and_is_left_as_it_is(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sync = repo / PS / "Sync.permissionset-meta.xml"
    sync.write_text(
        sync.read_text(encoding="utf-8").replace(
            "</PermissionSet>", _grant("ModifyAllData") + "</PermissionSet>"
        ),
        encoding="utf-8",
    )
    status = git(repo, "status", "--porcelain")  # also refreshes the index, once

    def state() -> list[tuple[str, int, bytes]]:
        """Every file of the working tree and the index, with its mtime and bytes."""
        files = [p for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts]
        return [
            (p.relative_to(repo).as_posix(), p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted([*files, repo / ".git" / "index"])
        ]

    before = state()
    code, out, err = _diff(capsys, repo, "head", "--format", "json")
    assert (code, err) == (0, "")
    assert state() == before
    assert git(repo, "status", "--porcelain") == status
    doc = json.loads(out)
    assert doc["head"] == {"kind": "worktree", "name": "working tree", "commit": None}
    ((persona),) = doc["personas"]
    assert [(h["kind"], h["permission"], h["tier"]) for h in persona["highlights"]] == [
        ("gains-privileged-permission", "ModifyAllData", 1),
        ("becomes-privileged", "ModifyAllData", 1),
    ]
    assert [f["rule"] for f in doc["findings"]["introduced"]] == ["SFL008"]


def test_two_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, files in (("old", BASE), ("new", HEAD)):
        for rel, text in files.items():
            (tmp_path / name / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name / rel).write_text(text, encoding="utf-8")
    code, out, err = run_cli(
        capsys,
        "diff",
        str(tmp_path / "old"),
        str(tmp_path / "new"),
        "--format",
        "json",
        "--no-cache",
    )
    assert (code, err) == (1, "")
    doc = json.loads(out)
    assert doc["base"] == {"kind": "folder", "name": str(tmp_path / "old"), "commit": None}
    assert [r["to"] for r in doc["components"]["renamed"]] == ["New_Name"]
    assert doc["summary"]["introduced"] == 3  # SFL005 is folded into SFL001 (issue 11)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope",), "sflint: error: unknown revision 'nope' (not a commit in {repo})\n"),
        (("base", "nope"), "sflint: error: unknown revision 'nope' (not a commit in {repo})\n"),
        (
            ("--", "--output=x"),
            "sflint: error: unknown revision '--output=x' (not a commit in {repo})\n",
        ),
    ],
)
def test_a_revision_that_does_not_exist_is_exit_2_in_one_line(
    repo: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, out, err = run_cli(capsys, "diff", "--path", str(repo), "--no-cache", *args)
    assert (code, out) == (2, "")
    assert err == message.format(repo=os.path.realpath(repo))


def test_fail_on_never_passes_and_fail_on_warning_counts_warnings(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _diff(capsys, repo, "base", "head", "--fail-on", "never")[0] == 0
    # Back to base: the change only resolves, nothing is introduced.
    assert _diff(capsys, repo, "head", "base", "--fail-on", "note")[0] == 0


def test_names_from_the_repository_are_inert_in_every_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = "Sync\\n::error ::@org/team <b>|x|\\u202e"
    config = f'personas:\n  - name: "{hostile}"\n    permission_sets: [Sync]\n'
    for name, files in (("old", BASE), ("new", HEAD)):
        for rel, text in {**files, ".sflint.yml": config}.items():
            (tmp_path / name / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name / rel).write_text(text, encoding="utf-8")
    old, new = str(tmp_path / "old"), str(tmp_path / "new")
    _, console, _ = run_cli(capsys, "diff", old, new, "--no-cache")
    assert "Persona Sync\\n::error ::@org/team <b>|x|\\u202e [integration]\n" in console
    assert not any(line.lstrip().startswith("::") for line in console.splitlines())
    _, markdown, _ = run_cli(capsys, "diff", old, new, "--format", "markdown", "--no-cache")
    assert (
        "#### Sync\\\\n::error ::@&#8203;org/team &lt;b&gt;\\|x\\|\\\\u202e (integration)\n"
        in markdown
    )
    _, text, _ = run_cli(capsys, "diff", old, new, "--format", "json", "--no-cache")
    assert json.loads(text)["personas"][0]["name"] == "Sync\n::error ::@org/team <b>|x|\u202e"
