"""Names from a hostile pull request reach no terminal, CI log or PR comment as live text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sflint.cli import main
from sflint.output.markdown import escape
from sflint.sanitize import inert, line_start

# A file name that, printed raw, would end the line and start a GitHub workflow command, and
# one that would drive the terminal (OSC 8 hyperlink, colour) and reorder text (RLO).
INJECT = "x\n::error file=README.md,line=1::pwned"
ESCAPES = "y\x1b]8;;https:evil.example\x07\x1b[31mred\u202eoops"
TWO_FACTOR = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">\n'
    "    <userPermissions>\n"
    "        <enabled>true</enabled>\n"
    "        <name>TwoFactorApi</name>\n"
    "    </userPermissions>\n"
    "</PermissionSet>\n"
)
# Any control character, or a bidi override, in printed output.
_LIVE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    (tmp_path / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "force-app"}]}')
    folder = tmp_path / "force-app" / "permissionsets"
    folder.mkdir(parents=True)
    for name in (INJECT, ESCAPES, "::warning::at-line-start"):
        (folder / f"{name}.permissionset-meta.xml").write_text(TWO_FACTOR)
    return tmp_path


@pytest.mark.parametrize("fmt", ["console", "full", "github", "markdown"])
def test_no_live_control_characters_or_commands(
    hostile: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", str(hostile), "--format", fmt, "--no-cache"])
    out, err = capsys.readouterr()
    assert code == 0, err  # SFL002 notes and SFL005 warnings only
    assert "pwned" in out  # the findings are there, shown inert
    assert _LIVE.search(out) is None
    lines = out.splitlines()
    commands = [line for line in lines if line.lstrip().startswith("::")]
    if fmt == "github":
        # Exactly one annotation per finding (SFL002 and SFL005 on each file), each naming its
        # own (escaped) file.
        assert len(commands) == len(lines) == 6
        files = [re.match(r"::\w+ file=([^,]*),", line) for line in commands]
        assert all(m and m.group(1).startswith("force-app/permissionsets/") for m in files)
    else:
        assert commands == []


def test_console_line_shows_the_name_escaped(
    hostile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["check", str(hostile), "--no-cache"])
    out = capsys.readouterr().out
    assert (
        "force-app/permissionsets/x\\n::error file=README.md,line=1::pwned"
        ".permissionset-meta.xml:3: SFL002 [note]"
    ) in out


def test_inert() -> None:
    assert inert("plain name") == "plain name"
    assert inert("a\tb\r\nc\x1b[0m\x7f\x85\u202e\u2066") == (
        "a\\tb\\r\\nc\\x1b[0m\\x7f\\x85\\u202e\\u2066"
    )
    assert line_start("::error::x") == "./::error::x"
    assert line_start("  ::x") == "./  ::x"
    assert line_start("force-app/a::b") == "force-app/a::b"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ask @octocat", "ask @&#8203;octocat"),
        ("team @org/admins", "team @&#8203;org/admins"),
        ("see #123 and GH-7", "see #&#8203;123 and GH-&#8203;7"),
        ("go to www.example.com", "go to www&#8203;.example.com"),
        ("https://evil.example/x", "https&#8203;://evil.example/x"),
        ("a@b.example", "a@&#8203;b.example"),
        ("#1 leading", "\\#&#8203;1 leading"),
        ("tag#name stays", "tag#name stays"),
    ],
)
def test_markdown_neutralises_mentions_references_and_autolinks(text: str, expected: str) -> None:
    assert escape(text) == expected


def test_rule_text_from_a_rule_folder_is_shown_inert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ACME001-x.yaml").write_text(
        'id: ACME001\nname: x\nsummary: "s\\e[2J\\u202e"\nseverity: note\nscope: file\n'
        "match: {user_permission: {name: ModifyAllData}}\nmessage: m\n"
        'docs: {why: "w\\e]8;;evil\\a", how_to_fix: h}\n'
    )
    for args in (["rules"], ["rules", "--format", "markdown"], ["explain", "ACME001"]):
        assert main([*args, "--rules", str(rules)]) == 0
        out = capsys.readouterr().out
        assert _LIVE.search(out) is None, args
        assert "s\\x1b[2J\\u202e" in out, args
