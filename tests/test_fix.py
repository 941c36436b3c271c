"""Tests of the fix engine: byte-exact edits, verification, cloning, diff and safe writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from sflint.fix import ops, write
from sflint.fix.diff import unified_diff
from sflint.fix.ops import (
    clone_decomposed,
    clone_label,
    clone_name,
    clone_path,
    clone_without_permission,
    disable_permission,
    plan_clone,
    plan_clone_decomposed,
    plan_disable,
)
from sflint.fix.values import (
    ApplyResult,
    FileEdit,
    FixError,
    Patch,
    Plan,
    Refusal,
    Unit,
    WriteResult,
)
from sflint.fix.write import apply_edits, apply_units
from sflint.model import ComponentType

DATA = Path(__file__).parent.parent / "testdata" / "fix"
CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus"
NS = "http://soap.sforce.com/2006/04/metadata"
# SFL001's clone option names its clones so (rules/SFL001-integration-api-mfa.yaml).
MFA_SUFFIX = "_No_API_MFA"
MFA_LABEL = " (no API MFA)"

# case -> (component type, permission to disable). Inputs and expected outputs are written by
# hand (testdata/fix/<case>.input.xml, <case>.expected.xml) and compared byte for byte.
CASES = {
    "basic": (ComponentType.PERMISSION_SET, "TwoFactorApi"),
    "crlf": (ComponentType.PERMISSION_SET, "TwoFactorApi"),
    "tabs": (ComponentType.PERMISSION_SET, "TwoFactorApi"),
    "bom": (ComponentType.PERMISSION_SET, "TwoFactorApi"),
    "no_final_newline": (ComponentType.PERMISSION_SET, "TwoFactorApi"),
    "commented_out": (ComponentType.PERMISSION_SET, "TwoFactorApi"),
    "commented_only": (ComponentType.PERMISSION_SET, "TwoFactorApi"),
    "char_reference": (ComponentType.PERMISSION_SET, "TwoFactorApi"),
    "cdata_name": (ComponentType.PERMISSION_SET, "TwoFactorApi"),
    "whitespace_text": (ComponentType.PERMISSION_SET, "TwoFactorApi"),
    "split_tags": (ComponentType.PERMISSION_SET, "TwoFactorApi"),
    "two_grants": (ComponentType.PERMISSION_SET, "TwoFactorApi"),
    "inline": (ComponentType.PERMISSION_SET, "TwoFactorApi"),
    "not_enabled": (ComponentType.PERMISSION_SET, "TwoFactorApi"),
    "lookalike": (ComponentType.PERMISSION_SET, "TwoFactorApi"),
    "no_namespace": (ComponentType.PERMISSION_SET, "TwoFactorApi"),
    "decomposed_beta2": (ComponentType.PERMISSION_SET, "TwoFactorApi"),
    "mdapi_format": (ComponentType.PERMISSION_SET, "TwoFactorApi"),
    "profile": (ComponentType.PROFILE, "TwoFactorApi"),
    "profile_crlf": (ComponentType.PROFILE, "TwoFactorApi"),
    "profile_already_false": (ComponentType.PROFILE, "TwoFactorApi"),
    "profile_whitespace": (ComponentType.PROFILE, "TwoFactorApi"),
}


def _case(name: str) -> tuple[bytes, bytes]:
    return (DATA / f"{name}.input.xml").read_bytes(), (DATA / f"{name}.expected.xml").read_bytes()


def test_every_data_file_has_a_case() -> None:
    names = {p.name.split(".")[0] for p in DATA.glob("*.expected.xml")}
    assert names == set(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_disable_is_byte_exact(case: str) -> None:
    component_type, permission = CASES[case]
    data, expected = _case(case)
    assert disable_permission(data, permission, component_type=component_type) == expected


@pytest.mark.parametrize("case", sorted(CASES))
def test_disable_is_idempotent(case: str) -> None:
    component_type, permission = CASES[case]
    data, _ = _case(case)
    once = disable_permission(data, permission, component_type=component_type)
    assert disable_permission(once, permission, component_type=component_type) == once


def test_unchanged_input_is_returned_as_is() -> None:
    data, _ = _case("not_enabled")
    assert (
        disable_permission(data, "TwoFactorApi", component_type=ComponentType.PERMISSION_SET)
        is data
    )


def test_manage_two_factor_is_not_touched_by_api_mfa_fix() -> None:
    data, _ = _case("lookalike")
    result = disable_permission(data, "TwoFactorApi", component_type=ComponentType.PERMISSION_SET)
    assert b"<name>ManageTwoFactor</name>" in result
    assert b"<name>ForceTwoFactor</name>" in result


def test_profile_never_removes_elements() -> None:
    data, expected = _case("profile")
    result = disable_permission(data, "TwoFactorApi", component_type=ComponentType.PROFILE)
    assert result.count(b"<userPermissions>") == data.count(b"<userPermissions>")
    assert result == expected


def test_wrong_root_is_refused() -> None:
    data, _ = _case("profile")
    with pytest.raises(FixError, match="<PermissionSet>"):
        disable_permission(data, "TwoFactorApi", component_type=ComponentType.PERMISSION_SET)


def test_group_and_muting_types_are_refused() -> None:
    data, _ = _case("basic")
    with pytest.raises(FixError):
        disable_permission(data, "TwoFactorApi", component_type=ComponentType.MUTING_PERMISSION_SET)


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "TwoFactorApi">]>\n'
        b"<PermissionSet><userPermissions><enabled>true</enabled><name>&a;</name>"
        b"</userPermissions></PermissionSet>\n",
        b'<!DOCTYPE PermissionSet SYSTEM "http://example.invalid/x.dtd">\n<PermissionSet/>\n',
        b"<PermissionSet><label>x</label>",
        b"not xml",
        b"\xff\xfe<\x00a\x00/\x00>\x00",
    ],
    ids=["internal-entity", "external-dtd", "truncated", "garbage", "utf16"],
)
def test_hostile_or_broken_input_raises(data: bytes) -> None:
    with pytest.raises(FixError):
        disable_permission(data, "TwoFactorApi", component_type=ComponentType.PERMISSION_SET)


def test_attribute_containing_gt_does_not_confuse_offsets() -> None:
    data = (
        b'<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata" a="x>y">\n'
        b'    <userPermissions b="1>0"><enabled>true</enabled><name>TwoFactorApi</name>'
        b"</userPermissions>\n"
        b'    <label c="/>">L</label>\n'
        b"</PermissionSet>\n"
    )
    result = disable_permission(data, "TwoFactorApi", component_type=ComponentType.PERMISSION_SET)
    assert result == data.replace(
        b'    <userPermissions b="1>0"><enabled>true</enabled><name>TwoFactorApi</name>'
        b"</userPermissions>\n",
        b"",
    )


def test_verification_failure_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    data, _ = _case("basic")
    real = ops._apply_splices

    def corrupting(data: bytes, splices: object) -> bytes:
        return real(data, splices).replace(b"<name>ViewSetup</name>", b"<name>ViewSetuq</name>")  # type: ignore[arg-type]

    monkeypatch.setattr(ops, "_apply_splices", corrupting)
    with pytest.raises(FixError, match="verification failed"):
        disable_permission(data, "TwoFactorApi", component_type=ComponentType.PERMISSION_SET)


def test_verification_catches_broken_xml(monkeypatch: pytest.MonkeyPatch) -> None:
    data, _ = _case("profile")
    real = ops._apply_splices

    def truncating(data: bytes, splices: object) -> bytes:
        return real(data, splices)[:-20]  # type: ignore[arg-type]

    monkeypatch.setattr(ops, "_apply_splices", truncating)
    with pytest.raises(FixError, match="not well-formed"):
        disable_permission(data, "TwoFactorApi", component_type=ComponentType.PROFILE)


def test_verification_catches_wrong_offsets(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the removal span were off by a few bytes the result could still be well-formed but
    different; the tree comparison must notice."""
    data, _ = _case("basic")
    real = ops._line_span

    def shifted(data: bytes, start: int, end: int) -> tuple[int, int]:
        s, e = real(data, start, end)
        return s, e + len(b"    <userPermissions>\n        <enabled>true</enabled>\n")

    monkeypatch.setattr(ops, "_line_span", shifted)
    with pytest.raises(FixError):
        disable_permission(data, "TwoFactorApi", component_type=ComponentType.PERMISSION_SET)


