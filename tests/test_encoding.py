"""Any terminal encoding works: on an ASCII or cp1252 standard output (a redirected Windows
console, ``PYTHONIOENCODING=ascii``), sflint writes ASCII spellings instead of crashing on the
``→`` of a chain. Each case runs ``python -m sflint`` in a fresh interpreter, since the
encoding of the standard streams is fixed when Python starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sflint.streams import ascii_fallback
from tests.conftest import EXAMPLE, ROOT

CHAIN = "through permission set group Integration_Base -> permission set Sales_Data_Access"


def _sflint(encoding: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, PYTHONIOENCODING=encoding, NO_COLOR="1")
    env.pop("SFLINT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "sflint", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
@pytest.mark.parametrize("fmt", ["console", "full", "markdown", "github"])
def test_check_on_a_narrow_terminal(encoding: str, fmt: str) -> None:
    result = _sflint(encoding, "check", str(EXAMPLE), "--format", fmt, "--no-cache")
    assert (result.returncode, result.stderr) == (1, b"")
    out = result.stdout.decode(encoding)  # strict: every byte is valid in the encoding
    assert CHAIN.replace("_", "\\_" if fmt == "markdown" else "_") in out
    assert "→" not in out


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_access_tree_on_a_narrow_terminal(encoding: str) -> None:
    result = _sflint(encoding, "access", "--path", str(EXAMPLE), "--no-cache")
    assert (result.returncode, result.stderr) == (0, b"")
    lines = result.stdout.decode(encoding).splitlines()
    assert lines[0] == "Commission app connection [integration] (declared in .sflint.yml:3)"
    assert lines[1] == (
        f"  |- ApiEnabled  <- {CHAIN.removeprefix('through ')}  "
        "(integrations/main/default/permissionsets/Sales_Data_Access.permissionset-meta.xml:4)"
    )


def test_json_on_an_ascii_terminal_stays_valid_json() -> None:
    result = _sflint("ascii", "check", str(EXAMPLE), "--format", "json", "--no-cache")
    assert result.returncode == 1
    doc = json.loads(result.stdout.decode("ascii"))
    messages = [f["message"] for f in doc["findings"] if f["rule"] == "SFL001"]
    assert any(CHAIN in m for m in messages), messages


def test_report_files_stay_utf8(tmp_path: Path) -> None:
    report, sarif = tmp_path / "report.txt", tmp_path / "report.sarif"
    result = _sflint(
        "ascii",
        "check",
        str(EXAMPLE),
        "--no-cache",
        "--output",
        str(report),
        "--sarif-file",
        str(sarif),
    )
    assert (result.returncode, result.stdout, result.stderr) == (1, b"", b"")
    assert CHAIN.replace("->", "→") in report.read_text(encoding="utf-8")
    assert CHAIN.replace("->", "→") in sarif.read_text(encoding="utf-8")


def _non_utf8_project(tmp_path: Path) -> Path:
    """A project with a file whose name is not UTF-8: its bytes reach sflint as lone
    surrogates (PEP 383), which no encoding writes."""
    project = tmp_path / "p"
    project.mkdir()
    (project / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "app"}]}')
    sets = project / "app" / "permissionsets"
    sets.mkdir(parents=True)
    name = os.fsdecode(os.fsencode(sets) + b"/Bad\xff.permissionset-meta.xml")
    Path(name).write_bytes(b"<PermissionSet><userPermissions><enabled>true</enabled>")
    return project


BAD_SHOWN = "app/permissionsets/Bad\\udcff.permissionset-meta.xml:1: SFL010 [error] "


def test_a_file_name_that_is_not_utf8_does_not_crash_the_console(tmp_path: Path) -> None:
    result = _sflint("utf-8", "check", str(_non_utf8_project(tmp_path)), "--no-cache")
    assert (result.returncode, result.stderr) == (1, b"")
    assert result.stdout.decode("utf-8").startswith(BAD_SHOWN)


def test_a_file_name_that_is_not_utf8_is_written_to_a_report_file(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    project = _non_utf8_project(tmp_path)
    result = _sflint("utf-8", "check", str(project), "--no-cache", "-o", str(report))
    assert (result.returncode, result.stderr) == (1, b"")
    assert report.read_text(encoding="utf-8").startswith(BAD_SHOWN)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("  ├─ A  ← B → C", "  |- A  <- B -> C"),
        ("  └─ ? X", "  `- ? X"),
        ("cut…", "cut..."),
        ("✅ No findings.", "[ok] No findings."),
        ("a · b", "a - b"),
        ("‘q’ “qq” – —", "'q' \"qq\" - -"),
        ("é", "\\u00e9"),
        ("😀", "\\ud83d\\ude00"),
        ("\udcff", "\\udcff"),
    ],
)
def test_ascii_fallback(text: str, shown: str) -> None:
    assert text.encode("ascii", errors="sflint-ascii") == shown.encode("ascii")


def test_ascii_fallback_leaves_what_cp1252_can_encode() -> None:
    assert "é … → ✅".encode("cp1252", errors="sflint-ascii") == "é … -> [ok]".encode("cp1252")


def test_ascii_fallback_is_only_for_encoding() -> None:
    with pytest.raises(UnicodeDecodeError):
        ascii_fallback(UnicodeDecodeError("ascii", b"\xff", 0, 1, "bad"))


@pytest.fixture(autouse=True)
def _registered() -> None:
    """The handler is registered while ``main`` runs; the unit tests above name it directly."""
    import codecs

    codecs.register_error("sflint-ascii", ascii_fallback)


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_a_file_name_that_is_not_utf8_in_json_and_sarif(tmp_path: Path, fmt: str) -> None:
    import json

    result = _sflint(
        "utf-8", "check", str(_non_utf8_project(tmp_path)), "--no-cache", "--format", fmt
    )
    assert (result.returncode, result.stderr) == (1, b"")
    doc = json.loads(result.stdout)
    if fmt == "json":
        assert [f["path"] for f in doc["findings"]] == [
            "app/permissionsets/Bad\udcff.permissionset-meta.xml"
        ]
    else:
        (res,) = doc["runs"][0]["results"]
        uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        # The file's own bytes, percent-encoded (RFC 3986), so code scanning finds the file.
        assert uri == "app/permissionsets/Bad%FF.permissionset-meta.xml"
