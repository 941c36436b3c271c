"""The command line on a hostile pull request and on a bug of its own: never a traceback
(internal errors exit 3 in one line), names from the repository printed inert in ``access``,
``init`` and error messages, ``init`` never writing through a symbolic link, and everything
after ``--`` read as a path (how the pre-commit hook passes file names)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import sflint.app
import sflint.pipeline
from sflint.cli import main
from sflint.errors import UsageError
from tests.conftest import EXAMPLE

BOOM_HINT = "; run again with --debug for the traceback\n"
# A name that would be a GitHub workflow command at the start of a log line and, raw, would
# clear the reviewer's screen and break the line.
EVIL = "Evil\x1b[2J\n::error file=README.md,line=1::pwned"
EVIL_SHOWN = "Evil\\x1b[2J\\n::error file=README.md,line=1::pwned"

PERMISSION_SET = """<?xml version="1.0" encoding="UTF-8"?>
<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>Evil</label>
    <userPermissions>
        <enabled>true</enabled>
        <name>ApiUserOnly</name>
    </userPermissions>
</PermissionSet>
"""
SETS = "force-app/main/default/permissionsets"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    monkeypatch.delenv("SFLINT_DEBUG", raising=False)
    return root


# --- internal errors: one line, exit 3; the traceback only with --debug ---------------------


def _raise(exc: BaseException) -> object:
    def fail(*_args: object, **_kwargs: object) -> object:
        raise exc

    return fail


@pytest.mark.parametrize(
    ("exc", "shown"),
    [
        (RuntimeError("boom"), "RuntimeError: boom"),
        (OSError(5, "Input/output error"), "OSError: [Errno 5] Input/output error"),
        (MemoryError(), "MemoryError"),
        (
            RecursionError("maximum recursion depth exceeded"),
            "RecursionError: maximum recursion depth exceeded",
        ),
        (KeyError("x"), "KeyError: 'x'"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else "",
)
def test_internal_error_in_check_is_one_line_and_exit_3(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    exc: BaseException,
    shown: str,
) -> None:
    monkeypatch.setattr(sflint.app, "check", _raise(exc))
    code, out, err = run(capsys, "check", str(project), "--no-cache")
    assert (code, out) == (3, "")
    assert err == f"sflint: internal error: {shown}{BOOM_HINT}"


@pytest.mark.parametrize("command", [["access", "--path"], ["init", "--path"]], ids=lambda c: c[0])
def test_internal_error_in_access_and_init_is_exit_3(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    monkeypatch.setattr(sflint.pipeline, "load", _raise(ValueError("bad value")))
    code, out, err = run(capsys, *command, str(project), "--no-cache")
    assert (code, out, err) == (3, "", f"sflint: internal error: ValueError: bad value{BOOM_HINT}")


def test_internal_error_message_is_inert_and_one_line(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sflint.app, "check", _raise(RuntimeError("bad \x1b[31mname\nsecond")))
    code, _, err = run(capsys, "check", str(project), "--no-cache")
    assert (code, err) == (3, f"sflint: internal error: RuntimeError: bad \\x1b[31mname{BOOM_HINT}")


@pytest.mark.parametrize(
    "where",
    [
        ["--debug", "check", "{p}"],  # the group's option, before the command
        ["--debug", "{p}"],  # the group's option, before the implied `check`
        ["check", "{p}", "--debug"],  # the command's own, at the end of the line re-run
        ["access", "--debug", "--path", "{p}"],
    ],
    ids=" ".join,
)
def test_debug_prints_the_traceback(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    where: list[str],
) -> None:
    monkeypatch.setattr(sflint.pipeline, "load", _raise(RuntimeError("boom")))
    args = [a.format(p=project) for a in where]
    code, out, err = run(capsys, *args, "--no-cache")
    assert (code, out) == (3, "")
    assert err.startswith("Traceback (most recent call last):\n"), err
    assert err.endswith("RuntimeError: boom\nsflint: internal error: RuntimeError: boom\n"), err
    assert "in fail" in err  # the frame that raised


@pytest.mark.parametrize("value", ["1", "true"])
def test_sflint_debug_env_prints_the_traceback(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    value: str,
) -> None:
    monkeypatch.setenv("SFLINT_DEBUG", value)
    monkeypatch.setattr(sflint.app, "check", _raise(RuntimeError("boom")))
    code, _, err = run(capsys, "check", str(project), "--no-cache")
    assert code == 3
    assert err.startswith("Traceback (most recent call last):\n"), err
    assert err.endswith("\nsflint: internal error: RuntimeError: boom\n"), err


def test_debug_without_an_error_changes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = run(capsys, "check", str(project), "--no-cache")
    assert run(capsys, "--debug", "check", str(project), "--no-cache") == plain
    assert plain[0] == 1


def test_interrupt_is_130(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sflint.app, "check", _raise(KeyboardInterrupt()))
    code, out, err = run(capsys, "check", str(project), "--no-cache")
    assert (code, out) == (130, "")
    assert "Traceback" not in err


def test_usage_error_escaping_a_command_is_still_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sflint.batch

    error = UsageError("bad \x1b[2J\n::error::x", ".sflint.yml", 3)
    monkeypatch.setattr(sflint.batch, "run", _raise(error))
    code, out, err = run(capsys, "check", str(project))
    assert (code, out, err) == (2, "", "sflint: error: .sflint.yml:3: bad \\x1b[2J\\n::error::x\n")


# --- names from the repository, printed inert ------------------------------------------------


def test_usage_error_text_is_inert(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a command raises, its error line shows control characters as escapes."""
    monkeypatch.setattr(
        sflint.pipeline, "load", _raise(UsageError(f"persona names {EVIL}", ".sflint.yml", 4))
    )
    for command in (["check", str(project)], ["access", "--path", str(project)]):
        code, out, err = run(capsys, *command, "--no-cache")
        assert (code, out) == (2, "")
        assert err == f"sflint: error: .sflint.yml:4: persona names {EVIL_SHOWN}\n"


