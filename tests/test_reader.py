"""The reader: safe parsing and exact lines on what real files contain."""

from __future__ import annotations

import pytest

from sflint.kinds import Role
from sflint.metadata.reader import parse_bytes
from sflint.model import ComponentType, Grant, Location

NS = b'xmlns="http://soap.sforce.com/2006/04/metadata"'


def grants(
    data: bytes, kind: ComponentType = ComponentType.PERMISSION_SET
) -> list[tuple[str, bool, int]]:
    parsed = parse_bytes(data, "f.xml", kind)
    assert parsed.problems == ()
    return [(g.name, g.enabled, g.location.line) for g in parsed.grants]


def test_bom_crlf_comment_charref_cdata_and_split_tags() -> None:
    data = (
        b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>\r\n<PermissionSet ' + NS + b">\r\n"
        b"<!-- <userPermissions><enabled>true</enabled><name>Hidden</name></userPermissions> -->\r\n"
        b"<userPermissions\r\n    ><enabled>true</enabled><name>TwoFactor&#65;pi</name></userPermissions>"
        b"<userPermissions><enabled>true</enabled><name><![CDATA[ApiEnabled]]></name></userPermissions>\r\n"
        b"<userPermissions><enabled>false</enabled><name>ForceTwoFactor</name></userPermissions>\r\n"
        b"</PermissionSet>"
    )
    assert grants(data) == [
        ("TwoFactorApi", True, 4),
        ("ApiEnabled", True, 5),
        ("ForceTwoFactor", False, 6),
    ]


def test_namespace_free_root_and_members() -> None:
    data = (
        b"<PermissionSetGroup>\n  <label>G</label>\n  <mutingPermissionSets>M</mutingPermissionSets>\n"
        b"  <permissionSets>A</permissionSets>\n  <permissionSets>force__B</permissionSets>\n"
        b"</PermissionSetGroup>\n"
    )
    parsed = parse_bytes(data, "g.xml", ComponentType.PERMISSION_SET_GROUP)
    assert [(m.name, m.location.line) for m in parsed.members] == [("A", 4), ("force__B", 5)]
    assert [(m.name, m.location.line) for m in parsed.muting_members] == [("M", 3)]
    assert parsed.label == "G"


def test_decomposed_beta1_child_is_one_grant() -> None:
    data = (
        b'<?xml version="1.0"?>\n<UserPermission '
        + NS
        + b">\n<enabled>true</enabled>\n<name>X</name>\n</UserPermission>\n"
    )
    parsed = parse_bytes(data, "x.xml", ComponentType.PERMISSION_SET, Role.USER_PERMISSIONS)
    assert parsed.grants == (Grant("X", True, Location("x.xml", 2)),)


def test_entities_are_never_expanded() -> None:
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>\n'
        b"<PermissionSet><label>&b;</label></PermissionSet>"
    )
    parsed = parse_bytes(data, "f.xml", ComponentType.PERMISSION_SET)
    assert [(p.message, p.location.line) for p in parsed.problems] == [
        ("a DOCTYPE is not allowed in metadata files", 2)
    ]
    assert parsed.label is None


def test_external_entity_is_refused_without_network() -> None:
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE p SYSTEM "http://127.0.0.1:9/x.dtd">\n<PermissionSet/>'
    )
    parsed = parse_bytes(data, "f.xml", ComponentType.PERMISSION_SET)
    assert [p.location.line for p in parsed.problems] == [2]


def test_malformed_reports_parser_line() -> None:
    parsed = parse_bytes(
        b"<PermissionSet>\n<label>x</lab>\n</PermissionSet>", "f.xml", ComponentType.PERMISSION_SET
    )
    (problem,) = parsed.problems
    assert problem.location.line == 2
    assert problem.message.startswith("not well-formed XML: ")


def test_declared_non_utf8_encoding_is_a_problem() -> None:
    data = '<?xml version="1.0" encoding="ISO-8859-1"?>\n<Profile><description>café</description></Profile>'
    parsed = parse_bytes(data.encode("latin-1"), "f.xml", ComponentType.PROFILE)
    assert [p.message for p in parsed.problems] == [
        "encoding is ISO-8859-1; Salesforce metadata must be UTF-8"
    ]


def test_unexpected_root() -> None:
    parsed = parse_bytes(
        b"<?xml version='1.0'?>\n\n<Profile/>", "f.xml", ComponentType.PERMISSION_SET
    )
    assert [(p.message, p.location.line) for p in parsed.problems] == [
        ("unexpected root element <Profile>; expected <PermissionSet>", 3)
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not well-formed XML: "),
        (b"\x00\x01\x02binary", "not well-formed XML: "),
        (
            b"<PermissionSet>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</PermissionSet>",
            "not well-formed XML: ",
        ),
        (
            "<?xml version='1.0' encoding='UTF-16'?><PermissionSet/>".encode("utf-16"),
            "encoding is UTF-16; ",
        ),
    ],
    ids=["empty", "binary", "deeply-nested", "utf-16"],
)
def test_hostile_or_foreign_input_is_a_problem_not_a_crash(data: bytes, message: str) -> None:
    (problem, *_) = parse_bytes(data, "f.xml", ComponentType.PERMISSION_SET).problems
    assert problem.message.startswith(message)


def test_foreign_namespace_is_a_problem() -> None:
    parsed = parse_bytes(
        b'<PermissionSet xmlns="urn:other"/>', "f.xml", ComponentType.PERMISSION_SET
    )
    assert [p.message for p in parsed.problems] == [
        "namespace urn:other is not the Metadata API namespace http://soap.sforce.com/2006/04/metadata"
    ]


def test_names_keep_no_break_spaces() -> None:
    data = "<PermissionSet><userPermissions><enabled>true</enabled><name> TwoFactorApi\u00a0</name></userPermissions></PermissionSet>"
    assert grants(data.encode()) == [("TwoFactorApi\u00a0", True, 1)]
