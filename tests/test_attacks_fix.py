"""A hostile pull request against ``--fix`` and ``--diff``: each test is one attack, and
what must hold (issue 9, "Fixes that are all-or-nothing").

What every attack must leave true: the exact bytes of every file, the exact messages, nothing
written outside the project, no secret text in any output. A clone and the edits that point
the project at it are written together or not at all; what sflint says is what it did.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from sflint.cli import main
from sflint.fix import write
from sflint.fix.values import Unit, WriteResult
from tests.conftest import CASES, EXAMPLE

SECRET = "ghp_SECRETTOKEN0123456789"
PS = "force-app/main/default/permissionsets"
INT_API = f"{PS}/Int_API"
MAIN = f"{INT_API}/Int_API.permissionset-meta.xml"
CLONE = f"{PS}/Int_API_No_API_MFA"
CONFIG = b"personas:\n  - name: Sync\n    permission_sets: [Int_API]\n"
GROUP = "force-app/main/default/permissionsetgroups/Integration_Base.permissionsetgroup-meta.xml"
COMMISSION = f"{PS}/Commission_App_API.permissionset-meta.xml"
COMMISSION_CLONE = f"{PS}/Commission_App_API_No_API_MFA.permissionset-meta.xml"
SALES = "integrations/main/default/permissionsets/Sales_Data_Access.permissionset-meta.xml"
SALES_CLONE = (
    "integrations/main/default/permissionsets/Sales_Data_Access_No_API_MFA.permissionset-meta.xml"
)
CLONE_ARGS = ("--select", "SFL001", "--fix-strategy", "clone", "--no-cache")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes; links and FIFOs by what they are."""
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = b"-> " + os.fsencode(path.readlink())
        elif path.is_dir():
            out[rel + "/"] = b""
        elif stat.S_ISREG(path.lstat().st_mode):
            out[rel] = path.read_bytes()
        else:
            out[rel] = b"(special)"
    return out


@pytest.fixture
def decomposed(tmp_path: Path) -> Path:
    """The beta2 decomposed case with a persona that names its set, and a secret beside it."""
    root = tmp_path / "repo"
    shutil.copytree(CASES / "decomposed-beta2", root)
    (root / ".sflint.yml").write_bytes(CONFIG)
    (tmp_path / "secret.txt").write_text(f"TOKEN={SECRET}\n")
    return root


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    return root


# --------------------------------------------------------------------------------------------
# Secrets do not leak through clones


