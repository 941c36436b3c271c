"""Every registered output format, run on the bundled example: well-formed, and carrying
exactly the example's findings (rule, path, line).

Adding a format to ``sflint.output.Format`` fails ``test_every_format_has_a_reader`` until
its reader is added to ``READERS`` below.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import unquote

import pytest

from sflint.output import Format
from tests.conftest import EXAMPLE, ROOT, run_check, run_cli
from tests.sarif_validation import assert_valid_sarif

Found = list[tuple[str, str, int]]

_CONSOLE_LINE = re.compile(
    r"^(?P<path>\S.*?):(?P<line>\d+): (?P<rule>SFL\d{3}) \[(error|warning|note)\] \S"
)
# Paths are relative to the git top level (issue 10, item 6): this checkout, for the example.
_IN_REPO = EXAMPLE.relative_to(ROOT).as_posix() + "/"
_SUMMARY = (
    "Found 4 findings (3 errors, 1 note) in 8 files, 8 components; 1 skipped by"
    " .forceignore (--no-forceignore includes them). Project: testdata/projects/commission-app"
    " (sfdx-project.json; package folders force-app, integrations)."
)


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("NO_COLOR", raising=False)


def _console(text: str) -> Found:
    *lines, summary = text.rstrip("\n").split("\n")
    assert summary == _SUMMARY
    found = []
    for line in lines:
        mo = _CONSOLE_LINE.match(line)
        assert mo is not None, line
        found.append((mo["rule"], mo["path"], int(mo["line"])))
    return found


def _full(text: str) -> Found:
    *body, summary = text.rstrip("\n").split("\n")
    assert summary == _SUMMARY
    findings = [line for line in body if line and not line.startswith(" ")]
    steps = [line for line in body if line.startswith("      1. ")]
    # Each finding of the example has at least one fix option with numbered steps.
    assert len(steps) >= len(findings)
    return _console("\n".join([*findings, summary]))


def _json(text: str) -> Found:
    doc = json.loads(text)
    assert doc["schema"] == "sflint/findings/v1"
    assert doc["summary"]["findings"] == len(doc["findings"])
    return [(f["rule"], f["path"], f["line"]) for f in doc["findings"]]


def _sarif(text: str) -> Found:
    assert_valid_sarif(text)
    (run,) = json.loads(text)["runs"]
    found = []
    for result in run["results"]:
        place = result["locations"][0]["physicalLocation"]
        uri = unquote(place["artifactLocation"]["uri"])
        found.append((result["ruleId"], uri, place["region"]["startLine"]))
    # The format carries machine fixes: the example's two SFL001 grants have one each.
    assert sum(1 for r in run["results"] if r.get("fixes")) == 2
    return found


_ANNOTATION = re.compile(
    r"^::(error|warning|notice) file=(?P<path>[^,]+),line=(?P<line>\d+),"
    r"title=(?P<rule>SFL\d{3}) [a-z-]+::\S"
)


def _github(text: str) -> Found:
    found = []
    for line in text.rstrip("\n").split("\n"):
        mo = _ANNOTATION.match(line)
        assert mo is not None, line
        # Property values escape "%" as "%25" (actions/toolkit, command.ts).
        found.append((mo["rule"], mo["path"].replace("%25", "%"), int(mo["line"])))
    return found


def _markdown(text: str) -> Found:
    assert text.startswith("## sflint: 4 findings (3 errors, 1 note)\n")
    found = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("#### "):
            rule = line.split()[1]
            where = re.match(r"^`(?P<path>.+):(?P<line>\d+)`", lines[i + 2])
            assert where is not None, lines[i + 2]
            found.append((rule, where["path"], int(where["line"])))
    return found


READERS: dict[Format, Callable[[str], Found]] = {
    Format.CONSOLE: _console,
    Format.FULL: _full,
    Format.JSON: _json,
    Format.SARIF: _sarif,
    Format.GITHUB: _github,
    Format.MARKDOWN: _markdown,
}


def test_every_format_has_a_reader() -> None:
    assert sorted(f.spec.name for f in READERS) == sorted(f.spec.name for f in Format)


@pytest.mark.parametrize("fmt", list(Format), ids=lambda f: f.spec.name)
def test_format_on_the_example(capsys: pytest.CaptureFixture[str], fmt: Format) -> None:
    code, out, err = run_cli(capsys, "check", str(EXAMPLE), "--format", fmt.spec.name)
    assert (code, err) == (1, "")
    expected = sorted((f.rule, _IN_REPO + f.path, f.line) for f in run_check(EXAMPLE).findings)
    assert sorted(READERS[fmt](out)) == expected


def test_format_names_are_the_cli_choices(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "check", "--help")
    assert code == 0
    assert "[console|full|json|sarif|github|markdown]" in " ".join(out.split())
    code, _, err = run_cli(capsys, "check", str(EXAMPLE), "--format", "xml")
    assert code == 2
    assert "'xml' is not one of 'console', 'full', 'json', 'sarif', 'github', 'markdown'" in err


def test_show_fixes_turns_console_into_full(capsys: pytest.CaptureFixture[str]) -> None:
    full = run_cli(capsys, "check", str(EXAMPLE), "--format", "full")
    assert run_cli(capsys, "check", str(EXAMPLE), "--show-fixes") == full
    assert Format.CONSOLE.with_fixes() is Format.FULL
    # A format that shows its fixes already, or cannot, is unchanged by --show-fixes.
    assert [f.with_fixes() for f in Format if f is not Format.CONSOLE] == [
        Format.FULL,
        Format.JSON,
        Format.SARIF,
        Format.GITHUB,
        Format.MARKDOWN,
    ]
    json_out = run_cli(capsys, "check", str(EXAMPLE), "--format", "json")
    assert run_cli(capsys, "check", str(EXAMPLE), "--format", "json", "--show-fixes") == json_out


@pytest.mark.parametrize("fmt", list(Format), ids=lambda f: f.spec.name)
def test_quiet_applies_to_console_formats_only(
    capsys: pytest.CaptureFixture[str], fmt: Format
) -> None:
    clean = EXAMPLE / "force-app/main/default/permissionsets/Reporting_Sync.permissionset-meta.xml"
    loud = run_cli(capsys, "check", str(clean), "--format", fmt.spec.name)
    quiet = run_cli(capsys, "check", str(clean), "--quiet", "--format", fmt.spec.name)
    assert quiet == ((0, "", "") if fmt.spec.console else loud)
    assert loud[0] == 0


@pytest.mark.parametrize("fmt", list(Format), ids=lambda f: f.spec.name)
def test_colour_applies_to_console_formats_only(
    capsys: pytest.CaptureFixture[str], fmt: Format
) -> None:
    _, out, _ = run_cli(capsys, "check", str(EXAMPLE), "--color", "--format", fmt.spec.name)
    assert ("\x1b[" in out) is fmt.spec.console
