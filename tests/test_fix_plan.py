"""Unit tests of the fix planner: which files a set of findings touches, and how.

Findings and components are built by hand (no rules, no reader), the files live in a
temporary project, and every assertion compares exact bytes, notes and byte edits.
"""

from __future__ import annotations

from pathlib import Path

from sflint.config import Config, PersonaConfig, Reference
from sflint.fix.plan import plan, proposed_fixes
from sflint.fix.values import ByteEdit, FileEdit, Patch, ProposedFix
from sflint.model import (
    CloneNaming,
    Component,
    ComponentType,
    Finding,
    FixOption,
    Grant,
    Location,
    Member,
    PersonaKind,
    Severity,
)

PS = "force-app/main/default/permissionsets/Sync.permissionset-meta.xml"
PROFILE = "force-app/main/default/profiles/Integration.profile-meta.xml"
GROUP = "force-app/main/default/permissionsetgroups/Base.permissionsetgroup-meta.xml"
CLONE = "force-app/main/default/permissionsets/Sync_No_Sync_MFA.permissionset-meta.xml"

EDIT = FixOption("edit-existing", "Uncheck it in Sync", ("Uncheck it.",), "disable-permission")
# Not SFL001's suffixes: the clone must be named by the rule's option, whatever it is.
NAMING = CloneNaming("_No_Sync_MFA", " (no sync MFA)")
CLONE_OPTION = FixOption(
    "clone-new", "Clone Sync", ("Clone it.",), "clone-without-permission", NAMING
)
MANUAL = FixOption("ask", "Ask an admin", ("Ask.",))


def _block(name: str, enabled: str = "true") -> str:
    return (
        "    <userPermissions>\n"
        f"        <enabled>{enabled}</enabled>\n"
        f"        <name>{name}</name>\n"
        "    </userPermissions>\n"
    )


def _set(label: str, *blocks: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        f"    <label>{label}</label>\n" + "".join(blocks) + "</PermissionSet>\n"
    ).encode()


SYNC = _set("Sync", _block("ApiEnabled"), _block("TwoFactorApi"), _block("ViewSetup"))


def _finding(
    key: str,
    line: int,
    *,
    path: str = PS,
    component: str = "Sync",
    component_type: ComponentType | None = ComponentType.PERMISSION_SET,
    fixes: tuple[FixOption, ...] = (EDIT, CLONE_OPTION),
    related: tuple[str, ...] = (),
) -> Finding:
    return Finding(
        rule="ACME001",
        name="no-such-permission",
        severity=Severity.ERROR,
        path=path,
        line=line,
        message=f"{key} is enabled",
        component_type=component_type,
        component_name=component,
        key=key,
        persona="Sync user",
        fixes=fixes,
        related_paths=related,
    )


def _sync(path: str = PS, name: str = "Sync", grants: tuple[str, ...] = ()) -> Component:
    return Component(
        ComponentType.PERMISSION_SET,
        name,
        (path,),
        label=name,
        grants=tuple(Grant(g, True, Location(path, 4)) for g in grants),
        anchor=Location(path, 2),
    )


