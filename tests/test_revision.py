"""``sflint.revision``: a revision's files read from git objects, under the file-access
policy, with git's code-running settings off (docs/security.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sflint import revision
from sflint.errors import UsageError
from tests.conftest import run_cli
from tests.test_diff import BASE, PS, git

SYNC = f"{PS}/Sync.permissionset-meta.xml"


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    return repo


def test_materialise_copies_only_what_a_load_reads_and_cleans_up(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {**BASE, "README.md": "x", "src/classes/A.cls": "class A {}"})
    rev = revision.resolve(revision.git_top(repo), "HEAD")
    assert rev.commit == git(repo, "rev-parse", "HEAD")
    with revision.materialise(rev) as tree:
        root = tree.root
        found = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if not p.is_dir())
        assert (root / ".git").is_dir()  # found as the git top, as the checkout is
    assert found == sorted(BASE)
    assert (tree.files, tree.skipped) == (len(BASE), 0)
    assert not root.exists()


def test_a_committed_link_out_of_the_project_is_refused_as_in_a_checkout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path, BASE)
    git(repo, "tag", "base")
    (repo / PS / "Leak.permissionset-meta.xml").symlink_to("/etc/passwd")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "link")
    code, out, _ = run_cli(
        capsys, "diff", "base", "HEAD", "--path", str(repo), "--format", "json", "--no-cache"
    )
    assert code == 1
    (finding,) = json.loads(out)["findings"]["introduced"]
    assert (finding["rule"], finding["path"], finding["line"], finding["message"]) == (
        "SFL010",
        f"{PS}/Leak.permissionset-meta.xml",
        1,
        "Not read: it is a symbolic link to a file outside the project",
    )
    assert "root:" not in out


def test_git_settings_that_run_programs_never_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path, BASE)
    marker = tmp_path / "ran"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n", encoding="utf-8")
    script.chmod(0o755)
    for key in ("core.fsmonitor", "core.pager", "core.sshCommand", "core.hooksPath"):
        git(repo, "config", key, str(script) if key != "core.hooksPath" else str(tmp_path))
    for hook in ("post-checkout", "reference-transaction", "pre-commit"):
        (tmp_path / hook).symlink_to(script)
    code, _, err = run_cli(capsys, "diff", "HEAD", "--path", str(repo), "--no-cache")
    assert (code, err) == (0, "")
    assert not marker.exists()


def test_an_oversized_file_is_refused_with_the_checkout_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = max(len(v.encode()) for k, v in BASE.items() if k.endswith(".xml")) + 10
    monkeypatch.setattr("sflint.safeio.METADATA_LIMIT", limit)
    big = {**BASE, SYNC: BASE[SYNC] + "<!--" + "x" * limit + "-->\n"}
    repo = _repo(tmp_path, big)
    code, out, _ = run_cli(capsys, "check", str(repo), "--format", "json", "--no-cache")
    (in_checkout,) = [f for f in json.loads(out)["findings"] if f["rule"] == "SFL010"]
    rev = revision.resolve(repo, "HEAD")
    with revision.materialise(rev) as tree:
        copy = tree.root / SYNC
        assert copy.stat().st_size == len(big[SYNC].encode())
        assert copy.stat().st_blocks == 0  # sparse: the blob was never read
        code, out, _ = run_cli(capsys, "check", str(tree.root), "--format", "json", "--no-cache")
    assert code == 1
    (from_git,) = [f for f in json.loads(out)["findings"] if f["rule"] == "SFL010"]
    assert (from_git["path"], from_git["line"], from_git["message"]) == (
        in_checkout["path"],
        in_checkout["line"],
        in_checkout["message"],
    )


@pytest.mark.parametrize(
    ("path", "safe"),
    [
        ("force-app/X.profile-meta.xml", True),
        ("a/../X.profile-meta.xml", False),
        ("a/./X.profile-meta.xml", False),
        ("a//X.profile-meta.xml", False),
        (".git/X.profile-meta.xml", False),
        ("a/.GIT/hooks/X.profile-meta.xml", False),
    ],
)
def test_hostile_tree_paths_are_skipped(path: str, safe: bool) -> None:
    assert (revision._safe_parts(path) is not None) is safe


def test_outside_a_repository_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is not in a git repository"):
        revision.git_top(tmp_path)


def test_git_runs_without_the_callers_git_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path, BASE)
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_EXTERNAL_DIFF", "/bin/false")
    assert revision.resolve(repo, "HEAD").commit == git(repo, "rev-parse", "HEAD")
    assert os.environ["GIT_DIR"]  # the caller's environment is left as it was