def _link_to_environ(folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SFLINT_TEST_SECRET", SECRET)
    (folder / "env.txt").symlink_to("/proc/self/environ")
    return "is a symbolic link to a file outside the project"


def _link_to_secret(folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (folder / "env.txt").symlink_to(folder.parents[5] / "secret.txt")
    return "is a symbolic link to a file outside the project"


def _link_inside(folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (folder / "env.txt").symlink_to(folder.parents[4] / "sfdx-project.json")
    return "is a symbolic link"


def _fifo(folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    os.mkfifo(folder / "env.txt")
    return "is a FIFO (named pipe)"


def _device(folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    try:
        os.mknod(folder / "env.txt", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs root")
    return "is a device"


def _folder_link(folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    outside = folder.parents[5] / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (folder / "env.txt").symlink_to(outside, target_is_directory=True)
    # Discovery refuses a folder link (exit 2) unless .forceignore skips it; a skipped one is
    # still in the folder that a clone copies.
    (folder.parents[4] / ".forceignore").write_text("**/Int_API/env.txt\n")
    return "is a symbolic link to a file outside the project"


@pytest.mark.parametrize(
    "make",
    [_link_to_environ, _link_to_secret, _link_inside, _fifo, _device, _folder_link],
    ids=["proc-environ", "secret-file", "link-inside", "fifo", "device", "folder-link"],
)
@pytest.mark.parametrize("mode", ["--diff", "--fix"])
def test_a_clone_copies_no_link_fifo_or_device(
    decomposed: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    make: Callable[[Path, pytest.MonkeyPatch], str],
    mode: str,
) -> None:
    reason = make(decomposed / INT_API, monkeypatch)
    before = tree(decomposed.parent)
    code, out, err = run(capsys, "check", str(decomposed), mode, *CLONE_ARGS)
    refused = f"{MAIN}: not cloned: {INT_API}/env.txt {reason}\n"
    if mode == "--diff":
        assert (code, out, err) == (0, "", refused)
    else:
        assert err == refused + "Fixed 0 of 1 findings; 0 files written.\n"
    assert SECRET not in out + err
    assert tree(decomposed.parent) == before


def test_an_unreadable_subfolder_refuses_the_clone(
    decomposed: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.walk

    def failing(
        top: str, onerror: Callable[[OSError], object] | None = None
    ) -> Iterator[tuple[str, list[str], list[str]]]:
        for entry in real(top):
            yield entry
            if entry[0].endswith("Int_API") and onerror is not None:
                onerror(PermissionError(errno.EACCES, "Permission denied", entry[0] + "/locked"))

    monkeypatch.setattr(os, "walk", failing)
    code, out, err = run(capsys, "check", str(decomposed), "--diff", *CLONE_ARGS)
    assert (code, out, err) == (
        0,
        "",
        f"{MAIN}: not cloned: {INT_API}/locked cannot be read: Permission denied\n",
    )


# --------------------------------------------------------------------------------------------
# All or nothing


COMMISSION_REFUSED = (
    f"{COMMISSION}: not cloned: cannot write {COMMISSION_CLONE}: {{reason}}; nothing written"
    " for it\n"
)
SALES_DONE = (
    "Created permission set Sales_Data_Access_No_API_MFA (label 'Sales Data Access (no API "
    "MFA)'), a copy of Sales_Data_Access without TwoFactorApi. Next: in the org, give the "
    "integration user (Commission app connection) Sales_Data_Access_No_API_MFA wherever it now "
    "gets Sales_Data_Access (its assignments, or the permission set group that includes it), "
    "and deploy.\n"
    f"{GROUP}:7: permission set group Integration_Base now names Sales_Data_Access_No_API_MFA "
    "instead of Sales_Data_Access.\n"
)
COMMISSION_DONE = (
    "Created permission set Commission_App_API_No_API_MFA (label 'Commission App API (no API "
    "MFA)'), a copy of Commission_App_API without TwoFactorApi. Next: in the org, give the "
    "integration user (Commission app connection) Commission_App_API_No_API_MFA wherever it "
    "now gets Commission_App_API (its assignments, or the permission set group that includes "
    "it), and deploy.\n"
    ".sflint.yml:6: persona 'Commission app connection' now names "
    "Commission_App_API_No_API_MFA instead of Commission_App_API.\n"
)


# What a clone leaves behind: the original set still enables TwoFactorApi under the
# Salesforce API Integration licence, which only integration users can hold, so detection
# (on beside declared personas) reports it as an integration persona of its own.
LEFT_BEHIND = (
    "force-app/main/default/permissionsets/Commission_App_API.permissionset-meta.xml:24: SFL001"
    ' [error] Integration persona "permission set Commission_App_API" (detected: its license is'
    " SalesforceAPIIntegrationPsl (Salesforce API Integration))"
)


def test_fix_says_exactly_what_it_wrote(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", str(example), "--fix", *CLONE_ARGS)
    assert (code, err) == (
        1,
        COMMISSION_DONE + SALES_DONE + "Fixed 2 of 2 findings; 4 files written.\n",
    )
    assert out.startswith(LEFT_BEHIND)
    assert len(out.splitlines()) == 2  # that finding and the summary


def test_diff_speaks_in_the_conditional(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = tree(example)
    code, out, err = run(capsys, "check", str(example), "--diff", *CLONE_ARGS)
    assert code == 1
    assert err == (
        "Would create permission set Commission_App_API_No_API_MFA (label 'Commission App API "
        "(no API MFA)'), a copy of Commission_App_API without TwoFactorApi (--fix writes it).\n"
        ".sflint.yml:6: persona 'Commission app connection' would name "
        "Commission_App_API_No_API_MFA instead of Commission_App_API.\n"
        "Would create permission set Sales_Data_Access_No_API_MFA (label 'Sales Data Access "
        "(no API MFA)'), a copy of Sales_Data_Access without TwoFactorApi (--fix writes it).\n"
        f"{GROUP}:7: permission set group Integration_Base would name "
        "Sales_Data_Access_No_API_MFA instead of Sales_Data_Access.\n"
    )
    assert out.count("+++ b/") == 4
    assert tree(example) == before


def _folder_in_the_way(root: Path) -> None:
    (root / COMMISSION_CLONE).mkdir()


def _ignored_file_in_the_way(root: Path) -> None:
    (root / COMMISSION_CLONE).write_bytes(b"<PermissionSet/>\n")
    with (root / ".forceignore").open("a") as f:
        f.write("**/Commission_App_API_No_API_MFA.permissionset-meta.xml\n")


@pytest.mark.parametrize(
    "obstacle",
    [_folder_in_the_way, _ignored_file_in_the_way],
    ids=["folder", "forceignored-file"],
)
def test_a_clone_that_cannot_be_written_leaves_the_config_alone(
    example: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    obstacle: Callable[[Path], None],
) -> None:
    """The clone's name is taken after it was planned (a name taken before is passed over:
    the tests after this one), so writing it fails."""
    real = write.apply_units
    before: dict[str, bytes] = {}

    def late(units: Iterable[Unit], root: Path) -> WriteResult:
        obstacle(example)
        before.update(tree(example))
        return real(units, root)

    monkeypatch.setattr(write, "apply_units", late)
    code, _, err = run(capsys, "check", str(example), "--fix", *CLONE_ARGS)
    assert code == 1  # the Commission_App_API finding remains
    assert err == (
        COMMISSION_REFUSED.format(reason="already exists")
        + SALES_DONE
        + "Fixed 1 of 2 findings; 2 files written.\n"
    )
    after = tree(example)
    # Only the other clone and the group edit that points at it were written.
    assert sorted(k for k in after if after[k] != before.get(k)) == [GROUP, SALES_CLONE]
    assert after[".sflint.yml"] == before[".sflint.yml"]


def test_a_dangling_link_named_like_the_clone_is_not_taken_for_it(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A set that could not be read grants nothing, so it lacks TwoFactorApi; reusing it as
    an earlier clone would point the persona at nothing and hide the finding."""
    (example / COMMISSION_CLONE).symlink_to("nowhere")
    code, out, err = run(capsys, "check", str(example), "--fix", *CLONE_ARGS)
    assert code == 1
    assert out.startswith(LEFT_BEHIND)
    assert err.splitlines()[:2] == [
        "Created permission set Commission_App_API_No_API_MFA_2 (label 'Commission App API (no "
        "API MFA)'), a copy of Commission_App_API without TwoFactorApi. Next: in the org, give"
        " the integration user (Commission app connection) Commission_App_API_No_API_MFA_2 "
        "wherever it now gets Commission_App_API (its assignments, or the permission set group"
        " that includes it), and deploy.",
        ".sflint.yml:6: persona 'Commission app connection' now names "
        "Commission_App_API_No_API_MFA_2 instead of Commission_App_API.",
    ]
    assert (example / COMMISSION_CLONE).readlink() == Path("nowhere")


COMMISSION_CLONE_2 = f"{PS}/Commission_App_API_No_API_MFA_2.permissionset-meta.xml"
COMMISSION_CLONE_3 = f"{PS}/Commission_App_API_No_API_MFA_3.permissionset-meta.xml"


def _done_as(name: str, taken: str) -> str:
    return (
        f"Created permission set {name} (label 'Commission App API (no API MFA)'), a copy of"
        f" Commission_App_API without TwoFactorApi (the name is taken: {taken}). Next: in the"
        f" org, give the integration user (Commission app connection) {name} wherever it now"
        " gets Commission_App_API (its assignments, or the permission set group that includes"
        " it), and deploy.\n"
        f".sflint.yml:6: persona 'Commission app connection' now names {name} instead of"
        " Commission_App_API.\n"
    )


@pytest.mark.parametrize(
    "obstacle",
    [_folder_in_the_way, _ignored_file_in_the_way],
    ids=["folder", "forceignored-file"],
)
def test_a_name_taken_on_disk_is_passed_over_and_the_clone_reused_next_time(
    example: Path, capsys: pytest.CaptureFixture[str], obstacle: Callable[[Path], None]
) -> None:
    """What holds the clone's name is left as it is; the clone takes the next name, says so,
    and a second run reuses it and writes nothing."""
    obstacle(example)
    before = tree(example)
    code, out, err = run(capsys, "check", str(example), "--fix", *CLONE_ARGS)
    assert (code, err) == (
        1,
        _done_as("Commission_App_API_No_API_MFA_2", f"{COMMISSION_CLONE} already exists")
        + SALES_DONE
        + "Fixed 2 of 2 findings; 4 files written.\n",
    )
    assert out.startswith(LEFT_BEHIND)
    after = tree(example)
    assert sorted(k for k in after if after.get(k) != before.get(k)) == sorted(
        [".sflint.yml", COMMISSION_CLONE_2, GROUP, SALES_CLONE]
    )
    assert after[COMMISSION_CLONE_2] == before[COMMISSION].replace(
        b"<label>Commission App API</label>", b"<label>Commission App API (no API MFA)</label>"
    ).replace(
        b"    <userPermissions>\n        <enabled>true</enabled>\n"
        b"        <name>TwoFactorApi</name>\n    </userPermissions>\n",
        b"",
    )
    assert b"permission_sets: [Commission_App_API_No_API_MFA_2]" in after[".sflint.yml"]

    code, _, err = run(capsys, "check", str(example), "--fix", *CLONE_ARGS)
    assert (code, err) == (
        1,
        "Commission_App_API_No_API_MFA_2 already is a copy of Commission_App_API without"
        " TwoFactorApi: give it to the integration user in place of Commission_App_API.\n"
        "Fixed 0 of 1 findings; 0 files written.\n",
    )
    assert tree(example) == after


def test_every_taken_name_is_named_and_diff_says_the_same(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _folder_in_the_way(example)
    (example / COMMISSION_CLONE_2).write_bytes(b"<PermissionSet/>\n")
    with (example / ".forceignore").open("a") as f:
        f.write("**/Commission_App_API_No_API_MFA_2.permissionset-meta.xml\n")
    taken = f"{COMMISSION_CLONE}, {COMMISSION_CLONE_2} already exist"
    before = tree(example)
    code, _, err = run(capsys, "check", str(example), "--diff", *CLONE_ARGS)
    assert (code, err.splitlines()[:2]) == (
        1,
        [
            "Would create permission set Commission_App_API_No_API_MFA_3 (label 'Commission App"
            " API (no API MFA)'), a copy of Commission_App_API without TwoFactorApi (the name is"
            f" taken: {taken}) (--fix writes it).",
            ".sflint.yml:6: persona 'Commission app connection' would name "
            "Commission_App_API_No_API_MFA_3 instead of Commission_App_API.",
        ],
    )
    assert tree(example) == before
    code, _, err = run(capsys, "check", str(example), "--fix", *CLONE_ARGS)
    assert err == (
        _done_as("Commission_App_API_No_API_MFA_3", taken)
        + SALES_DONE
        + "Fixed 2 of 2 findings; 4 files written.\n"
    )
    assert (example / COMMISSION_CLONE_3).is_file()
    assert (example / COMMISSION_CLONE).is_dir()
    assert (example / COMMISSION_CLONE_2).read_bytes() == b"<PermissionSet/>\n"


def test_a_decomposed_clone_passes_over_a_folder_of_its_name(
    decomposed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (decomposed / CLONE).mkdir()
    (decomposed / CLONE / "notes.txt").write_text("not a permission set\n")
    code, _, err = run(capsys, "check", str(decomposed), "--fix", *CLONE_ARGS)
    assert (code, err) == (
        1,  # the original set, still enabling it, is an integration persona of its own
        "Created permission set Int_API_No_API_MFA_2 (label 'Integration API (no API MFA)'),"
        " a copy of"
        f" Int_API without TwoFactorApi (the name is taken: {CLONE} already exists). Next: in"
        " the org, give the integration user (Sync) Int_API_No_API_MFA_2 wherever it now gets"
        " Int_API (its assignments, or the permission set group that includes it), and"
        " deploy.\n"
        ".sflint.yml:3: persona 'Sync' now names Int_API_No_API_MFA_2 instead of Int_API.\n"
        "Fixed 1 of 1 findings; 4 files written.\n",
    )
    assert sorted(tree(decomposed / f"{CLONE}_2")) == [
        "Int_API_No_API_MFA_2.permissionset-meta.xml",
        "Int_API_No_API_MFA_2.userPermission-meta.xml",
        "objectSettings/",
        "objectSettings/Account.objectSettings-meta.xml",
    ]
    assert tree(decomposed / CLONE) == {"notes.txt": b"not a permission set\n"}
    code, _, err = run(capsys, "check", str(decomposed), "--fix", *CLONE_ARGS)
    assert (code, err) == (
        1,
        "Int_API_No_API_MFA_2 already is a copy of Int_API without TwoFactorApi: give it to"
        " the integration user in place of Int_API.\nFixed 0 of 1 findings; 0 files written.\n",
    )


@pytest.mark.parametrize("nth", [1, 2, 3, 4])
def test_a_full_disk_writes_nothing_of_the_clone(
    decomposed: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    nth: int,
) -> None:
    """The clone is three files and the config edit; the disk fills on the Nth of them."""
    real = write._write_temp
    calls: list[str] = []

    def filling(folder: Path, name: str, data: bytes) -> Path:
        calls.append(name)
        if len(calls) == nth:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(folder, name, data)

    monkeypatch.setattr(write, "_write_temp", filling)
    before = tree(decomposed)
    code, _, err = run(capsys, "check", str(decomposed), "--fix", *CLONE_ARGS)
    failed = [
        f"{CLONE}/Int_API_No_API_MFA.permissionset-meta.xml",
        f"{CLONE}/Int_API_No_API_MFA.userPermission-meta.xml",
        f"{CLONE}/objectSettings/Account.objectSettings-meta.xml",
        ".sflint.yml",
    ][nth - 1]
    assert (code, err) == (
        1,
        f"{MAIN}: not cloned: cannot write {failed}: No space left on device; nothing written"
        " for it\nFixed 0 of 1 findings; 0 files written.\n",
    )
    assert tree(decomposed) == before  # no clone file, folder or temporary file is left


def test_a_config_that_cannot_be_replaced_takes_its_clone_back(
    example: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clone files are in place when the rename of .sflint.yml fails: they are removed,
    and the other clone, whose group edit went through, stays."""
    real = Path.replace

    def read_only(self: Path, target: str | os.PathLike[str]) -> Path:
        if Path(target).name == ".sflint.yml" and self.name.endswith(".sflint-tmp"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real(self, target)

    monkeypatch.setattr(Path, "replace", read_only)
    before = tree(example)
    code, _, err = run(capsys, "check", str(example), "--fix", *CLONE_ARGS)
    assert code == 1
    assert err == (
        f"{COMMISSION}: not cloned: cannot write .sflint.yml: Read-only file system; nothing"
        " written for it\n" + SALES_DONE + "Fixed 1 of 2 findings; 2 files written.\n"
    )
    after = tree(example)
    assert sorted(k for k in after if after[k] != before.get(k)) == [GROUP, SALES_CLONE]
    assert sorted(set(before) - set(after)) == []


# --------------------------------------------------------------------------------------------
# Owner, group, mode and extended attributes


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_fix_as_root_keeps_owner_mode_and_xattrs(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = example / COMMISSION
    os.chown(target, 1234, 1234)
    target.chmod(0o640)
    try:
        os.setxattr(target, "user.sflint-test", b"kept")
        xattrs = True
    except OSError:
        xattrs = False
    code, _, err = run(capsys, "check", str(example), "--select", "SFL001", "--fix", "--no-cache")
    assert (code, err) == (0, "Fixed 2 of 2 findings; 2 files written.\n")
    info = target.stat()
    assert b"TwoFactorApi" not in target.read_bytes()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (1234, 1234, 0o640)
    if not xattrs:
        pytest.skip("the temporary file system refuses user.* extended attributes")
    assert os.getxattr(target, "user.sflint-test") == b"kept"


# --------------------------------------------------------------------------------------------
# A beta1 clone for several permissions


TWO_PERMISSIONS_RULE = """id: ACME010
name: no-mfa-on-sync
summary: s
severity: error
scope: file
match:
  user_permission: {names: [TwoFactorApi, ViewSetup], enabled: true}
message: "{permission} is enabled"
fixes:
  - id: clone-new
    title: Clone it
    action: clone-without-permission
    clone: {name_suffix: _No_MFA, label_suffix: " (no MFA)"}
    steps: [s]
docs: {why: w, how_to_fix: h}
"""


def test_beta1_clone_for_two_permissions_leaves_out_both_grant_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "repo"
    shutil.copytree(CASES / "decomposed-beta1", root)
    grants = root / f"{PS}/Sync_User/userPermissions"
    view_setup = (grants / "TwoFactorApi.userPermission-meta.xml").read_bytes()
    (grants / "ViewSetup.userPermission-meta.xml").write_bytes(
        view_setup.replace(b"TwoFactorApi", b"ViewSetup")
    )
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ACME010-no-mfa-on-sync.yaml").write_text(TWO_PERMISSIONS_RULE)
    args = ("check", str(root), "--rules", str(rules), "--select", "ACME010", "--no-cache")
    code, _, err = run(capsys, *args, "--fix", "--fix-strategy", "clone")
    assert err == (
        "Created permission set Sync_User_No_MFA (label 'Sync User (no MFA)'), a copy of "
        "Sync_User without TwoFactorApi, ViewSetup. Next: in the org, give the integration "
        "user Sync_User_No_MFA wherever it now gets Sync_User (its assignments, or the "
        "permission set group that includes it), and deploy.\n"
        "Fixed 2 of 2 findings; 2 files written.\n"
    )
    clone = root / f"{PS}/Sync_User_No_MFA"
    original = root / f"{PS}/Sync_User"
    assert tree(clone) == {
        "Sync_User_No_MFA.permissionset-meta.xml": (original / "Sync_User.permissionset-meta.xml")
        .read_bytes()
        .replace(b"<label>Sync User</label>", b"<label>Sync User (no MFA)</label>"),
        "userPermissions/": b"",
        "userPermissions/ForceTwoFactor.userPermission-meta.xml": (
            grants / "ForceTwoFactor.userPermission-meta.xml"
        ).read_bytes(),
    }
    assert code == 1  # the original set still grants both