def _write(root: Path, rel: str, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------------------------
# Option 1: edit


def test_a_permission_granted_many_times_gives_each_finding_its_own_element(
    tmp_path: Path,
) -> None:
    """One finding per granting element, each with the edit of its own element: N grants of
    one permission cost N edits, not N x N (2,000 took minutes and 4,000 about 2 GB)."""
    n = 300
    data = _set("Sync", *[_block("TwoFactorApi")] * n)
    _write(tmp_path, PS, data)
    findings = tuple(_finding("TwoFactorApi", 4 + 4 * i) for i in range(n))
    found = proposed_fixes(findings, (_sync(),), tmp_path)
    start = data.index(b"    <userPermissions>")
    assert found == {
        (PS, f.line, f.fingerprint): (
            ProposedFix("Uncheck it in Sync", (ByteEdit(PS, start + 111 * i, 111, b""),)),
        )
        for i, f in enumerate(findings)
    }
    assert plan(findings, (_sync(),), tmp_path, "edit").edits[0].after == _set("Sync")


def test_edit_disables_several_permissions_of_one_file_in_one_edit(tmp_path: Path) -> None:
    _write(tmp_path, PS, SYNC)
    two_factor = _finding("TwoFactorApi", 8)
    twice = _finding("TwoFactorApi", 8, fixes=(EDIT,))  # another rule on the same grant
    view_setup = _finding("ViewSetup", 12)
    absent = _finding("ModifyAllData", 2)  # nothing enabled: not fixed, no error
    manual = _finding("ApiEnabled", 4, fixes=(MANUAL,))  # no machine fix: left alone
    findings = (two_factor, twice, view_setup, absent, manual)

    result = plan(findings, (_sync(),), tmp_path, "edit")

    assert result.edits == (FileEdit(tmp_path / PS, SYNC, _set("Sync", _block("ApiEnabled"))),)
    assert result.fixed == (two_factor, twice, view_setup)
    assert (result.notes, result.errors) == ((), ())
    # Each finding's own share: its element's lines, in offsets of the original file.
    at_two_factor = SYNC.index(_block("TwoFactorApi").encode())
    at_view_setup = SYNC.index(_block("ViewSetup").encode())
    own = {
        "TwoFactorApi": (ByteEdit(PS, at_two_factor, 111, b""),),
        "ViewSetup": (ByteEdit(PS, at_view_setup, 108, b""),),
    }
    assert result.changes == (
        (two_factor, own["TwoFactorApi"]),
        (twice, own["TwoFactorApi"]),
        (view_setup, own["ViewSetup"]),
    )
    # The shares applied together are exactly the bytes --fix writes.
    patched = SYNC
    for edit in sorted({e for _, edits in result.changes for e in edits}, key=lambda e: -e.offset):
        assert isinstance(edit.text, bytes)
        patched = patched[: edit.offset] + edit.text + patched[edit.offset + edit.length :]
    assert patched == result.edits[0].after
    assert proposed_fixes(findings, (_sync(),), tmp_path) == {
        (PS, two_factor.line, two_factor.fingerprint): (
            ProposedFix("Uncheck it in Sync", own["TwoFactorApi"]),
        ),
        (PS, view_setup.line, view_setup.fingerprint): (
            ProposedFix("Uncheck it in Sync", own["ViewSetup"]),
        ),
    }


def test_edit_sets_a_profile_permission_false(tmp_path: Path) -> None:
    before = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<Profile xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        + _block("TwoFactorApi").encode()
        + _block("ViewSetup").encode()
        + b"</Profile>\n"
    )
    _write(tmp_path, PROFILE, before)
    finding = _finding(
        "TwoFactorApi",
        3,
        path=PROFILE,
        component="Integration",
        component_type=ComponentType.PROFILE,
    )
    profile = Component(ComponentType.PROFILE, "Integration", (PROFILE,))

    result = plan((finding,), (profile,), tmp_path, "edit")

    after = before.replace(b"<enabled>true</enabled>", b"<enabled>false</enabled>", 1)
    assert result.edits == (FileEdit(tmp_path / PROFILE, before, after),)
    assert result.fixed == (finding,)
    offset = before.index(b"true")
    assert result.changes == ((finding, (ByteEdit(PROFILE, offset, 4, b"false"),)),)


