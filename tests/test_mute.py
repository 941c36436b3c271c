"""``--fix-strategy mute`` (issue 11, item 7): a grant through a permission set group is muted
in the group's muting permission set; exact file contents, the round trip, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from sflint.cli import main
from sflint.fix.insert import add_muting_member, mute_permissions, new_muting_set
from sflint.fix.values import FixError

SET = """<?xml version="1.0" encoding="UTF-8"?>
<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>Commission App API</label>
    <userPermissions>
        <enabled>true</enabled>
        <name>TwoFactorApi</name>
    </userPermissions>
</PermissionSet>
"""
GROUP = """<?xml version="1.0" encoding="UTF-8"?>
<PermissionSetGroup xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>Integration Base</label>
    <permissionSets>Commission_App_API</permissionSets>
    <status>Updated</status>
</PermissionSetGroup>
"""
MUTING = """<?xml version="1.0" encoding="UTF-8"?>
<MutingPermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>Base Muted</label>
    <userPermissions>
        <enabled>true</enabled>
        <name>ViewSetup</name>
    </userPermissions>
</MutingPermissionSet>
"""
CONFIG = """personas:
  - name: Commission app connection
    kind: integration
    permission_set_groups: [Integration_Base]
"""
DEFAULT = "force-app/main/default"
SET_FILE = f"{DEFAULT}/permissionsets/Commission_App_API.permissionset-meta.xml"
GROUP_FILE = f"{DEFAULT}/permissionsetgroups/Integration_Base.permissionsetgroup-meta.xml"
NEW_MUTING = f"{DEFAULT}/mutingpermissionsets/Integration_Base_Muting.mutingpermissionset-meta.xml"
OLD_MUTING = f"{DEFAULT}/mutingpermissionsets/Base_Muted.mutingpermissionset-meta.xml"


def _project(tmp_path: Path, files: dict[str, str], config: str = CONFIG) -> Path:
    root = tmp_path / "p"
    (root / ".git").mkdir(parents=True)
    (root / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "force-app"}]}')
    (root / ".sflint.yml").write_text(config)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(text.encode())
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


def _check(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, str, str]:
    code = main(["check", str(root), "--select", "SFL001", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _sfl001(capsys: pytest.CaptureFixture[str], root: Path) -> list[tuple[str, int]]:
    _, out, _ = _check(capsys, root, "--format", "json")
    return [(f["path"], f["line"]) for f in json.loads(out)["findings"]]


@pytest.fixture(autouse=True)
def _cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)


def test_option_3_is_offered_only_through_a_group(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _project(tmp_path, {SET_FILE: SET, GROUP_FILE: GROUP})
    _, out, _ = _check(capsys, root, "--format", "json")
    (finding,) = json.loads(out)["findings"]
    assert [(o["id"], o["action"]) for o in finding["fixes"]] == [
        ("edit-existing", "disable-permission"),
        ("clone-new", "clone-without-permission"),
        ("mute-in-group", "mute-permission"),
    ]
    assert finding["fixes"][2]["title"] == (
        "Option 3: mute the permission in permission set group Integration_Base"
    )
    # The same set assigned directly: no group, no muting option.
    direct = CONFIG.replace(
        "permission_set_groups: [Integration_Base]", "permission_sets: [Commission_App_API]"
    )
    (root / ".sflint.yml").write_text(direct)
    _, out, _ = _check(capsys, root, "--format", "json")
    assert [o["id"] for o in json.loads(out)["findings"][0]["fixes"]] == [
        "edit-existing",
        "clone-new",
    ]


def test_mute_creates_the_muting_set_and_lists_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, snapshot: SnapshotAssertion
) -> None:
    root = _project(tmp_path, {SET_FILE: SET, GROUP_FILE: GROUP})
    assert _sfl001(capsys, root) == [(SET_FILE, 4)]
    before = _files(root)
    code, _, err = _check(capsys, root, "--diff", "--fix-strategy", "mute")
    assert code == 1
    assert _files(root) == before  # --diff writes nothing
    assert err.splitlines() == [
        "Would mute TwoFactorApi in a new muting permission set Integration_Base_Muting"
        f" ({NEW_MUTING}), listed in {GROUP_FILE}, for permission set group Integration_Base"
        " (--fix writes it)."
    ]
    code, _, err = _check(capsys, root, "--fix", "--fix-strategy", "mute")
    assert code == 0
    assert err.splitlines()[-1] == "Fixed 1 of 1 findings; 2 files written."
    after = _files(root)
    assert after[SET_FILE] == before[SET_FILE]  # the set itself is unchanged
    assert set(after) - set(before) == {NEW_MUTING}
    assert after[NEW_MUTING].decode() == snapshot(name="new-muting-set")
    assert after[GROUP_FILE].decode() == snapshot(name="group-lists-it")
    # The round trip: the persona no longer gets TwoFactorApi; a second run changes nothing.
    assert _sfl001(capsys, root) == []
    code, _, err = _check(capsys, root, "--fix", "--fix-strategy", "mute")
    assert (code, err.splitlines()[-1]) == (0, "Fixed 0 of 0 findings; 0 files written.")
    assert _files(root) == after


def test_mute_adds_to_the_groups_muting_set(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, snapshot: SnapshotAssertion
) -> None:
    group = GROUP.replace(
        "    <permissionSets>",
        "    <mutingPermissionSets>Base_Muted</mutingPermissionSets>\n    <permissionSets>",
    )
    crlf = MUTING.replace("\n", "\r\n")
    root = _project(tmp_path, {SET_FILE: SET, GROUP_FILE: group, OLD_MUTING: crlf})
    assert _sfl001(capsys, root) == [(SET_FILE, 4)]
    before = _files(root)
    code, _, err = _check(capsys, root, "--fix", "--fix-strategy", "mute")
    assert code == 0
    after = _files(root)
    assert {k for k in after if after[k] != before.get(k)} == {OLD_MUTING}
    assert after[OLD_MUTING].decode() == snapshot(name="existing-muting-set-crlf")
    assert after[OLD_MUTING].count(b"\n") == after[OLD_MUTING].count(b"\r\n") == 12
    assert err.splitlines()[0].startswith(
        f"Muted TwoFactorApi in muting permission set Base_Muted ({OLD_MUTING})"
    )
    assert _sfl001(capsys, root) == []


def test_mute_is_all_or_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = _project(tmp_path, {SET_FILE: SET, "elsewhere/group.xml": GROUP})
    # The group file is a link (inside the project, so it is read) that --fix never writes
    # through: the new muting set must not stay behind without the group naming it.
    (root / GROUP_FILE).parent.mkdir(parents=True)
    (root / GROUP_FILE).symlink_to(root / "elsewhere/group.xml")
    before = _files(root)
    assert _sfl001(capsys, root) == [(SET_FILE, 4)]
    code, _, err = _check(capsys, root, "--fix", "--fix-strategy", "mute")
    assert code == 1
    assert err.splitlines() == [
        f"{GROUP_FILE}: not muted: cannot write {GROUP_FILE}: is a symbolic link; nothing"
        " written for it",
        "Fixed 0 of 1 findings; 0 files written.",
    ]
    assert _files(root) == before
    assert not (root / NEW_MUTING).parent.exists()


def test_mute_refuses_a_muting_set_the_project_lacks(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    group = GROUP.replace(
        "    <permissionSets>",
        "    <mutingPermissionSets>acme__Muted</mutingPermissionSets>\n    <permissionSets>",
    )
    root = _project(tmp_path, {SET_FILE: SET, GROUP_FILE: group})
    before = _files(root)
    code, _, err = _check(capsys, root, "--fix", "--fix-strategy", "mute")
    assert err.splitlines() == [
        f"{GROUP_FILE}: not muted: its muting permission set acme__Muted is not in the project;"
        " mute TwoFactorApi in it in Setup, or retrieve it",
        "Fixed 0 of 1 findings; 0 files written.",
    ]
    assert code == 1 and _files(root) == before


def test_mute_names_grants_that_come_through_no_group(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = CONFIG.replace(
        "permission_set_groups: [Integration_Base]", "permission_sets: [Commission_App_API]"
    )
    root = _project(tmp_path, {SET_FILE: SET, GROUP_FILE: GROUP}, config)
    before = _files(root)
    code, _, err = _check(capsys, root, "--fix", "--fix-strategy", "mute")
    assert err.splitlines() == [
        f"{SET_FILE}:4: not muted: TwoFactorApi does not reach persona Commission app"
        " connection through a permission set group; --fix-strategy edit or clone applies"
        " instead.",
        "Fixed 0 of 1 findings; 0 files written.",
    ]
    assert code == 1 and _files(root) == before


def test_insertions_are_byte_preserving() -> None:
    muted = mute_permissions(MUTING.encode(), ["ApiEnabled", "ZZZ", "ViewSetup"])
    assert muted.decode() == MUTING.replace(
        "    <userPermissions>\n        <enabled>true</enabled>\n        <name>ViewSetup",
        "    <userPermissions>\n        <enabled>true</enabled>\n        <name>ApiEnabled</name>\n"
        "    </userPermissions>\n    <userPermissions>\n        <enabled>true</enabled>\n"
        "        <name>ViewSetup",
    ).replace(
        "    </userPermissions>\n</MutingPermissionSet>",
        "    </userPermissions>\n    <userPermissions>\n        <enabled>true</enabled>\n"
        "        <name>ZZZ</name>\n    </userPermissions>\n</MutingPermissionSet>",
    )
    # A permission listed as disabled is switched on in place.
    off = MUTING.replace("<enabled>true</enabled>", "<enabled>false</enabled>").encode()
    assert mute_permissions(off, ["ViewSetup"]) == MUTING.encode()
    assert mute_permissions(MUTING.encode(), ["ViewSetup"]) == MUTING.encode()
    tabs = GROUP.replace("    ", "\t").encode()
    assert add_muting_member(tabs, "M").decode() == GROUP.replace("    ", "\t").replace(
        "\t<permissionSets>", "\t<mutingPermissionSets>M</mutingPermissionSets>\n\t<permissionSets>"
    )
    assert add_muting_member(add_muting_member(tabs, "M"), "M") == add_muting_member(tabs, "M")
    assert new_muting_set("A & B", ["X"], tabs).decode() == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<MutingPermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        "\t<label>A &amp; B</label>\n\t<userPermissions>\n\t\t<enabled>true</enabled>\n"
        "\t\t<name>X</name>\n\t</userPermissions>\n</MutingPermissionSet>\n"
    )
    with pytest.raises(FixError, match="expected a <MutingPermissionSet> root"):
        mute_permissions(GROUP.encode(), ["X"])
    with pytest.raises(FixError, match="self-closing"):
        mute_permissions(b'<MutingPermissionSet xmlns="x"/>', ["X"])
