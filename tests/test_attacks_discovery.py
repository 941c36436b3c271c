"""Hostile pull requests against discovery: what a path is named, links, FIFOs, folders.

Every file named like permission metadata is a component under its own name; one that is
not a regular file inside the project is an invalid-metadata finding of its own at line 1,
saying what it is, and is never opened. A folder that cannot be walked stops the run with
exit 2 (docs/security.md, "Discovery"). The secret is a file outside the project.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from sflint.cli import main
from tests.conftest import EXAMPLE

SECRET = "ghp_SECRETTOKEN0123456789"
PS = "force-app/main/default/permissionsets"
REAL = f"{PS}/Commission_App_API.permissionset-meta.xml"
# The example's findings (README), which no attack below may hide.
EXAMPLE_FINDINGS = [
    ("SFL001", REAL, 24),
    ("SFL003", "force-app/main/default/profiles/Custom%3A Sales Profile.profile-meta.xml", 9),
    (
        "SFL002",
        "integrations/main/default/permissionsets/Data_Loader_Users.permissionset-meta.xml",
        13,
    ),
    (
        "SFL001",
        "integrations/main/default/permissionsets/Sales_Data_Access.permissionset-meta.xml",
        8,
    ),
]  # SFL005 on Sales_Data_Access:8 is folded into its SFL001 (issue 11)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    secret = tmp_path / "secret"
    secret.mkdir()
    # A secret that parses as a permission set, so nothing but the policy keeps it out.
    (secret / "Stolen.permissionset-meta.xml").write_text(
        f"<PermissionSet><label>{SECRET}</label></PermissionSet>\n"
    )
    (tmp_path / "secret.txt").write_text(f"TOKEN={SECRET}\n")
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "--no-cache"])
    out, err = capsys.readouterr()
    return code, out, err


def findings(
    capsys: pytest.CaptureFixture[str], project: Path
) -> tuple[int, list[tuple[str, str, int, str]]]:
    """Exit code and (rule, path, line, message) of every finding, from the JSON output;
    asserts that the secret is in no output format."""
    code, out, err = run(capsys, "check", str(project), "--format", "json")
    for fmt in ("console", "sarif", "github", "markdown"):
        _, other, other_err = run(capsys, "check", str(project), "--format", fmt)
        assert SECRET not in other + other_err, fmt
    assert SECRET not in out + err
    assert err == ""
    report = json.loads(out)
    return code, [(f["rule"], f["path"], f["line"], f["message"]) for f in report["findings"]]


def _link_out(path: Path, root: Path) -> None:
    path.symlink_to(root.parent / "secret.txt")


def _loop(path: Path, root: Path) -> None:
    path.symlink_to(path.name)


def _dangling(path: Path, root: Path) -> None:
    path.symlink_to("Nothing_Here.permissionset-meta.xml")


def _fifo(path: Path, root: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(path.parent)  # an AF_UNIX address is at most 108 bytes: bind by name
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(path.name)
    sock.close()


def _device(path: Path, root: Path) -> None:
    try:
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")


KINDS: dict[str, tuple[Callable[..., None], str]] = {
    "link-out": (_link_out, "Not read: it is a symbolic link to a file outside the project"),
    "loop": (_loop, "Not read: it is a symbolic link loop"),
    "dangling": (_dangling, "Not read: it is a symbolic link to nothing"),
    "fifo": (_fifo, "Not read: it is a FIFO (named pipe)"),
    "socket": (_socket, "Not read: it is a socket"),
    "device": (_device, "Not read: it is a device"),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_file_named_like_a_set_that_is_not_a_regular_file_inside(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    make, message = KINDS[kind]
    path = project / PS / "AAA_Odd.permissionset-meta.xml"
    if kind == "socket":
        make(path, project, monkeypatch)
    else:
        make(path, project)
    code, found = findings(capsys, project)
    assert code == 1
    odd = f"{PS}/AAA_Odd.permissionset-meta.xml"
    assert [f for f in found if f[1] == odd] == [("SFL010", odd, 1, message)]
    assert sorted(f[:3] for f in found if f[1] != odd) == sorted(EXAMPLE_FINDINGS)


def test_two_names_for_one_file_are_both_components(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The link sorts first; it must not take the real set's path and make it vanish."""
    (project / PS / "AAA.permissionset-meta.xml").symlink_to(
        "Commission_App_API.permissionset-meta.xml"
    )
    code, found = findings(capsys, project)
    assert code == 1
    # AAA carries Commission_App_API's integration license: with detection on beside the
    # declared persona (issue 10, item 4) it is an integration persona of its own, so its
    # TwoFactorApi is an SFL001 error, no longer an SFL002 note.
    assert sorted(f[:3] for f in found) == sorted(
        [*EXAMPLE_FINDINGS, ("SFL001", f"{PS}/AAA.permissionset-meta.xml", 24)]
    )
    assert not [f for f in found if f[0] == "SFL011"]


