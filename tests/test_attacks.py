"""A hostile pull request against sflint: each test is one attack, and what must hold.

What every attack must leave true: no traceback, exit 0, 1 or 2, nothing written outside the
project, no secret text in any output. The secret here is a file outside the project that
the runner can read (standing in for ``/proc/self/environ`` or a token file).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from sflint.cli import main
from tests.conftest import EXAMPLE

SECRET = "ghp_SECRETTOKEN0123456789"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the example project, with a secret file beside it (outside the project)."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    (tmp_path / "secret.txt").write_text(f"TOKEN={SECRET}\n")
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "--no-cache"])
    out, err = capsys.readouterr()
    return code, out, err


def _replace_with_link(path: Path, target: Path) -> None:
    path.unlink(missing_ok=True)
    path.symlink_to(target)


def test_config_linked_to_a_secret_is_refused_without_echo(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _replace_with_link(project / ".sflint.yml", project.parent / "secret.txt")
    code, out, err = run(capsys, "check", str(project))
    assert code == 2
    assert err == (
        "sflint: error: .sflint.yml: not read: it is a symbolic link to a file outside the"
        " project\n"
    )
    assert SECRET not in out + err


def test_config_that_is_a_fifo_does_not_block(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / ".sflint.yml").unlink()
    os.mkfifo(project / ".sflint.yml")
    code, _, err = run(capsys, "check", str(project))
    assert (code, err) == (2, "sflint: error: .sflint.yml: not read: it is a FIFO (named pipe)\n")


def test_rule_file_linked_to_dev_zero_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = project / "sflint-rules"
    rules.mkdir()
    (rules / "ACME001-zero.yaml").symlink_to("/dev/zero")
    code, _, err = run(capsys, "check", str(project), "--rules", str(rules))
    assert code == 2
    assert err.endswith(
        "ACME001-zero.yaml: not read: it is a symbolic link to a file outside the project\n"
    )


def test_rule_folder_outside_the_project_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = project.parent / "rules"
    outside.mkdir()
    config = project / ".sflint.yml"
    config.write_text(config.read_text() + "rules:\n  paths: [../rules]\n")
    code, _, err = run(capsys, "check", str(project))
    line = config.read_text().splitlines().index("  paths: [../rules]") + 1
    assert (code, err) == (
        2,
        f"sflint: error: .sflint.yml:{line}: rule folder outside the project: ../rules\n",
    )


def test_oversized_config_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".sflint.yml").write_text("# x\n" * 300_000)
    code, _, err = run(capsys, "check", str(project))
    assert code == 2
    assert err == (
        "sflint: error: .sflint.yml: not read: it is 1200000 bytes, over the 1048576 byte limit\n"
    )


@pytest.mark.parametrize("option", ["--sarif-file", "--output"])
def test_reports_are_never_written_through_a_link(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    option: str,
) -> None:
    victim = project.parent / "victim.txt"
    victim.write_text("keep me\n")
    (project / "sflint.sarif").symlink_to(victim)
    monkeypatch.chdir(project)
    code, _, err = run(capsys, "check", ".", option, "sflint.sarif")
    assert (code, err) == (2, "sflint: error: sflint.sarif: not written: it is a symbolic link\n")
    assert victim.read_text() == "keep me\n"


def test_reports_are_never_written_into_a_linked_folder(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = project.parent / "elsewhere"
    elsewhere.mkdir()
    (project / "reports").symlink_to(elsewhere)
    monkeypatch.chdir(project)
    code, _, err = run(capsys, "check", ".", "--sarif-file", "reports/sflint.sarif")
    assert code == 2
    assert err == (
        f"sflint: error: reports/sflint.sarif: not written: its folder {project / 'reports'}"
        " is a symbolic link\n"
    )
    assert list(elsewhere.iterdir()) == []


RULE = """id: ACME001
name: deep
summary: s
severity: warning
scope: file
message: m
docs: {why: w, how_to_fix: h}
"""


@pytest.mark.parametrize(
    ("extra", "line", "message"),
    [
        ("security_severity: " + "9" * 5000 + "\n", 8, "number too long (5000 characters)"),
        ("security_severity: .nan\ntags: [security]\n", 8, ".nan is not a finite number"),
        (
            "match:\n"
            + "".join(f"{'  ' * i}not:\n" for i in range(1, 260))
            + "  " * 260
            + "detected: true\n",
            41,
            "nested more than 32 levels deep",
        ),
    ],
    ids=["long-integer", "nan", "deep-matchers"],
)
def test_hostile_rule_values_are_file_line_errors(
    project: Path, capsys: pytest.CaptureFixture[str], extra: str, line: int, message: str
) -> None:
    rules = project / "sflint-rules"
    rules.mkdir()
    (rules / "ACME001-deep.yaml").write_text(RULE + extra)
    code, _, err = run(capsys, "check", str(project), "--rules", str(rules))
    assert (code, err) == (2, f"sflint: error: sflint-rules/ACME001-deep.yaml:{line}: {message}\n")


def test_schema_errors_quote_a_short_excerpt_only(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / ".sflint.yml").write_text("fail_on: " + SECRET * 20 + "\n")
    code, _, err = run(capsys, "check", str(project))
    assert code == 2
    assert err.startswith("sflint: error: .sflint.yml:1: fail_on: 'ghp_SECRET")
    assert err.endswith("…\n")
    assert len(err) < 220


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (
            "*a*a*a*a*a*a*a*a*b",
            "pattern has more than 2 '*' wildcards in one part; write it as several patterns",
        ),
        ("!", "invalid pattern: Invalid git pattern: '!'"),
        ("\\", "invalid pattern: Invalid git pattern: '\\\\'"),
        ("[z-a]", "invalid pattern: bad character range z-a at position 10"),
    ],
    ids=["backtracking", "bare-negation", "bare-backslash", "bad-range"],
)
def test_forceignore_patterns_that_cannot_be_matched_safely(
    project: Path, capsys: pytest.CaptureFixture[str], pattern: str, message: str
) -> None:
    (project / ".forceignore").write_text(f"# ok\n**/profiles/**\n{pattern}\n")
    code, _, err = run(capsys, "check", str(project))
    assert (code, err) == (2, f"sflint: error: .forceignore:3: {message}\n")


def test_unreadable_forceignore_is_an_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _replace_with_link(project / ".forceignore", project.parent / "secret.txt")
    code, out, err = run(capsys, "check", str(project))
    assert (code, err) == (
        2,
        "sflint: error: .forceignore: not read: it is a symbolic link to a file outside the"
        " project\n",
    )
    assert SECRET not in out


def test_deeply_nested_project_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "sfdx-project.json").write_text("[" * 5000 + "]" * 5000)
    code, _, err = run(capsys, "check", str(project))
    assert (code, err) == (2, "sflint: error: sfdx-project.json: nested too deeply\n")
