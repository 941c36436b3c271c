"""Hostile pull requests against the reader: what a file says ambiguously is a finding of
its own at the element's line, and is read the way that keeps the headline rule firing
(docs/security.md, "Ambiguous grants")."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sflint.metadata.reader import parse_bytes
from sflint.model import ComponentType, ProblemKind
from tests.conftest import EXAMPLE, run_cli

NS = "http://soap.sforce.com/2006/04/metadata"
REAL = "force-app/main/default/permissionsets/Commission_App_API.permissionset-meta.xml"


def _grant(body: str, xmlns: str = f' xmlns="{NS}"') -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<PermissionSet{xmlns}>\n'
        f"    <label>X</label>\n    <userPermissions>\n{body}    </userPermissions>\n"
        "</PermissionSet>\n"
    ).encode()


def read(data: bytes) -> tuple[list[tuple[str, bool, int]], list[tuple[str, int]]]:
    parsed = parse_bytes(data, "x.xml", ComponentType.PERMISSION_SET)
    return (
        [(g.name, g.enabled, g.location.line) for g in parsed.grants],
        [(p.message, p.location.line) for p in parsed.problems],
    )


NAME = "        <name>TwoFactorApi</name>\n"


@pytest.mark.parametrize(
    ("value", "enabled"),
    [("True", True), ("TRUE", True), ("1", True), ("0", False), ("yes", False), ("", False)],
)
def test_enabled_that_is_not_exactly_true_or_false(value: str, enabled: bool) -> None:
    data = _grant(f"        <enabled>{value}</enabled>\n{NAME}")
    reading = "enabled" if enabled else "disabled"
    assert read(data) == (
        [("TwoFactorApi", enabled, 4)],
        [
            (
                f"<userPermissions> TwoFactorApi has <enabled>{value}</enabled>, which is"
                f" neither true nor false; sflint reads it as {reading}",
                4,
            )
        ],
    )


def test_exact_values_and_xml_whitespace_are_not_findings() -> None:
    assert read(_grant(f"        <enabled>\n true\t</enabled>\n{NAME}")) == (
        [("TwoFactorApi", True, 4)],
        [],
    )


def test_two_enabled_children_read_as_enabled_if_either_is() -> None:
    data = _grant(f"        <enabled>false</enabled>\n        <enabled>true</enabled>\n{NAME}")
    assert read(data) == (
        [("TwoFactorApi", True, 4)],
        [
            (
                "<userPermissions> TwoFactorApi has 2 <enabled> elements; sflint reads it as enabled",
                4,
            )
        ],
    )


def test_two_name_children_are_a_grant_of_each() -> None:
    data = _grant("        <enabled>true</enabled>\n        <name>ApiEnabled</name>\n" + NAME)
    assert read(data) == (
        [("ApiEnabled", True, 4), ("TwoFactorApi", True, 4)],
        [
            (
                "<userPermissions> has 2 <name> elements (ApiEnabled, TwoFactorApi); sflint"
                " reads it as a grant of each",
                4,
            )
        ],
    )


def test_missing_name_or_enabled() -> None:
    assert read(_grant("        <enabled>true</enabled>\n")) == (
        [],
        [("<userPermissions> has no <name>; sflint cannot tell what it grants", 4)],
    )
    assert read(_grant(NAME)) == (
        [("TwoFactorApi", False, 4)],
        [("<userPermissions> TwoFactorApi has no <enabled>; sflint reads it as disabled", 4)],
    )


def test_a_grant_outside_the_files_namespace_is_still_a_grant() -> None:
    data = _grant(f"        <enabled>true</enabled>\n{NAME}").replace(
        b"<userPermissions>", b'<userPermissions xmlns="">'
    )
    assert read(data) == (
        [("TwoFactorApi", True, 4)],
        [
            (
                f"<userPermissions> is not in the file's namespace ({NS}); sflint reads it as"
                " if it were",
                4,
            ),
        ],
    )


def test_a_field_outside_the_grants_namespace() -> None:
    data = _grant(
        '        <enabled>true</enabled>\n        <name xmlns="urn:x">TwoFactorApi</name>\n'
    )
    assert read(data) == (
        [("TwoFactorApi", True, 4)],
        [
            (
                "<userPermissions> TwoFactorApi: <name> is not in the file's namespace; sflint"
                " reads it as if it were",
                4,
            )
        ],
    )


@pytest.mark.parametrize(
    ("codec", "bom", "name"),
    [
        ("utf-16-le", b"\xff\xfe", "UTF-16"),
        ("utf-16-be", b"\xfe\xff", "UTF-16"),
        ("utf-16-be", b"", "UTF-16"),  # no mark: "<?" in two bytes says it (XML 1.0, F.1)
        ("utf-32-le", b"\xff\xfe\x00\x00", "UTF-32"),
    ],
    ids=["utf-16-le-bom", "utf-16-be-bom", "utf-16-be", "utf-32-bom"],
)
def test_a_wide_encoding_without_a_declaration_is_flagged(
    codec: str, bom: bytes, name: str
) -> None:
    text = _grant(f"        <enabled>true</enabled>\n{NAME}").decode()
    text = text.split("\n", 1)[1] if bom else text.replace(' encoding="UTF-8"', "")
    _, problems = read(bom + text.encode(codec))
    assert problems[0] == (f"encoding is {name}; Salesforce metadata must be UTF-8", 1)


def test_the_headline_still_fires_through_an_ambiguous_grant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    real = project / REAL
    real.write_text(
        real.read_text().replace(
            "<enabled>true</enabled>\n        <name>TwoFactorApi",
            "<enabled>True</enabled>\n        <name>TwoFactorApi",
        )
    )
    code, out, _ = run_cli(
        capsys, "check", str(project), "--no-cache", "--select", "SFL001,SFL010,SFL013"
    )
    assert code == 1
    assert [line.split(" [")[0] for line in out.splitlines()[:-1]] == [
        f"{REAL}:24: SFL001",
        f"{REAL}:24: SFL013",
        "integrations/main/default/permissionsets/Sales_Data_Access.permissionset-meta.xml:8: SFL001",
    ]


def test_memory_stays_bounded_on_a_file_of_tiny_elements(tmp_path: Path) -> None:
    """As a tree, 8 MB of ``<a/>`` took about 270 MB; read incrementally, little more than
    its own bytes (measured in a fresh process: ru_maxrss is a high-water mark). Linux keeps
    ru_maxrss across fork and exec, so a child of a large test process would report the
    parent's peak: its own is VmHWM in /proc/self/status, which exec resets."""
    import subprocess
    import sys

    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<PermissionSet xmlns="{NS}">\n'.encode()
    (tmp_path / "big.xml").write_bytes(head + b"<a/>" * 2_000_000 + b"</PermissionSet>\n")
    script = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from sflint.metadata.reader import parse_bytes\n"
        "from sflint.model import ComponentType\n"
        "parse_bytes(Path(sys.argv[1]).read_bytes(), 'big.xml', ComponentType.PERMISSION_SET)\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
        "kb = int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(kb // 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "big.xml")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert int(out) < 120, f"peak {out.strip()} MB"


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (f"        <enabled>True</enabled>\n{NAME}", ProblemKind.AMBIGUOUS),
        (f"        <enabled>0</enabled>\n{NAME}", ProblemKind.AMBIGUOUS),
        (f"        <enabled>yes</enabled>\n{NAME}", ProblemKind.INVALID),
        (
            f"        <enabled>true</enabled>\n{NAME}{NAME.replace('TwoFactorApi', 'X')}",
            ProblemKind.AMBIGUOUS,
        ),
        (
            f"        <enabled>true</enabled>\n        <enabled>false</enabled>\n{NAME}",
            ProblemKind.AMBIGUOUS,
        ),
        ("        <enabled>true</enabled>\n", ProblemKind.INVALID),
    ],
    ids=["True", "0", "yes", "two-names", "two-enabled", "no-name"],
)
def test_what_deploys_is_ambiguous_and_what_does_not_is_invalid(
    body: str, kind: ProblemKind
) -> None:
    # Ambiguous: Salesforce deploys it (it reads "True"), sflint had to choose a reading:
    # SFL013, a warning. Invalid: the deploy fails or nothing can be read: SFL010, an error.
    parsed = parse_bytes(_grant(body), "x.xml", ComponentType.PERMISSION_SET)
    assert [p.kind for p in parsed.problems] == [kind]