def test_a_suppression_through_one_name_does_not_hide_the_other(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A link to a set whose every finding is suppressed, beside a real set: each name
    keeps its own findings; the link's file is the target's, so the suppression is read
    under the link's name and covers only the link's findings."""
    real = project / REAL
    text = real.read_text()
    (project / PS / "Muted.permissionset-meta.xml").write_text(
        text.replace("<PermissionSet", "<!-- sflint: ignore-file -->\n<PermissionSet", 1)
    )
    (project / PS / "AAA.permissionset-meta.xml").symlink_to("Muted.permissionset-meta.xml")
    code, found = findings(capsys, project)
    assert code == 1
    assert sorted(f[:3] for f in found) == sorted(EXAMPLE_FINDINGS)


def _refused(capsys: pytest.CaptureFixture[str], project: Path) -> tuple[int, str]:
    code, out, err = run(capsys, "check", str(project))
    assert SECRET not in out + err
    return code, err


def test_a_linked_folder_leaving_the_project_is_never_walked(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / PS / "shared").symlink_to(project.parent / "secret", target_is_directory=True)
    assert _refused(capsys, project) == (
        2,
        f"sflint: error: {PS}/shared: not scanned: it is a symbolic link to a folder outside the"
        " project; add it to .forceignore to skip it\n",
    )


def test_a_linked_folder_to_an_unscanned_folder_is_an_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Salesforce CLI follows folder links, so what it would deploy from ``hidden/``
    must not go unlinted."""
    hidden = project / "hidden"
    hidden.mkdir()
    shutil.move(project / REAL, hidden / "Commission_App_API.permissionset-meta.xml")
    (project / PS / "more").symlink_to("../../../../hidden", target_is_directory=True)
    assert _refused(capsys, project) == (
        2,
        f"sflint: error: {PS}/more: not scanned: it is a symbolic link to a folder that sflint"
        " does not scan, and sflint does not follow folder links (list hidden in"
        " packageDirectories instead); add it to .forceignore to skip it\n",
    )


def test_a_linked_folder_to_a_scanned_folder_is_skipped(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its files are linted under their own names; following it would add nothing."""
    (project / PS / "again").symlink_to("../permissionsets", target_is_directory=True)
    (project / "integrations/main/loop").symlink_to("..", target_is_directory=True)
    code, found = findings(capsys, project)
    assert (code, sorted(f[:3] for f in found)) == (1, sorted(EXAMPLE_FINDINGS))


def test_a_forceignored_linked_folder_is_skipped(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / PS / "shared").symlink_to(project.parent / "secret", target_is_directory=True)
    with (project / ".forceignore").open("a") as f:
        f.write("\nshared/\n")
    code, found = findings(capsys, project)
    assert (code, sorted(f[:3] for f in found)) == (1, sorted(EXAMPLE_FINDINGS))


def test_a_linked_folder_into_a_forceignored_folder_is_an_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI deploys through the link's path, which .forceignore does not name."""
    (project / "force-app" / "parked").mkdir()
    shutil.move(
        project / REAL, project / "force-app/parked/Commission_App_API.permissionset-meta.xml"
    )
    with (project / ".forceignore").open("a") as f:
        f.write("\nforce-app/parked/\n")
    (project / PS / "more").symlink_to("../../../parked", target_is_directory=True)
    assert _refused(capsys, project) == (
        2,
        f"sflint: error: {PS}/more: not scanned: it is a symbolic link to a folder that sflint"
        " does not scan, and sflint does not follow folder links (list force-app/parked in"
        " packageDirectories instead); add it to .forceignore to skip it\n",
    )


def test_a_package_directory_linked_out_of_the_project_is_not_scanned(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "stolen").symlink_to(project.parent / "secret", target_is_directory=True)
    (project / "sfdx-project.json").write_text(
        '{"packageDirectories": [{"path": "force-app"}, {"path": "integrations"},'
        ' {"path": "stolen"}]}'
    )
    code, found = findings(capsys, project)
    assert (code, sorted(f[:3] for f in found)) == (1, sorted(EXAMPLE_FINDINGS))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a folder whatever its mode")
def test_an_unreadable_folder_is_an_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = project / PS / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        assert _refused(capsys, project) == (
            2,
            f"sflint: error: {PS}/locked: not scanned: it cannot be read: Permission denied;"
            " add it to .forceignore to skip it\n",
        )
    finally:
        locked.chmod(0o755)


def test_an_unreadable_folder_is_an_error_even_as_root(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same, with the failing listing simulated (CI runs as root, where chmod does not
    stop a read)."""
    locked = project / PS / "locked"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if Path(path) == locked:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert _refused(capsys, project) == (
        2,
        f"sflint: error: {PS}/locked: not scanned: it cannot be read: Permission denied;"
        " add it to .forceignore to skip it\n",
    )
    with (project / ".forceignore").open("a") as f:
        f.write("\nlocked/\n")
    code, found = findings(capsys, project)
    assert (code, sorted(f[:3] for f in found)) == (1, sorted(EXAMPLE_FINDINGS))


def _deep(base: Path, levels: int) -> str:
    """Make ``levels`` nested 200-character folders under ``base`` (relative to each other,
    since the whole path is longer than open() accepts); their path relative to ``base``."""
    name = "d" * 200
    fd = os.open(base, os.O_RDONLY)
    try:
        for _ in range(levels):
            os.mkdir(name, dir_fd=fd)
            child = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = child
    finally:
        os.close(fd)
    return "/".join([name] * levels)


def test_a_path_longer_than_the_system_allows_is_an_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = project / PS
    _deep(base, 25)  # 25 * 201 characters: over PATH_MAX (4096 bytes with its NUL) on Linux
    # The first folder whose absolute path no longer fits is the one that cannot be listed.
    levels = next(k for k in range(1, 26) if len(str(base)) + 201 * k >= 4096)
    where = "/".join([PS] + ["d" * 200] * levels)
    assert _refused(capsys, project) == (
        2,
        f"sflint: error: {where}: not scanned: it has a path longer than the system allows;"
        " add it to .forceignore to skip it\n",
    )


def test_a_link_named_on_the_command_line_is_reported_under_its_own_name(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """pre-commit passes the changed files; a link is one of them, never its target, and a
    link out of the project does not move the project to where it points."""
    (project / PS / "AAA.permissionset-meta.xml").symlink_to(
        "Commission_App_API.permissionset-meta.xml"
    )
    (project / PS / "Out.permissionset-meta.xml").symlink_to(project.parent / "secret.txt")
    monkeypatch.chdir(project)
    code, stdout, err = run(
        capsys, "check", f"{PS}/Out.permissionset-meta.xml", f"{PS}/AAA.permissionset-meta.xml"
    )
    assert SECRET not in stdout + err
    assert (code, err) == (1, "")
    # AAA carries an integration license: detected beside the declared persona (item 4).
    assert stdout.splitlines() == [
        f"{PS}/AAA.permissionset-meta.xml:24: SFL001 [error] Integration persona"
        ' "permission set AAA" (detected: its license is SalesforceAPIIntegrationPsl'
        " (Salesforce API Integration)) gets Multi-Factor Authentication for API Logins"
        " (TwoFactorApi) through permission set AAA: every API login of this user will ask for"
        " a second factor, and the app's connection will fail. Multi-Factor Authentication for"
        " User Interface Logins (ForceTwoFactor) may stay. The persona also holds Manage MFA in"
        " API (ManageTwoFactor): that look-alike is a different permission and not the cause;"
        " unchecking it does not help.",
        f"{PS}/Out.permissionset-meta.xml:1: SFL010 [error] Not read: it is a symbolic link to a"
        " file outside the project",
        "Found 2 findings (2 errors) in 10 files, 10 components; 1 skipped by"
        " .forceignore (--no-forceignore includes them). Project: . (sfdx-project.json;"
        " package folders force-app, integrations).",
    ]
