"""Object permissions in a persona's effective access: read in every layout, muted by a
group's muting set, shown by ``sflint access`` (tree and ``sflint/access/v1`` JSON), and
reported by SFL016 on an integration persona."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_check, run_cli

NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"'


def _obj(name: str, *flags: str, indent: str = "    ") -> str:
    fields = ("allowCreate", "allowDelete", "allowEdit", "allowRead", "modifyAllRecords")
    lines = [f"<{f}>{'true' if f in flags else 'false'}</{f}>" for f in fields]
    lines += [f"<object>{name}</object>"]
    lines += [
        f"<viewAllRecords>{'true' if 'viewAllRecords' in flags else 'false'}</viewAllRecords>"
    ]
    inner = "".join(f"{indent}    {line}\n" for line in lines)
    return f"{indent}<objectPermissions>\n{inner}{indent}</objectPermissions>\n"


def _project(root: Path) -> Path:
    """A group (member Sync, muting set Mute that mutes Modify All on Case), a beta1
    decomposed set Beta and a beta2 one Beta2, each with an object file."""
    ps = root / "force-app/main/default/permissionsets"
    files = {
        "sfdx-project.json": '{"packageDirectories": [{"path": "force-app"}]}',
        ".sflint.yml": (
            "personas:\n  - name: Sync app\n    permission_set_groups: [Base]\n"
            "    permission_sets: [Beta, Beta2]\n"
        ),
        f"{ps}/Sync.permissionset-meta.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<PermissionSet {NS}>\n'
            "    <label>Sync</label>\n"
            + _obj("Case", "allowRead", "allowEdit", "modifyAllRecords", "viewAllRecords")
            + _obj("Lead")
            + "</PermissionSet>\n"
        ),
        "force-app/main/default/permissionsetgroups/Base.permissionsetgroup-meta.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<PermissionSetGroup {NS}>\n'
            "    <label>Base</label>\n    <mutingPermissionSets>Mute</mutingPermissionSets>\n"
            "    <permissionSets>Sync</permissionSets>\n</PermissionSetGroup>\n"
        ),
        "force-app/main/default/mutingpermissionsets/Mute.mutingpermissionset-meta.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<MutingPermissionSet {NS}>\n'
            "    <label>Mute</label>\n"
            + _obj("Case", "modifyAllRecords")
            + "</MutingPermissionSet>\n"
        ),
        f"{ps}/Beta/Beta.permissionset-meta.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<PermissionSet {NS}>\n'
            "    <label>Beta</label>\n</PermissionSet>\n"
        ),
        f"{ps}/Beta/objectPermissions/Account.objectPermission-meta.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ObjectPermission {NS}>\n'
            "    <allowCreate>false</allowCreate>\n    <allowDelete>false</allowDelete>\n"
            "    <allowEdit>false</allowEdit>\n    <allowRead>true</allowRead>\n"
            "    <modifyAllRecords>false</modifyAllRecords>\n    <object>Account</object>\n"
            "    <viewAllRecords>true</viewAllRecords>\n</ObjectPermission>\n"
        ),
        f"{ps}/Beta2/Beta2.permissionset-meta.xml": (
            '<?xml version="1.0" encoding="UTF-8"?>\n<PermissionSet>\n'
            "    <label>Beta2</label>\n</PermissionSet>\n"
        ),
        f"{ps}/Beta2/objectSettings/Order.objectSettings-meta.xml": (
            '<?xml version="1.0" encoding="UTF-8"?>\n<PermissionSet>\n'
            + _obj("Order", "allowRead", "allowCreate")
            + "</PermissionSet>\n"
        ),
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


PS = "force-app/main/default/permissionsets"


def test_access_tree_shows_object_access_with_muting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "access", "--path", str(_project(tmp_path)), "--no-cache")
    assert (code, err) == (0, "")
    assert out == (
        "Sync app [integration] (declared in .sflint.yml:2)\n"
        f"  ├─ object Account: Read, View All  ← permission set Beta  ({PS}/Beta/objectPermissions"
        "/Account.objectPermission-meta.xml:2)\n"
        "  ├─ object Case: Read, Edit, View All  ← permission set group Base → permission set"
        f" Sync  ({PS}/Sync.permissionset-meta.xml:4)  [muted by Mute: Modify All]\n"
        f"  ├─ object Order: Read, Create  ← permission set Beta2  ({PS}/Beta2/objectSettings"
        "/Order.objectSettings-meta.xml:3)\n"
    )


def test_access_json_is_the_versioned_contract_with_provenance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sflint import __version__

    code, out, err = run_cli(
        capsys, "access", "--path", str(_project(tmp_path)), "--format", "json", "--no-cache"
    )
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["schema"] == "sflint/access/v1"
    assert doc["version"] == __version__
    (persona,) = doc["personas"]
    assert persona["object_permissions"][1] == {
        "object": "Case",
        "allowRead": True,
        "allowCreate": False,
        "allowEdit": True,
        "allowDelete": False,
        "viewAllRecords": True,
        "modifyAllRecords": False,
        "component": {"type": "PermissionSet", "name": "Sync"},
        "group": {"type": "PermissionSetGroup", "name": "Base"},
        "path": f"{PS}/Sync.permissionset-meta.xml",
        "line": 4,
        "muted": ["modifyAllRecords"],
        "muted_by": [{"type": "MutingPermissionSet", "name": "Mute"}],
    }
    assert [o["object"] for o in persona["object_permissions"]] == ["Account", "Case", "Order"]
    assert {k: v for k, v in persona.items() if k != "object_permissions"} == {
        "name": "Sync app",
        "kind": "integration",
        "declared_at": {"path": ".sflint.yml", "line": 2},
        "signal": None,
        "confidence": "high",
        "complete": True,
        "components": [
            {
                "type": "PermissionSet",
                "name": "Beta",
                "path": f"{PS}/Beta/Beta.permissionset-meta.xml",
            },
            {
                "type": "PermissionSet",
                "name": "Beta2",
                "path": f"{PS}/Beta2/Beta2.permissionset-meta.xml",
            },
            {
                "type": "PermissionSetGroup",
                "name": "Base",
                "path": "force-app/main/default/permissionsetgroups/Base.permissionsetgroup-meta.xml",
            },
            {
                "type": "MutingPermissionSet",
                "name": "Mute",
                "path": "force-app/main/default/mutingpermissionsets/Mute.mutingpermissionset-meta.xml",
            },
            {"type": "PermissionSet", "name": "Sync", "path": f"{PS}/Sync.permissionset-meta.xml"},
        ],
        "missing": [],
        "user_permissions": [],
    }


def test_object_view_all_and_modify_all_on_an_integration_persona(tmp_path: Path) -> None:
    findings = run_check(_project(tmp_path), select=("SFL016",)).findings
    assert [(f.rule, f.path, f.line, f.key, f.message) for f in findings] == [
        (
            "SFL016",
            f"{PS}/Beta/objectPermissions/Account.objectPermission-meta.xml",
            2,
            "*",
            'Integration persona "Sync app" holds View All or Modify All on 1 object through'
            " permission set Beta: Account (View All). View All reads and Modify All changes"
            " every record of its object regardless of sharing; an integration usually needs"
            " only the records it syncs.",
        ),
        (
            # Modify All is muted by the group's muting set; View All is not.
            "SFL016",
            f"{PS}/Sync.permissionset-meta.xml",
            4,
            "*",
            'Integration persona "Sync app" holds View All or Modify All on 1 object through'
            " permission set group Base → permission set Sync: Case (View All). View All reads"
            " and Modify All changes every record of its object regardless of sharing; an"
            " integration usually needs only the records it syncs.",
        ),
    ]
    assert [[(i.key, i.location.line, i.values) for i in f.items] for f in findings] == [
        [("Account", 2, (("object", "Account"), ("access", "View All")))],
        [("Case", 4, (("object", "Case"), ("access", "View All")))],
    ]


def test_object_flags_implied_by_view_all_data_are_not_findings_of_their_own(
    tmp_path: Path,
) -> None:
    # Sync (in the persona's group) enables View All Data: the View All on Account and Case
    # it implies is SFL008's finding; the Modify All on Order beyond it is still SFL016's.
    root = _project(tmp_path)
    sync = root / PS / "Sync.permissionset-meta.xml"
    text = sync.read_text()
    sync.write_text(
        text.replace(
            "</PermissionSet>",
            "    <userPermissions>\n        <enabled>true</enabled>\n"
            "        <name>ViewAllData</name>\n    </userPermissions>\n</PermissionSet>",
        )
    )
    order = root / PS / "Beta2/objectSettings/Order.objectSettings-meta.xml"
    order.write_text(order.read_text().replace("<modifyAllRecords>false", "<modifyAllRecords>true"))
    findings = run_check(root, select=("SFL016",)).findings
    assert [(f.rule, f.path, f.line, f.key) for f in findings] == [
        ("SFL016", f"{PS}/Beta2/objectSettings/Order.objectSettings-meta.xml", 3, "*"),
    ]
    assert "holds View All or Modify All on 1 object through" in findings[0].message
    assert ": Order (Modify All). View All reads" in findings[0].message


def test_a_set_with_only_modify_all_shows_it_not_an_empty_tree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ps = tmp_path / "permissionsets" / "Only.permissionset-meta.xml"
    ps.parent.mkdir(parents=True)
    ps.write_text(
        f"<PermissionSet {NS}>\n    <license>SalesforceAPIIntegrationPsl</license>\n"
        + _obj("Account", "allowRead", "viewAllRecords", "modifyAllRecords")
        + "</PermissionSet>\n",
        encoding="utf-8",
    )
    (tmp_path / ".sflint.yml").write_text("detect_integration: true\n", encoding="utf-8")
    code, out, _ = run_cli(capsys, "access", "--path", str(tmp_path), "--no-cache")
    assert code == 0
    assert out == (
        "permission set Only [integration] (detected: its license is SalesforceAPIIntegrationPsl"
        " (Salesforce API Integration))\n"
        "  ├─ object Account: Read, View All, Modify All  ← permission set Only"
        "  (permissionsets/Only.permissionset-meta.xml:3)\n"
    )