# --------------------------------------------------------------------------------------------
# Decomposed permission sets and planning


def test_beta1_file_is_deleted() -> None:
    data = (DATA / "decomposed_beta1.input.xml").read_bytes()
    path = Path(
        "force-app/main/default/permissionsets/PS/userPermissions/TwoFactorApi.userPermission-meta.xml"
    )
    edit = plan_disable(path, data, "TwoFactorApi", component_type=ComponentType.PERMISSION_SET)
    assert edit == FileEdit(path, data, None)
    assert edit.is_delete
    assert (
        plan_disable(path, data, "ViewSetup", component_type=ComponentType.PERMISSION_SET) is None
    )


def test_beta1_disabled_file_is_left_alone() -> None:
    data = (DATA / "decomposed_beta1.input.xml").read_bytes().replace(b"true", b"false")
    assert (
        plan_disable(Path("x"), data, "TwoFactorApi", component_type=ComponentType.PERMISSION_SET)
        is None
    )


def test_plan_disable_beta2_and_profile() -> None:
    data, expected = _case("decomposed_beta2")
    path = Path("permissionsets/PS/PS.userPermission-meta.xml")
    assert plan_disable(
        path, data, "TwoFactorApi", component_type=ComponentType.PERMISSION_SET
    ) == FileEdit(path, data, expected)
    data, expected = _case("profile")
    edit = plan_disable(
        Path("p.profile-meta.xml"), data, "TwoFactorApi", component_type=ComponentType.PROFILE
    )
    assert edit is not None
    assert edit.after == expected
    assert (
        plan_disable(Path("p"), expected, "TwoFactorApi", component_type=ComponentType.PROFILE)
        is None
    )


def test_file_edit_needs_content() -> None:
    with pytest.raises(ValueError, match="before or after"):
        FileEdit(Path("x"), None, None)


