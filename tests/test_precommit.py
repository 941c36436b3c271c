"""The pre-commit hook: its manifest, and the hook end to end through ``pre-commit try-repo``.

The end-to-end tests run ``pre-commit try-repo <this checkout> sflint`` in a temporary git
repository holding the example project. try-repo clones this checkout (with the uncommitted
changes of tracked files, as a shadow commit) and pip-installs sflint and its dependencies
into a throwaway environment, so they need PyPI and take ~15 s each; deselect them with
``-m "not slow"``. ``.pre-commit-hooks.yaml`` must be committed (or staged) for try-repo to
see it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pre_commit.clientlib import load_manifest  # type: ignore[import-untyped]

from sflint.baseline import DEFAULT_NAME as BASELINE
from sflint.kinds import KINDS
from sflint.project import CONFIG_FILE, FORCEIGNORE, PROJECT_FILE, classify

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
EXAMPLE = ROOT / "testdata" / "projects" / "commission-app"

GROUP = "force-app/main/default/permissionsetgroups/Integration_Base.permissionsetgroup-meta.xml"
MEMBER = "integrations/main/default/permissionsets/Sales_Data_Access.permissionset-meta.xml"
# A member of the same group with no findings of its own or through it.
CLEAN = "force-app/main/default/permissionsets/Reporting_Sync.permissionset-meta.xml"

PRE_COMMIT = (sys.executable, "-m", "pre_commit")
FINDING_LINE = re.compile(r"^(?P<path>\S.*?):(?P<line>\d+): (?P<rule>SFL\d{3}) \[", re.MULTILINE)

# --- the manifest -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hook() -> dict[str, Any]:
    hooks = load_manifest(str(MANIFEST))  # raises InvalidManifestError if pre-commit rejects it
    assert [h["id"] for h in hooks] == ["sflint"]
    found: dict[str, Any] = hooks[0]
    return found


def test_manifest_runs_sflint_serially_on_the_console(hook: dict[str, Any]) -> None:
    assert hook["language"] == "python"
    assert hook["entry"].split()[:2] == ["sflint", "check"]
    assert hook["pass_filenames"] is True
    # Each batch loads the whole project: parallel batches would only repeat that work.
    assert hook["require_serial"] is True
    # Parallel or split batches would overwrite one another's report file.
    command = [hook["entry"], *hook["args"]]
    for option in ("--sarif-file", "--output", "-o", "--format", "--fix"):
        assert not any(option in part.split() for part in command), option


def test_manifest_entry_ends_option_parsing(hook: dict[str, Any]) -> None:
    """pre-commit appends the hook's args and then the file names to the entry: after `--`
    a committed file named like an option is a file (test_try_repo_file_named_like_an_option)."""
    assert hook["entry"] == "sflint check --"
    assert hook["args"] == []


def _hook_matches(hook: dict[str, Any], path: str) -> bool:
    """pre-commit's own selection: ``re.search`` of ``files`` and not ``exclude``."""
    included = re.search(hook["files"], path) is not None
    excluded = re.search(hook["exclude"], path) is not None
    return included and not excluded


SETTINGS = (PROJECT_FILE, CONFIG_FILE, FORCEIGNORE, BASELINE)


# The hook's ``files:`` pattern must select exactly what sflint reads: every name below is
# generated from the kinds table (sflint/kinds.py), so a kind added there without the pattern
# (or a pattern that grows past the table) fails here.
FOLDERS = ("", "force-app/main/default/permissionsets/", "a b/%3A/")


def _table_paths() -> list[str]:
    """A file of every suffix of every kind, and every decomposed child layout."""
    paths = [
        f"{folder}Custom%3A Sales{suffix}"
        for k in KINDS
        for suffix in k.suffixes
        for folder in FOLDERS
    ]
    for k in KINDS:
        for child in k.children:
            for layout in child.layouts:
                for folder in FOLDERS:
                    parent = f"{folder}{k.folder}/PS/"
                    name = f"{parent}{layout.folder}/ApiEnabled" if layout.folder else f"{parent}PS"
                    paths.append(f"{name}{child.suffix}")
    return paths


