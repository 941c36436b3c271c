"""Pre-commit parity (issue 10, item 7): in every repository shape, the real hook on a
one-file change reports what ``sflint check`` reports for that file, and that is what the
whole-project run reports for it.

One git repository holds the shapes, so that one setup serves every run: a Metadata API
project at the repository root (``src/package.xml``, no sfdx-project.json, the persona in
the root ``.sflint.yml``), and in subfolders an SFDX project in source format with several
package folders (the example) and one with decomposed permission sets. Each test stages one
changed file and runs ``pre-commit try-repo`` (slow: see tests/test_precommit.py).
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sflint.batch import run
from sflint.output import Format
from sflint.settings import LoadOptions, Options
from tests.conftest import CASES, EXAMPLE
from tests.test_precommit import (  # noqa: F401  (fixtures)
    _edit_label,
    _findings,
    _git,
    _try_repo,
    precommit_env,
    sflint_repo,
)

NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"'
MDAPI_SET = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<PermissionSet {NS}>\n    <label>Sync</label>\n'
    "    <userPermissions>\n        <enabled>true</enabled>\n        <name>TwoFactorApi</name>\n"
    "    </userPermissions>\n</PermissionSet>\n"
)
SF = "sf/force-app/main/default"
SHAPES = {
    # shape: (the changed file, a finding the hook must report)
    "metadata-api-at-root": (
        "src/permissionsets/Sync.permissionset",
        ("src/permissionsets/Sync.permissionset", "SFL001"),
    ),
    "source-format-in-a-subfolder": (
        f"{SF}/permissionsets/Commission_App_API.permissionset-meta.xml",
        (f"{SF}/permissionsets/Commission_App_API.permissionset-meta.xml", "SFL001"),
    ),
    "several-package-folders": (
        f"{SF}/permissionsetgroups/Integration_Base.permissionsetgroup-meta.xml",
        (
            "sf/integrations/main/default/permissionsets/Sales_Data_Access.permissionset-meta.xml",
            "SFL001",
        ),
    ),
    "decomposed-sets": (
        "decomposed/force-app/main/default/permissionsets/Int_API/Int_API.permissionset-meta.xml",
        (
            "decomposed/force-app/main/default/permissionsets/Int_API/Int_API.userPermission-meta.xml",
            "SFL001",
        ),
    ),
}


@pytest.fixture(scope="module")
def shapes_repo(
    tmp_path_factory: pytest.TempPathFactory,
    precommit_env: dict[str, str],  # noqa: F811
) -> Path:
    repo = tmp_path_factory.mktemp("shapes") / "repo"
    (repo / "src/permissionsets").mkdir(parents=True)
    (repo / "src/package.xml").write_text(f"<Package {NS}><version>62.0</version></Package>\n")
    (repo / "src/permissionsets/Sync.permissionset").write_text(MDAPI_SET)
    (repo / ".sflint.yml").write_text("personas:\n  - name: Sync\n    permission_sets: [Sync]\n")
    shutil.copytree(EXAMPLE, repo / "sf")
    shutil.copytree(CASES / "decomposed-beta2", repo / "decomposed")
    _git(repo, precommit_env, "init", "--quiet", "--initial-branch=main")
    _git(repo, precommit_env, "add", "--all")  # try-repo sees only tracked files
    _git(repo, precommit_env, "commit", "--quiet", "--no-verify", "-m", "shapes")
    return repo


@pytest.fixture
def clean_after(shapes_repo: Path, precommit_env: dict[str, str]) -> Iterator[Path]:  # noqa: F811
    yield shapes_repo
    _git(shapes_repo, precommit_env, "reset", "--quiet", "--hard", "HEAD")


def _in_process(path: Path, base: Path) -> set[tuple[str, str]]:
    out, err = io.StringIO(), io.StringIO()
    options = Options(load=LoadOptions(paths=(path,)), format=Format.JSON, path_base=base)
    assert run(options, out, err) in (0, 1), err.getvalue()
    return {(f["path"], f["rule"]) for f in json.loads(out.getvalue())["findings"]}


@pytest.mark.slow
@pytest.mark.parametrize("shape", list(SHAPES))
def test_hook_on_a_one_file_change_matches_the_whole_project_run(
    sflint_repo: Path,  # noqa: F811
    clean_after: Path,
    precommit_env: dict[str, str],  # noqa: F811
    shape: str,
) -> None:
    repo = clean_after
    changed, headline = SHAPES[shape]
    _edit_label(repo / changed, "Changed label")
    _git(repo, precommit_env, "add", changed)
    result = _try_repo(sflint_repo, repo, precommit_env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    hook = _findings(output)
    assert headline in hook, output
    # The hook reports what `sflint check FILE` reports, ...
    alone = _in_process(repo / changed, repo)
    assert hook == alone, output
    # ... which is the whole project's findings for that file, and only whole-run findings.
    project = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=repo, capture_output=True, text=True
    ).stdout.strip()
    whole = _in_process(Path(project), repo)
    assert {f for f in whole if f[0] == changed} <= alone <= whole, output