def test_a_file_that_cannot_be_fixed_is_an_error_and_the_others_still_fix(
    tmp_path: Path,
) -> None:
    bad = "force-app/main/default/permissionsets/Bad.permissionset-meta.xml"
    _write(tmp_path, bad, b'<!DOCTYPE x [<!ENTITY e "TwoFactorApi">]>\n' + SYNC[39:])
    _write(tmp_path, PS, SYNC)
    broken = _finding("TwoFactorApi", 9, path=bad, component="Bad")
    good = _finding("TwoFactorApi", 8)

    result = plan((broken, good), (_sync(bad, "Bad"), _sync()), tmp_path, "edit")

    assert result.errors == (
        f"{bad}: not fixed: refusing to edit a file with a DOCTYPE declaration",
    )
    assert result.edits == (
        FileEdit(tmp_path / PS, SYNC, _set("Sync", _block("ApiEnabled"), _block("ViewSetup"))),
    )
    assert result.fixed == (good,)
    assert [f for f, _ in result.changes] == [good]


def test_a_finding_about_a_persona_is_not_fixed_by_either_strategy(tmp_path: Path) -> None:
    # A rule about a persona as a whole names no component whose file could be edited.
    persona = _finding(
        "TwoFactorApi", 3, path=".sflint.yml", component="Sync user", component_type=None
    )
    edit = plan((persona,), (), tmp_path, "edit")
    clone = plan((persona,), (), tmp_path, "clone")
    assert edit.errors == (
        ".sflint.yml: not fixed: the finding is about a persona, not a component",
    )
    assert clone.errors == (
        ".sflint.yml: not cloned: the finding is about a persona, not a component",
    )
    assert (edit.edits, edit.fixed, clone.edits, clone.fixed) == ((), (), (), ())


# --------------------------------------------------------------------------------------------
# Option 2: clone


CONFIG_TEXT = (
    b"personas:\n"
    b"  - name: Sync user\n"
    b"    kind: integration\n"
    b"    profile: Integration\n"
    b"    permission_sets: [Sync]\n"
)
GROUP_TEXT = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<PermissionSetGroup xmlns="http://soap.sforce.com/2006/04/metadata">\n'
    b"    <permissionSets>Sync</permissionSets>\n"
    b"    <label>Base</label>\n"
    b"</PermissionSetGroup>\n"
)


def _project(root: Path) -> tuple[Config, tuple[Component, ...]]:
    _write(root, PS, SYNC)
    _write(root, ".sflint.yml", CONFIG_TEXT)
    _write(root, GROUP, GROUP_TEXT)
    persona = PersonaConfig(
        "Sync user",
        PersonaKind.INTEGRATION,
        (Reference(ComponentType.PERMISSION_SET, "Sync", Location(".sflint.yml", 5)),),
        Location(".sflint.yml", 2),
    )
    group = Component(
        ComponentType.PERMISSION_SET_GROUP,
        "Base",
        (GROUP,),
        members=(Member("Sync", Location(GROUP, 3)),),
    )
    sync = _sync(grants=("ApiEnabled", "TwoFactorApi", "ViewSetup"))
    return Config(personas=(persona,)), (sync, group)


def test_clone_is_named_by_the_rule_and_the_persona_and_group_are_renamed(
    tmp_path: Path,
) -> None:
    config, components = _project(tmp_path)
    two_factor = _finding("TwoFactorApi", 8, related=(GROUP, ".sflint.yml"))
    view_setup = _finding("ViewSetup", 12, related=(GROUP, ".sflint.yml"))

    result = plan((two_factor, view_setup), components, tmp_path, "clone", config)

    assert result.edits == (
        FileEdit(tmp_path / CLONE, None, _set("Sync (no sync MFA)", _block("ApiEnabled"))),
        FileEdit(
            tmp_path / ".sflint.yml",
            CONFIG_TEXT,
            CONFIG_TEXT.replace(b"[Sync]", b"[Sync_No_Sync_MFA]"),
        ),
        FileEdit(
            tmp_path / GROUP,
            GROUP_TEXT,
            GROUP_TEXT.replace(b">Sync<", b">Sync_No_Sync_MFA<"),
        ),
    )
    assert result.notes == (
        "Created permission set Sync_No_Sync_MFA (label 'Sync (no sync MFA)'), a copy of Sync "
        "without TwoFactorApi, ViewSetup. Next: in the org, give the integration user "
        "(Sync user) Sync_No_Sync_MFA wherever it now gets Sync (its assignments, or the "
        "permission set group that includes it), and deploy.",
        ".sflint.yml:5: persona 'Sync user' now names Sync_No_Sync_MFA instead of Sync.",
        f"{GROUP}:3: permission set group Base now names Sync_No_Sync_MFA instead of Sync.",
    )
    assert result.fixed == (two_factor, view_setup)
    assert (result.errors, result.changes) == ((), ())