# --------------------------------------------------------------------------------------------
# Cloning


@pytest.mark.parametrize(
    ("name", "existing", "expected"),
    [
        ("Commission_App_API", set(), "Commission_App_API_No_API_MFA"),
        (
            "Commission_App_API",
            {"Commission_App_API_No_API_MFA"},
            "Commission_App_API_No_API_MFA_2",
        ),
        (
            "Commission_App_API",
            {"commission_app_api_no_api_mfa", "Commission_App_API_No_API_MFA_2"},
            "Commission_App_API_No_API_MFA_3",
        ),
        ("Commission_App_API_No_API_MFA", set(), "Commission_App_API_No_API_MFA"),
        (
            "Commission_App_API_No_API_MFA",
            {"Commission_App_API_No_API_MFA"},
            "Commission_App_API_No_API_MFA_2",
        ),
        ("force__ScaleCenterStandardPS", set(), "force_ScaleCenterStandardPS_No_API_MFA"),
        ("Sales Ops – Integration", set(), "Sales_Ops_Integration_No_API_MFA"),
        ("2FA_Users_", set(), "FA_Users_No_API_MFA"),
        ("___", set(), "Permission_Set_No_API_MFA"),
        ("A" * 80, set(), "A" * 69 + "_No_API_MFA"),
        ("A" * 68 + "_B", set(), "A" * 68 + "_No_API_MFA"),
        ("A" * 80, {"A" * 69 + "_No_API_MFA"}, "A" * 69 + "_No_API_MFA"[:-2] + "_2"),
    ],
)
def test_clone_name(name: str, existing: set[str], expected: str) -> None:
    result = clone_name(name, existing, MFA_SUFFIX)
    assert result == expected
    assert ops.is_valid_name(result)
    assert result.casefold() not in {e.casefold() for e in existing}


@given(st.text(max_size=120), st.sets(st.text(max_size=90), max_size=5))
@settings(max_examples=200, deadline=None)
def test_clone_name_always_valid(name: str, existing: set[str]) -> None:
    result = clone_name(name, existing, MFA_SUFFIX)
    assert ops.is_valid_name(result), result
    assert len(result) <= 80
    assert "__" not in result
    assert not result.endswith("_")
    assert result[0].isascii() and result[0].isalpha()
    assert result.casefold() not in {e.casefold() for e in existing}


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("A", True),
        ("A_b_9", True),
        ("a__b", False),
        ("a_", False),
        ("_a", False),
        ("9a", False),
        ("a b", False),
        ("é", False),
        ("A" * 80, True),
        ("A" * 81, False),
    ],
)
def test_is_valid_name(name: str, valid: bool) -> None:
    assert ops.is_valid_name(name) is valid


def test_clone_label() -> None:
    assert clone_label("Commission App API", MFA_LABEL) == "Commission App API (no API MFA)"
    long = clone_label("L" * 100, MFA_LABEL)
    assert len(long) == 80
    assert long.endswith("… (no API MFA)")


def test_clone_without_permission() -> None:
    data, expected = _case("basic")
    original = bytes(data)
    result = clone_without_permission(
        data, "TwoFactorApi", new_name="Commission_App_API_No_API_MFA", new_label="A & B <x>"
    )
    assert data == original
    assert result == expected.replace(
        b"<label>Commission App API</label>", b"<label>A &amp; B &lt;x&gt;</label>"
    )
    root = etree.fromstring(result)
    assert root.findtext(f"{{{NS}}}label") == "A & B <x>"


def test_clone_rejects_invalid_name_and_label() -> None:
    data, _ = _case("basic")
    with pytest.raises(FixError, match="API name"):
        clone_without_permission(data, "TwoFactorApi", new_name="bad__name", new_label="x")
    with pytest.raises(FixError, match="label"):
        clone_without_permission(data, "TwoFactorApi", new_name="Good", new_label="x" * 81)


def test_plan_clone_creates_next_to_original() -> None:
    data, _ = _case("crlf")
    path = Path("force-app/main/default/permissionsets/Commission_App_API.permissionset-meta.xml")
    edit = plan_clone(
        path, data, "TwoFactorApi", new_name="Commission_App_API_No_API_MFA", new_label="L"
    )
    assert edit.is_create
    assert edit.path == path.with_name("Commission_App_API_No_API_MFA.permissionset-meta.xml")
    assert edit.after is not None
    assert b"\r\n" in edit.after
    assert b"\n" not in edit.after.replace(b"\r\n", b"")
    assert clone_path(Path("permissionsets/X.permissionset"), "Y") == Path(
        "permissionsets/Y.permissionset"
    )
    with pytest.raises(FixError):
        clone_path(Path("profiles/X.profile"), "Y")