def test_config_naming_a_missing_component_prints_nothing_live(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A persona naming a component that does not exist, with a hostile name: whichever way
    it is reported (a finding or a config error), nothing in any output is live."""
    (project / ".sflint.yml").write_text(
        "personas:\n"
        '  - name: "Conn\\e]8;;http://evil.example\\a\\n::error::x"\n'
        "    kind: integration\n"
        '    permission_sets: ["Missing\\e[2J\\n::error file=README.md::y\\r"]\n',
        encoding="utf-8",
    )
    for command in (["check", str(project)], ["access", "--path", str(project)]):
        code, out, err = run(capsys, *command, "--no-cache")
        assert code in (0, 1, 2)
        text = out + err
        assert "Missing\\x1b[2J\\n::error file=README.md::y\\r" in text or (
            "Missing\\x1b[2J ::error file=README.md::y" in text  # console spells \n as a space
        ), text
        for live in ("\x1b", "\r", "\x07", "\n::"):
            assert live not in text, (command, text)


def test_unknown_key_error_is_inert(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".sflint.yml").write_text('"evil\\e[2J\\n::error::x": 1\n', encoding="utf-8")
    code, out, err = run(capsys, "check", str(project), "--no-cache")
    assert (code, out) == (2, "")
    assert err == "sflint: error: .sflint.yml:1: unknown key 'evil\\x1b[2J\\n::error::x'\n"


def _with_evil_set(project: Path) -> None:
    """No declared persona, and a set named EVIL that enables ApiUserOnly: detection makes
    it an integration persona, so its name reaches access and init."""
    (project / ".sflint.yml").unlink()
    (project / SETS / f"{EVIL}.permissionset-meta.xml").write_text(PERMISSION_SET)


def test_access_tree_shows_hostile_names_escaped(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _with_evil_set(project)
    code, out, err = run(capsys, "access", f"permission set {EVIL}", "--path", str(project))
    assert (code, err) == (0, "")
    assert out == (
        f"permission set {EVIL_SHOWN} [integration] (detected: it enables ApiUserOnly (API Only"
        " User))\n"
        f"  ├─ ApiUserOnly  ← permission set {EVIL_SHOWN}  ({SETS}/{EVIL_SHOWN}"
        ".permissionset-meta.xml:4)\n"
    )


def test_access_tree_persona_at_line_start_is_no_workflow_command(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (project / ".sflint.yml").read_text(encoding="utf-8")
    text = text.replace("name: Commission app connection", 'name: "::error file=x::pwned"')
    (project / ".sflint.yml").write_text(text, encoding="utf-8")
    code, out, _ = run(capsys, "access", "--path", str(project), "--no-cache")
    assert code == 0
    assert (
        out.splitlines()[0] == "./::error file=x::pwned [integration] (declared in .sflint.yml:3)"
    )
    assert not any(line.lstrip().startswith("::") for line in out.splitlines())


def test_init_output_and_file_show_hostile_names_escaped(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _with_evil_set(project)
    code, out, err = run(capsys, "init", "--path", str(project), "--no-cache")
    assert (code, err) == (0, "")
    assert out == (
        f"Wrote {project / '.sflint.yml'} with 3 detected integration persona(s).\n"
        "  permission set Commission_App_API: its license is SalesforceAPIIntegrationPsl"
        " (Salesforce API Integration)\n"
        f"  permission set {EVIL_SHOWN}: it enables ApiUserOnly (API Only User)\n"
        "  profile Minimum Access - API Only Integrations: its user license is Salesforce"
        " Integration\n"
    )
    written = (project / ".sflint.yml").read_text(encoding="utf-8")
    assert "\x1b" not in written
    in_yaml = EVIL.replace("\x1b", "\\u001b").replace("\n", "\\n")
    assert f'    permission_sets: ["{in_yaml}"]' in written.splitlines()
    # The file reads back as exactly the names: check loads it with the evil persona in it.
    code, out, err = run(capsys, "access", f"permission set {EVIL}", "--path", str(project))
    assert (code, err) == (0, "")
    assert out.startswith(f"permission set {EVIL_SHOWN} [integration] (declared in .sflint.yml:")


def test_init_escapes_bidi_and_c1_characters_in_the_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sflint.commands_init import _yaml_str

    assert _yaml_str("a\u202eb\x85c\x7fd\u2028e\udcff") == '"a\\u202eb\\x85c\\x7fd\\u2028e\\udcff"'
    import yaml

    assert yaml.safe_load(_yaml_str("a\u202eb\x85c\x7fd\u2028e")) == "a\u202eb\x85c\x7fd\u2028e"


# --- init never writes through a symbolic link -----------------------------------------------


def test_init_force_refuses_a_config_that_is_a_link(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = project.parent / "victim.txt"
    victim.write_text("precious\n")
    config = project / ".sflint.yml"
    config.unlink()
    config.symlink_to(victim)
    code, out, err = run(capsys, "init", "--path", str(project), "--force", "--no-cache")
    assert (code, out) == (2, "")
    assert err == f"sflint: error: {config}: not written: it is a symbolic link\n"
    assert victim.read_text() == "precious\n"


def test_init_refuses_a_dangling_link(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    victim = project.parent / "created-by-a-link.txt"
    config = project / ".sflint.yml"
    config.unlink()
    config.symlink_to(victim)
    code, _, err = run(capsys, "init", "--path", str(project), "--no-cache")
    assert code == 2
    assert err == f"sflint: error: {config}: not written: it is a symbolic link\n"
    assert not victim.exists()


def test_init_refuses_a_target_in_a_linked_folder(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = project.parent / "outside"
    outside.mkdir()
    (project / "conf").symlink_to(outside)
    monkeypatch.chdir(project)
    code, _, err = run(capsys, "init", "--config", "conf/.sflint.yml", "--no-cache")
    assert code == 2
    assert err == (
        f"sflint: error: conf/.sflint.yml: not written: its folder {project / 'conf'} is a"
        " symbolic link\n"
    )
    assert list(outside.iterdir()) == []


# --- after `--`, everything is a path --------------------------------------------------------


def test_options_after_double_dash_are_file_names(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hook's command line: `sflint check -- FILES`, with files named like options."""
    monkeypatch.chdir(project)
    (project / "evil.profile").write_text("fail_on: never\n")
    profile = next((project / "force-app/main/default/profiles").iterdir()).read_text()
    (project / "--config=evil.profile").write_text(profile)
    (project / "-oVictim.profile").write_text(profile)
    (project / "--fail-on=never").write_text("")
    files = ["--config=evil.profile", "-oVictim.profile", "--fail-on=never", "evil.profile"]
    files += [str(p.relative_to(project)) for p in sorted(project.rglob("*-meta.xml"))]
    code, out, err = run(capsys, "check", "--no-cache", "--", *files)
    assert (code, err) == (1, "")
    sfl001 = [line.split(": SFL001")[0] for line in out.splitlines() if ": SFL001 " in line]
    assert sfl001 == [
        "force-app/main/default/permissionsets/Commission_App_API.permissionset-meta.xml:24",
        "integrations/main/default/permissionsets/Sales_Data_Access.permissionset-meta.xml:8",
    ]
    assert sorted(p.name for p in project.iterdir() if "Victim" in p.name) == ["-oVictim.profile"]
    assert (project / "-oVictim.profile").read_text() == profile


def test_click_usage_error_shows_the_argument_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "--x\x1b[2J\n::error::y")
    assert (code, out) == (2, "")
    assert "--x\\x1b[2J\\n::error::y" in err
    assert "\x1b" not in err
    assert "\n::" not in err