def test_an_earlier_clone_is_reused(tmp_path: Path) -> None:
    config, components = _project(tmp_path)
    _write(tmp_path, CLONE, _set("Sync (no sync MFA)", _block("ApiEnabled")))
    earlier = _sync(CLONE, "Sync_No_Sync_MFA", grants=("ApiEnabled",))
    finding = _finding("TwoFactorApi", 8)

    result = plan((finding,), (*components, earlier), tmp_path, "clone", config)

    # No second clone; the persona still names the original, so it is pointed at the clone.
    assert result.edits == (
        FileEdit(
            tmp_path / ".sflint.yml",
            CONFIG_TEXT,
            CONFIG_TEXT.replace(b"[Sync]", b"[Sync_No_Sync_MFA]"),
        ),
    )
    assert result.notes == (
        "Sync_No_Sync_MFA already is a copy of Sync without TwoFactorApi: give it to the "
        "integration user in place of Sync.",
        ".sflint.yml:5: persona 'Sync user' now names Sync_No_Sync_MFA instead of Sync.",
    )
    assert (result.fixed, result.errors) == ((), ())


def test_clone_errors_are_per_component_and_profiles_are_explained(tmp_path: Path) -> None:
    _, components = _project(tmp_path)
    other = "force-app/main/default/permissionsets/Other.permissionset-meta.xml"
    _write(tmp_path, other, _set("Other", _block("TwoFactorApi")))
    unnamed = FixOption("clone-new", "Clone", ("Clone it.",), "clone-without-permission")
    no_naming = _finding("TwoFactorApi", 5, path=other, component="Other", fixes=(unnamed,))
    profile = _finding(
        "TwoFactorApi",
        3,
        path=PROFILE,
        component="Integration",
        component_type=ComponentType.PROFILE,
        fixes=(EDIT,),  # a rule offers no clone of a profile: a user has only one
    )
    sync = _finding("TwoFactorApi", 8)

    result = plan(
        (no_naming, profile, sync), (*components, _sync(other, "Other")), tmp_path, "clone"
    )

    assert result.errors == (f"{other}: not cloned: the rule's clone option names no clone suffix",)
    assert result.edits == (
        FileEdit(
            tmp_path / CLONE,
            None,
            _set("Sync (no sync MFA)", _block("ApiEnabled"), _block("ViewSetup")),
        ),
    )
    assert result.fixed == (sync,)
    assert result.notes == (
        f"{PROFILE}:3: not cloned: TwoFactorApi is granted by profile Integration. A user has "
        "exactly one profile and a permission set cannot take a permission away, so cloning a "
        "set does not help; run --fix-strategy edit to set it false in the profile, or clone "
        "the profile in Setup and give it to the integration user.",
        "Created permission set Sync_No_Sync_MFA (label 'Sync (no sync MFA)'), a copy of Sync "
        "without TwoFactorApi. Next: in the org, give the integration user (Sync user) "
        "Sync_No_Sync_MFA wherever it now gets Sync (its assignments, or the permission set "
        "group that includes it), and deploy.",
    )