def _near_misses() -> list[str]:
    """Names one step from a suffix of the table, which neither sflint nor the hook reads."""
    suffixes = [s for k in KINDS for s in k.suffixes] + [
        c.suffix for k in KINDS for c in k.children
    ]
    words = [k.source_suffix[1:].removesuffix("-meta.xml") for k in KINDS]
    names: list[str] = []
    for suffix in suffixes:
        word = suffix[1:]
        names += [
            suffix,  # the suffix alone names no component (``.profile`` is a shell's)
            f"X{suffix}.orig",
            f"X{suffix}x",
            f"X{suffix[:-1]}",
            f"X_{word}",
            f"X.x{word}",
            f"X{suffix.upper()}",
        ]
    # Two type words run together: a pattern such as ``(profile|permissionset)\w*`` says yes.
    names += [f"X.{a}{b}{tail}" for a in words for b in words for tail in ("", "-meta.xml")]
    return names


@pytest.mark.parametrize("path", _table_paths())
def test_manifest_selects_every_file_of_the_kinds_table(hook: dict[str, Any], path: str) -> None:
    assert classify(Path(path)) is not None, path
    assert _hook_matches(hook, path), path


@pytest.mark.parametrize("path", _near_misses())
def test_manifest_and_sflint_skip_near_misses_of_the_kinds_table(
    hook: dict[str, Any], path: str
) -> None:
    for folder in FOLDERS:
        assert classify(Path(folder + path)) is None, folder + path
        assert not _hook_matches(hook, folder + path), folder + path


@pytest.mark.parametrize("name", SETTINGS)
@pytest.mark.parametrize("folder", ["", "app/", "projects/one/"])
def test_manifest_selects_project_settings(hook: dict[str, Any], name: str, folder: str) -> None:
    assert _hook_matches(hook, folder + name)


@pytest.mark.parametrize(
    "path",
    [
        ".profile",  # a shell profile, not a Salesforce one
        "home/.profile",
        "X.permissionset-meta.xml.orig",
        # A decomposed set's file of entries sflint does not read (class access).
        "permissionsets/X/X.classAccess-meta.xml",
        "classes/Foo.cls-meta.xml",
        "package.json",
        "old-sfdx-project.json",
        "x.sflint.yml",
        ".sflint.yaml.bak",
        "README.md",
    ],
)
def test_manifest_skips_other_files(hook: dict[str, Any], path: str) -> None:
    assert not _hook_matches(hook, path)


def test_manifest_agrees_with_sflint_on_the_example_project(hook: dict[str, Any]) -> None:
    for file in sorted(EXAMPLE.rglob("*")):
        if file.is_file():
            rel = file.relative_to(EXAMPLE).as_posix()
            reads = classify(file) is not None or file.name in SETTINGS
            assert _hook_matches(hook, rel) == reads, rel


# --- end to end through pre-commit try-repo -------------------------------------------------

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "sflint tests",
    "GIT_AUTHOR_EMAIL": "tests@sflint.invalid",
    "GIT_COMMITTER_NAME": "sflint tests",
    "GIT_COMMITTER_EMAIL": "tests@sflint.invalid",
}