def _decomposed(beta: int) -> dict[str, bytes]:
    main = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        b"    <hasActivationRequired>false</hasActivationRequired>\n"
        b"    <label>Commission App API</label>\n"
        b"</PermissionSet>\n"
    )
    obj = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<PermissionSet>\n    <objectPermissions>\n'
        b"        <allowRead>true</allowRead>\n        <object>Account</object>\n"
        b"    </objectPermissions>\n</PermissionSet>\n"
    )
    files = {"Commission_App_API.permissionset-meta.xml": main}
    if beta == 2:
        files["Commission_App_API.userPermission-meta.xml"] = _case("decomposed_beta2")[0]
        files["objectSettings/Account.objectSettings-meta.xml"] = obj
    else:
        beta1 = (DATA / "decomposed_beta1.input.xml").read_bytes()
        files["userPermissions/TwoFactorApi.userPermission-meta.xml"] = beta1
        files["userPermissions/ViewSetup.userPermission-meta.xml"] = beta1.replace(
            b"TwoFactorApi", b"ViewSetup"
        )
    return files


def test_clone_decomposed_beta2() -> None:
    files = _decomposed(2)
    snapshot = dict(files)
    out = clone_decomposed(
        files, "TwoFactorApi", old_name="Commission_App_API", new_name="CA_No", new_label="CA (no)"
    )
    assert files == snapshot
    assert sorted(out) == [
        "CA_No.permissionset-meta.xml",
        "CA_No.userPermission-meta.xml",
        "objectSettings/Account.objectSettings-meta.xml",
    ]
    assert out["CA_No.userPermission-meta.xml"] == _case("decomposed_beta2")[1]
    assert b"<label>CA (no)</label>" in out["CA_No.permissionset-meta.xml"]
    assert (
        out["objectSettings/Account.objectSettings-meta.xml"]
        == (files["objectSettings/Account.objectSettings-meta.xml"])
    )


def test_clone_decomposed_beta1_omits_the_grant_file() -> None:
    files = _decomposed(1)
    out = clone_decomposed(
        files, "TwoFactorApi", old_name="Commission_App_API", new_name="CA_No", new_label="CA"
    )
    assert sorted(out) == [
        "CA_No.permissionset-meta.xml",
        "userPermissions/ViewSetup.userPermission-meta.xml",
    ]


def test_plan_clone_decomposed_paths() -> None:
    folder = Path("force-app/main/default/permissionsets/Commission_App_API")
    edits = plan_clone_decomposed(
        folder,
        _decomposed(2),
        "TwoFactorApi",
        old_name="Commission_App_API",
        new_name="CA_No",
        new_label="CA",
    )
    assert all(e.is_create for e in edits)
    assert {e.path.parent for e in edits} == {
        folder.with_name("CA_No"),
        folder.with_name("CA_No") / "objectSettings",
    }


def test_clone_decomposed_rejects_unsafe_paths() -> None:
    files = _decomposed(2)
    files["../escape.xml"] = b"<x/>"
    with pytest.raises(FixError, match="unsafe"):
        clone_decomposed(
            files, "TwoFactorApi", old_name="Commission_App_API", new_name="N", new_label="L"
        )


# --------------------------------------------------------------------------------------------
# Diff


def test_unified_diff_modify_create_delete(tmp_path: Path) -> None:
    data, expected = _case("basic")
    edits = [
        FileEdit(tmp_path / "b/new.xml", None, b"<a/>\n"),
        FileEdit(tmp_path / "a/X.permissionset-meta.xml", data, expected),
        FileEdit(Path("c/gone.xml"), b"<a/>", None),
    ]
    diff = unified_diff(edits, tmp_path)
    assert diff == unified_diff(list(reversed(edits)), tmp_path)
    assert diff.startswith("--- a/a/X.permissionset-meta.xml\n+++ b/a/X.permissionset-meta.xml\n")
    assert "-        <name>TwoFactorApi</name>\n" in diff
    assert "--- /dev/null\n+++ b/b/new.xml\n@@ -0,0 +1 @@\n+<a/>\n" in diff
    assert (
        "--- a/c/gone.xml\n+++ /dev/null\n@@ -1 +0,0 @@\n-<a/>\n\\ No newline at end of file\n"
        in diff
    )
    assert str(tmp_path) not in diff


def test_unified_diff_crlf_and_binary(tmp_path: Path) -> None:
    data, expected = _case("crlf")
    diff = unified_diff([FileEdit(Path("x.xml"), data, expected)], tmp_path)
    assert "-        <name>TwoFactorApi</name>\r\n" in diff
    binary = unified_diff([FileEdit(Path("y.xml"), b"\xff\xfe", b"x")], tmp_path)
    assert binary == "Binary files a/y.xml and b/y.xml differ\n"