def test_two_clones_named_on_one_line_are_two_units_with_their_own_replacements(
    tmp_path: Path,
) -> None:
    other = "force-app/main/default/permissionsets/Other.permissionset-meta.xml"
    other_clone = "force-app/main/default/permissionsets/Other_No_Sync_MFA.permissionset-meta.xml"
    config_text = CONFIG_TEXT.replace(b"[Sync]", b"[Sync, Other]")
    _write(tmp_path, PS, SYNC)
    _write(tmp_path, other, _set("Other", _block("TwoFactorApi")))
    _write(tmp_path, ".sflint.yml", config_text)
    where = Location(".sflint.yml", 5)
    persona = PersonaConfig(
        "Sync user",
        PersonaKind.INTEGRATION,
        (
            Reference(ComponentType.PERMISSION_SET, "Sync", where),
            Reference(ComponentType.PERMISSION_SET, "Other", where),
        ),
        Location(".sflint.yml", 2),
    )
    components = (_sync(grants=("TwoFactorApi",)), _sync(other, "Other", ("TwoFactorApi",)))
    findings = (
        _finding("TwoFactorApi", 4, path=other, component="Other"),
        _finding("TwoFactorApi", 8),
    )

    result = plan(findings, components, tmp_path, "clone", Config(personas=(persona,)))

    at = config_text.index(b"Sync, Other")
    assert [u.patches for u in result.units] == [
        (Patch(tmp_path / ".sflint.yml", config_text, ((at + 6, 5, b"Other_No_Sync_MFA"),)),),
        (Patch(tmp_path / ".sflint.yml", config_text, ((at, 4, b"Sync_No_Sync_MFA"),)),),
    ]
    assert [u.subject for u in result.units] == [other, PS]
    assert [u.would for u in result.units] == [
        (
            "Would create permission set Other_No_Sync_MFA (label 'Other (no sync MFA)'), a copy"
            " of Other without TwoFactorApi (--fix writes it).",
            ".sflint.yml:5: persona 'Sync user' would name Other_No_Sync_MFA instead of Other.",
        ),
        (
            "Would create permission set Sync_No_Sync_MFA (label 'Sync (no sync MFA)'), a copy"
            " of Sync without TwoFactorApi (--fix writes it).",
            ".sflint.yml:5: persona 'Sync user' would name Sync_No_Sync_MFA instead of Sync.",
        ),
    ]
    assert result.edits == (
        FileEdit(tmp_path / other_clone, None, _set("Other (no sync MFA)")),
        FileEdit(
            tmp_path / CLONE,
            None,
            _set("Sync (no sync MFA)", _block("ApiEnabled"), _block("ViewSetup")),
        ),
        FileEdit(
            tmp_path / ".sflint.yml",
            config_text,
            config_text.replace(b"[Sync, Other]", b"[Sync_No_Sync_MFA, Other_No_Sync_MFA]"),
        ),
    )


def test_a_clone_folder_holding_a_link_is_refused_and_nothing_is_planned(
    tmp_path: Path,
) -> None:
    folder = "force-app/main/default/permissionsets/Sync"
    main = f"{folder}/Sync.permissionset-meta.xml"
    grants = f"{folder}/Sync.userPermission-meta.xml"
    _write(tmp_path, main, _set("Sync"))
    _write(
        tmp_path,
        grants,
        b"<PermissionSet>\n" + _block("TwoFactorApi").encode() + b"</PermissionSet>\n",
    )
    (tmp_path.parent / "token.txt").write_text("secret")
    (tmp_path / folder / "token.txt").symlink_to(tmp_path.parent / "token.txt")
    sync = Component(
        ComponentType.PERMISSION_SET,
        "Sync",
        (main, grants),
        label="Sync",
        grants=(Grant("TwoFactorApi", True, Location(grants, 2)),),
        anchor=Location(main, 2),
    )
    result = plan((_finding("TwoFactorApi", 2, path=grants),), (sync,), tmp_path, "clone")
    assert result.errors == (
        f"{main}: not cloned: {folder}/token.txt is a symbolic link to a file outside the project",
    )
    assert (result.units, result.edits, result.fixed) == ((), (), ())