def _index_reachable() -> bool:
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple")
    parts = urlsplit(index)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "pypi.org", port), timeout=5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def sflint_repo() -> Path:
    """This checkout, if pre-commit can try it: a git work tree with the manifest tracked."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", MANIFEST.name],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if tracked.returncode != 0:
        pytest.skip(f"{ROOT} is not a git checkout with {MANIFEST.name} committed or staged")
    if not _index_reachable():
        pytest.skip("the package index is unreachable: try-repo pip-installs sflint")
    return ROOT


@pytest.fixture(scope="module")
def precommit_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = dict(os.environ, **GIT_IDENTITY)
    # try-repo always builds its hook environment in a throwaway store; PRE_COMMIT_HOME keeps
    # anything else pre-commit writes (its log) out of the user's cache.
    env["PRE_COMMIT_HOME"] = str(tmp_path_factory.mktemp("pre-commit-home"))
    env["NO_COLOR"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _git(repo: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", *args],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def project_repo(tmp_path: Path, precommit_env: dict[str, str]) -> Iterator[Path]:
    """A git repository whose root is a copy of the example project, all committed."""
    repo = tmp_path / "commission-app"
    shutil.copytree(EXAMPLE, repo)
    _git(repo, precommit_env, "init", "--quiet", "--initial-branch=main")
    _git(repo, precommit_env, "add", "--all")
    _git(repo, precommit_env, "commit", "--quiet", "--no-verify", "-m", "example project")
    yield repo


def _try_repo(
    sflint_repo: Path, project: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PRE_COMMIT, "try-repo", str(sflint_repo), "sflint", "--color=never", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _findings(output: str) -> set[tuple[str, str]]:
    return {(m["path"], m["rule"]) for m in FINDING_LINE.finditer(output)}


def _edit_label(file: Path, text: str) -> None:
    content = file.read_text(encoding="utf-8")
    changed = re.sub(r"<label>[^<]*</label>", f"<label>{text}</label>", content)
    assert changed != content, f"{file} has no <label> to edit"
    file.write_text(changed, encoding="utf-8")


@pytest.mark.slow
def test_try_repo_all_files_fails_with_sfl001(
    sflint_repo: Path, project_repo: Path, precommit_env: dict[str, str]
) -> None:
    result = _try_repo(sflint_repo, project_repo, precommit_env, "--all-files")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "- hook id: sflint" in output
    assert "- exit code: 1" in output
    findings = _findings(output)
    assert (MEMBER, "SFL001") in findings, output
    assert (
        "force-app/main/default/permissionsets/Commission_App_API.permissionset-meta.xml",
        "SFL001",
    ) in findings, output


@pytest.mark.slow
def test_try_repo_clean_change_passes(
    sflint_repo: Path, project_repo: Path, precommit_env: dict[str, str]
) -> None:
    _edit_label(project_repo / CLEAN, "Reporting Sync (read only)")
    _git(project_repo, precommit_env, "add", CLEAN)
    result = _try_repo(sflint_repo, project_repo, precommit_env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"^sflint .*\.+Passed$", output, re.MULTILINE), output
    assert _findings(output) == set(), output


@pytest.mark.slow
def test_try_repo_group_change_reports_member_set_finding(
    sflint_repo: Path, project_repo: Path, precommit_env: dict[str, str]
) -> None:
    """Only the group is staged; the TwoFactorApi it pulls in lives in a member set's file."""
    _edit_label(project_repo / GROUP, "Integration Base (shared)")
    _git(project_repo, precommit_env, "add", GROUP)
    result = _try_repo(sflint_repo, project_repo, precommit_env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    # Only the finding whose provenance passes through the group: not the set's own SFL005,
    # not the persona's other set, not the profile's misspelling.
    assert _findings(output) == {(MEMBER, "SFL001")}, output
    assert "through permission set group Integration_Base" in output, output


@pytest.mark.slow
def test_try_repo_file_named_like_an_option(
    sflint_repo: Path, project_repo: Path, precommit_env: dict[str, str]
) -> None:
    """Committed files named `--config=evil.profile` (beside an `evil.profile` saying
    `fail_on: never`) and `-oVictim.profile`: read as options they would pass the run and
    overwrite a file; after the entry's `--` they are files, and the findings stay."""
    profile = (project_repo / "force-app/main/default/profiles").glob("*.profile-meta.xml")
    content = next(profile).read_bytes()
    (project_repo / "evil.profile").write_text("fail_on: never\n", encoding="utf-8")
    (project_repo / "--config=evil.profile").write_bytes(content)
    (project_repo / "-oVictim.profile").write_bytes(content)
    _git(project_repo, precommit_env, "add", "--", "evil.profile", "--config=evil.profile")
    _git(project_repo, precommit_env, "add", "--", "-oVictim.profile")
    _git(project_repo, precommit_env, "commit", "--quiet", "--no-verify", "-m", "hostile names")
    result = _try_repo(sflint_repo, project_repo, precommit_env, "--all-files")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "- exit code: 1" in output, output
    findings = _findings(output)
    assert (MEMBER, "SFL001") in findings, output
    assert (
        "force-app/main/default/permissionsets/Commission_App_API.permissionset-meta.xml",
        "SFL001",
    ) in findings, output
    # Nothing written: no Victim.profile, the committed files unchanged, nothing untracked.
    assert sorted(p.name for p in project_repo.iterdir() if "Victim" in p.name) == [
        "-oVictim.profile"
    ]
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=project_repo,
        env=precommit_env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == "", status.stdout