def test_unified_diff_applies_with_patch(tmp_path: Path) -> None:
    """The diff is a real patch: `git apply` reproduces the fixed bytes, CRLF included."""
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None:
        pytest.skip("git not installed")
    edits = []
    for case in ("crlf", "no_final_newline", "bom", "profile"):
        data, expected = _case(case)
        (tmp_path / f"{case}.xml").write_bytes(data)
        edits.append(FileEdit(Path(f"{case}.xml"), data, expected))
    (tmp_path / "patch.diff").write_bytes(unified_diff(edits, tmp_path).encode("utf-8"))
    subprocess.run(
        [git, "apply", "--unsafe-paths", "--whitespace=nowarn", "patch.diff"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    for case in ("crlf", "no_final_newline", "bom", "profile"):
        assert (tmp_path / f"{case}.xml").read_bytes() == _case(case)[1]


# --------------------------------------------------------------------------------------------
# Writing


def test_apply_modify_keeps_mode(tmp_path: Path) -> None:
    data, expected = _case("basic")
    target = tmp_path / "ps" / "X.permissionset-meta.xml"
    target.parent.mkdir()
    target.write_bytes(data)
    target.chmod(0o640)
    result = apply_edits([FileEdit(Path("ps/X.permissionset-meta.xml"), data, expected)], tmp_path)
    assert result.ok
    assert target.read_bytes() == expected
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temp files left


def test_apply_create_and_delete(tmp_path: Path) -> None:
    (tmp_path / "old.xml").write_bytes(b"<a/>")
    edits = [
        FileEdit(Path("new/dir/new.xml"), None, b"<b/>"),
        FileEdit(Path("old.xml"), b"<a/>", None),
    ]
    result = apply_edits(edits, tmp_path)
    assert result == ApplyResult(tuple(edits), ())
    assert (tmp_path / "new/dir/new.xml").read_bytes() == b"<b/>"
    assert not (tmp_path / "old.xml").exists()


def test_apply_refuses_changed_file(tmp_path: Path) -> None:
    data, expected = _case("basic")
    target = tmp_path / "X.permissionset-meta.xml"
    target.write_bytes(data + b"<!-- edited meanwhile -->")
    edit = FileEdit(Path(target.name), data, expected)
    other = tmp_path / "ok.xml"
    other.write_bytes(b"1")
    result = apply_edits([edit, FileEdit(other, b"1", b"2")], tmp_path)
    assert not result.ok
    assert [(r.path, r.reason) for r in result.refused] == [
        (Path(target.name), "changed since it was read")
    ]
    assert target.read_bytes() == data + b"<!-- edited meanwhile -->"
    assert other.read_bytes() == b"2"  # the other edit still went through


def test_apply_refuses_change_during_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "x.xml"
    target.write_bytes(b"old")
    real = write._write_temp

    def racing(folder: Path, name: str, data: bytes) -> Path:
        tmp = real(folder, name, data)
        target.write_bytes(b"someone else")
        return tmp

    monkeypatch.setattr(write, "_write_temp", racing)
    result = apply_edits([FileEdit(Path("x.xml"), b"old", b"new")], tmp_path)
    assert [r.reason for r in result.refused] == ["changed since it was read"]
    assert target.read_bytes() == b"someone else"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.xml"]


def test_apply_refuses_missing_file_and_existing_creation(tmp_path: Path) -> None:
    (tmp_path / "exists.xml").write_bytes(b"x")
    result = apply_edits(
        [
            FileEdit(Path("missing.xml"), b"x", b"y"),
            FileEdit(Path("exists.xml"), None, b"y"),
        ],
        tmp_path,
    )
    assert [r.reason for r in result.refused] == ["no longer exists", "already exists"]
    assert (tmp_path / "exists.xml").read_bytes() == b"x"


def test_apply_refuses_outside_root(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    outside = tmp_path / "outside.xml"
    outside.write_bytes(b"x")
    result = apply_edits(
        [
            FileEdit(Path("../outside.xml"), b"x", b"y"),
            FileEdit(outside, b"x", b"y"),
        ],
        root,
    )
    assert [r.reason for r in result.refused] == ["outside the project root"] * 2
    assert outside.read_bytes() == b"x"


def test_apply_refuses_symlink_escaping_root(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.xml").write_bytes(b"x")
    (root / "link.xml").symlink_to(elsewhere / "x.xml")
    (root / "dirlink").symlink_to(elsewhere, target_is_directory=True)
    result = apply_edits(
        [
            FileEdit(Path("link.xml"), b"x", b"y"),
            FileEdit(Path("dirlink/x.xml"), b"x", b"y"),
            FileEdit(Path("dirlink/new.xml"), None, b"y"),
        ],
        root,
    )
    assert [r.reason for r in result.refused] == [
        "is a symbolic link",
        "resolves outside the project root",
        "resolves outside the project root",
    ]
    assert (elsewhere / "x.xml").read_bytes() == b"x"
    assert not (elsewhere / "new.xml").exists()


def test_apply_reports_os_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "x.xml").write_bytes(b"x")

    def failing(folder: Path, name: str, data: bytes) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(write, "_write_temp", failing)
    result = apply_edits([FileEdit(Path("x.xml"), b"x", b"y")], tmp_path)
    assert result.refused == (Refusal(Path("x.xml"), "No space left on device"),)
    assert (tmp_path / "x.xml").read_bytes() == b"x"


def test_apply_missing_root_refuses_everything(tmp_path: Path) -> None:
    result = apply_edits([FileEdit(Path("x.xml"), None, b"y")], tmp_path / "absent")
    assert len(result.refused) == 1
    assert result.refused[0].reason.startswith("project root:")


def test_fix_twice_through_files_is_noop(tmp_path: Path) -> None:
    data, _ = _case("crlf")
    target = tmp_path / "X.permissionset-meta.xml"
    target.write_bytes(data)
    for expected_edits in (1, 0):
        current = target.read_bytes()
        edit = plan_disable(
            target, current, "TwoFactorApi", component_type=ComponentType.PERMISSION_SET
        )
        edits = [edit] if edit else []
        assert len(edits) == expected_edits
        assert apply_edits(edits, tmp_path).ok


# --------------------------------------------------------------------------------------------
# Property-based: any layout, any mix of grants


def _grants(root: etree._Element) -> list[tuple[str, str]]:
    return [
        (
            (u.findtext("{*}name") or u.findtext("name") or "").strip(),
            (u.findtext("{*}enabled") or u.findtext("enabled") or "").strip(),
        )
        for u in root
        if isinstance(u.tag, str) and etree.QName(u).localname == "userPermissions"
    ]


def _others(root: etree._Element) -> list[str]:
    return [
        etree.tostring(e, with_tail=False).decode()
        for e in root
        if isinstance(e.tag, str) and etree.QName(e).localname != "userPermissions"
    ]


_NAMES = st.sampled_from(["TwoFactorApi", "ApiEnabled", "ViewSetup", "ForceTwoFactor"])
_INDENT = st.sampled_from(["", "  ", "    ", "\t", " \t"])


@st.composite
def _documents(draw: st.DrawFn) -> bytes:
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    indent = draw(_INDENT)
    namespace = draw(st.booleans())
    pieces: list[str] = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["grant", "grant", "label", "object", "comment"]))
        ind = draw(_INDENT) if draw(st.booleans()) else indent
        if kind == "grant":
            name = draw(_NAMES)
            if draw(st.booleans()):
                name = name.replace("A", "&#65;", 1)
            enabled = draw(st.sampled_from(["true", "false", " true "]))
            sep = draw(st.sampled_from([newline + ind + ind, "", " "]))
            pieces.append(
                f"{ind}<userPermissions{draw(st.sampled_from(['', newline + ind]))}>{sep}"
                f"<enabled>{enabled}</enabled>{sep}<name>{name}</name>{sep}</userPermissions>"
            )
        elif kind == "label":
            pieces.append(f"{ind}<label>L &amp; {draw(st.integers(0, 9))}</label>")
        elif kind == "object":
            pieces.append(
                f"{ind}<objectPermissions>{newline}{ind}{ind}<allowRead>true</allowRead>"
                f"{newline}{ind}{ind}<object>Account</object>{newline}{ind}</objectPermissions>"
            )
        else:
            pieces.append(
                f"{ind}<!-- <userPermissions><enabled>true</enabled>"
                f"<name>{draw(_NAMES)}</name></userPermissions> -->"
            )
    joiner = draw(st.sampled_from([newline, "", " "]))
    body = joiner.join(pieces)
    ns = ' xmlns="http://soap.sforce.com/2006/04/metadata"' if namespace else ""
    bom = "\ufeff" if draw(st.booleans()) else ""
    end = newline if draw(st.booleans()) else ""
    return (
        f'{bom}<?xml version="1.0" encoding="UTF-8"?>{newline}<PermissionSet{ns}>{newline}'
        f"{body}{newline}</PermissionSet>{end}"
    ).encode()


@given(_documents(), _NAMES)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_disable_permission_set(data: bytes, target: str) -> None:
    result = disable_permission(data, target, component_type=ComponentType.PERMISSION_SET)
    before, after = etree.fromstring(data), etree.fromstring(result)
    expected = [g for g in _grants(before) if not (g[0] == target and g[1] == "true")]
    assert _grants(after) == expected
    assert _others(after) == _others(before)
    comments = [c.text for c in before.iter(etree.Comment)]
    assert [c.text for c in after.iter(etree.Comment)] == comments
    # Bytes outside the removed elements are untouched: the result is a subsequence of the
    # input with the same start (BOM, declaration) and end (final newline or not).
    assert result[:40] == data[:40]
    closing = data.rindex(b"</PermissionSet>")
    assert result.endswith(data[closing:])
    assert disable_permission(result, target, component_type=ComponentType.PERMISSION_SET) == result


@given(_documents(), _NAMES)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_disable_profile(data: bytes, target: str) -> None:
    data = data.replace(b"PermissionSet", b"Profile")
    result = disable_permission(data, target, component_type=ComponentType.PROFILE)
    before, after = etree.fromstring(data), etree.fromstring(result)
    expected = [(n, "false" if n == target and e == "true" else e) for n, e in _grants(before)]
    assert _grants(after) == expected
    assert len(result) <= len(data) + data.count(b"true")
    assert disable_permission(result, target, component_type=ComponentType.PROFILE) == result


_ORDERS = st.permutations(["TwoFactorApi", "ApiEnabled", "ViewSetup", "ForceTwoFactor"])


@st.composite
def _packed(draw: st.DrawFn) -> bytes:
    """Grants only, often several to a line: where disabling one permission after another
    differs from cutting every grant's line span out of the original."""
    grants = [
        f"<userPermissions><enabled>{draw(st.sampled_from(['true', 'false']))}</enabled>"
        f"<name>{draw(_NAMES)}</name></userPermissions>"
        for _ in range(draw(st.integers(1, 6)))
    ]
    seps = st.sampled_from(["", " ", "\t", "\n", "\r\n", "\n    ", " \n"])
    body = "".join(draw(seps) + grant for grant in grants) + draw(seps)
    return f"<PermissionSet>{body}</PermissionSet>\n".encode()


@given(
    st.one_of(_documents(), _packed()),
    _ORDERS,
    st.integers(1, 4),
    st.sampled_from([ComponentType.PERMISSION_SET, ComponentType.PROFILE]),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_disable_many_in_one_pass(
    data: bytes, order: list[str], count: int, component_type: ComponentType
) -> None:
    """One pass over a file gives the bytes of disabling the permissions one after another
    (grants sharing a line included), and each permission's share is its own: the shares do
    not overlap and together make the whole change (SARIF fixes of several results)."""
    data = data.replace(b"PermissionSet", component_type.value.encode())
    permissions = order[:count]
    expected = data
    for permission in permissions:
        expected = disable_permission(expected, permission, component_type=component_type)
    done = ops.disable_permissions(data, permissions, component_type=component_type)
    assert done.after == expected
    enabled = {n for n, e in _grants(etree.fromstring(data)) if e == "true"}
    assert [p for p, _ in done.shares] == [p for p in permissions if p in enabled]
    splices = sorted((s for _, share in done.shares for s in share), key=lambda s: s.start)
    rebuilt, pos = b"", 0
    for splice in splices:
        assert splice.start >= pos
        rebuilt += data[pos : splice.start] + splice.replacement
        pos = splice.end
    assert rebuilt + data[pos:] == expected


def test_disable_many_takes_the_line_of_grants_that_shared_it() -> None:
    """Two grants on one line: disabling one, then the other, leaves no blank line; so does
    one pass, whose second share is the rest of the line."""
    data = (
        b"<PermissionSet>\n"
        b"    <userPermissions><enabled>true</enabled><name>ApiEnabled</name></userPermissions>"
        b"<userPermissions><enabled>true</enabled><name>ViewSetup</name></userPermissions>\n"
        b"    <label>L</label>\n"
        b"</PermissionSet>\n"
    )
    done = ops.disable_permissions(
        data, ["ViewSetup", "ApiEnabled"], component_type=ComponentType.PERMISSION_SET
    )
    assert done.after == b"<PermissionSet>\n    <label>L</label>\n</PermissionSet>\n"
    assert done.shares == (
        ("ViewSetup", (ops.Splice(101, 181, b""),)),
        ("ApiEnabled", (ops.Splice(16, 101, b""), ops.Splice(181, 182, b""))),
    )


# --------------------------------------------------------------------------------------------
# Real files


def _corpus_files() -> list[tuple[Path, ComponentType]]:
    if not CORPUS.is_dir():
        return []
    found = []
    for path in sorted(CORPUS.rglob("*")):
        name = path.name
        if name.endswith((".permissionset-meta.xml", ".permissionset", ".userPermission-meta.xml")):
            found.append((path, ComponentType.PERMISSION_SET))
        elif name.endswith((".profile-meta.xml", ".profile")):
            found.append((path, ComponentType.PROFILE))
    return found


def test_corpus_present_or_skip() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}; corpus tests skipped")
    assert len(_corpus_files()) > 50


@pytest.mark.parametrize(
    ("path", "component_type"),
    _corpus_files(),
    ids=lambda v: str(v.relative_to(CORPUS)) if isinstance(v, Path) else str(v),
)
def test_corpus_disable_first_enabled(path: Path, component_type: ComponentType) -> None:
    data = path.read_bytes()
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    enabled = [n for n, e in _grants(root) if e == "true"]
    if not enabled:
        # Nothing to disable: the fix must be a no-op (and must not choke on the file).
        assert disable_permission(data, "TwoFactorApi", component_type=component_type) is data
        return
    target = enabled[0]
    result = disable_permission(data, target, component_type=component_type)
    assert result != data
    after = etree.fromstring(result)
    grants = _grants(root)
    if component_type == "Profile":
        assert _grants(after) == [
            (n, "false" if n == target and e == "true" else e) for n, e in grants
        ]
    else:
        assert _grants(after) == [g for g in grants if g != (target, "true")]
        # Exactly the element's bytes (and its own line) are gone.
        assert len(data) - len(result) < 200
    assert _others(after) == _others(root)
    assert disable_permission(result, target, component_type=component_type) == result


def test_clone_on_disk_leaves_original_untouched(tmp_path: Path) -> None:
    data, _ = _case("bom")
    folder = tmp_path / "force-app/main/default/permissionsets"
    folder.mkdir(parents=True)
    original = folder / "Commission_App_API.permissionset-meta.xml"
    original.write_bytes(data)
    name = clone_name("Commission_App_API", {"Commission_App_API"}, MFA_SUFFIX)
    edit = plan_clone(
        original,
        data,
        "TwoFactorApi",
        new_name=name,
        new_label=clone_label("Commission App API", MFA_LABEL),
    )
    assert apply_edits([edit], tmp_path).ok
    assert original.read_bytes() == data
    clone = folder / f"{name}.permissionset-meta.xml"
    assert clone.read_bytes() == edit.after
    assert b"<name>TwoFactorApi</name>" not in clone.read_bytes()
    assert b"<label>Commission App API (no API MFA)</label>" in clone.read_bytes()
    again = apply_edits([edit], tmp_path)
    assert [r.reason for r in again.refused] == ["already exists"]


# --------------------------------------------------------------------------------------------
# Many clones in one run, and units written whole


@given(
    st.lists(st.sampled_from(["A", "A_No_API_MFA", "a", "B" * 80, "B" * 79 + "C", "x y"])),
    st.sets(st.sampled_from(["A_No_API_MFA", "a_no_api_mfa_2", "A_No_API_MFA_4", "Q"])),
)
@settings(max_examples=200, deadline=None)
def test_clone_names_are_those_of_clone_name_with_a_growing_set(
    names: list[str], existing: set[str]
) -> None:
    taken = set(existing)
    index = ops.CloneNames(existing)
    for name in names:
        expected = clone_name(name, taken, MFA_SUFFIX)
        taken.add(expected)
        assert index.take(name, MFA_SUFFIX) == expected


def _shared_units(root: Path) -> tuple[Unit, Unit, bytes]:
    config = b"permission_sets: [A, B]\n"
    (root / "c.yml").write_bytes(config)
    a = Unit(
        edits=(FileEdit(Path("new/A2.xml"), None, b"a"),),
        patches=(Patch(root / "c.yml", config, ((18, 1, b"A2"),)),),
    )
    b = Unit(
        edits=(FileEdit(Path("new/B2.xml"), None, b"b"),),
        patches=(Patch(root / "c.yml", config, ((21, 1, b"B2"),)),),
    )
    return a, b, config


def test_units_that_patch_one_file_are_composed(tmp_path: Path) -> None:
    a, b, _ = _shared_units(tmp_path)
    result = apply_units([a, b], tmp_path)
    assert result == WriteResult(
        (None, None), (tmp_path / "c.yml", tmp_path / "new/A2.xml", tmp_path / "new/B2.xml")
    )
    assert (tmp_path / "c.yml").read_bytes() == b"permission_sets: [A2, B2]\n"
    assert Plan((a, b), (), ()).edits == (
        FileEdit(Path("new/A2.xml"), None, b"a"),
        FileEdit(Path("new/B2.xml"), None, b"b"),
        FileEdit(tmp_path / "c.yml", b"permission_sets: [A, B]\n", b"permission_sets: [A2, B2]\n"),
    )


def test_a_refused_unit_takes_its_patch_with_it(tmp_path: Path) -> None:
    a, b, _ = _shared_units(tmp_path)
    (tmp_path / "new").mkdir()
    (tmp_path / "new/B2.xml").write_bytes(b"in the way")
    result = apply_units([a, b], tmp_path)
    assert result.refusals == (None, Refusal(Path("new/B2.xml"), "already exists"))
    assert (tmp_path / "c.yml").read_bytes() == b"permission_sets: [A2, B]\n"
    assert (tmp_path / "new/B2.xml").read_bytes() == b"in the way"


def test_a_unit_that_fails_half_way_is_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second file of a unit cannot be put in place after the first was: the first, and
    the folders the unit made, are removed again; a replaced file gets its inode back."""
    (tmp_path / "old.xml").write_bytes(b"old")
    inode = (tmp_path / "old.xml").stat().st_ino
    unit = Unit(
        edits=(
            FileEdit(Path("old.xml"), b"old", b"new"),
            FileEdit(Path("d/e/one.xml"), None, b"1"),
            FileEdit(Path("d/e/two.xml"), None, b"2"),
        )
    )
    real = os.link

    def failing(src: object, dst: object) -> None:
        if str(dst).endswith("two.xml"):
            raise OSError(30, "Read-only file system")
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "link", failing)
    result = apply_units([unit], tmp_path)
    assert result == WriteResult((Refusal(Path("d/e/two.xml"), "Read-only file system"),), ())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.xml"]
    assert (tmp_path / "old.xml").read_bytes() == b"old"
    assert (tmp_path / "old.xml").stat().st_ino == inode


def test_an_edited_file_keeps_its_extended_attributes(tmp_path: Path) -> None:
    target = tmp_path / "x.xml"
    target.write_bytes(b"old")
    target.chmod(0o604)
    try:
        os.setxattr(target, "user.sflint", b"1")
    except (OSError, AttributeError):
        pytest.skip("no user.* extended attributes on the temporary file system")
    assert apply_edits([FileEdit(Path("x.xml"), b"old", b"new")], tmp_path).ok
    assert os.getxattr(target, "user.sflint") == b"1"
    assert stat.S_IMODE(target.stat().st_mode) == 0o604


def test_a_fifo_swapped_in_after_planning_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.xml")
    result = apply_edits([FileEdit(Path("x.xml"), b"old", b"new")], tmp_path)
    assert result.refused == (Refusal(Path("x.xml"), "is a FIFO (named pipe)"),)
    assert stat.S_ISFIFO((tmp_path / "x.xml").lstat().st_mode)
