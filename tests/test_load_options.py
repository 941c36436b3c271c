"""``sflint access`` and ``sflint init`` load the project as ``sflint check`` does: the same
``--config``, ``--no-forceignore``, ``--rules``, cache and path rules."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, ROOT, copy_example, run_cli

PS = "force-app/main/default/permissionsets"
PROFILE = "force-app/main/default/profiles/Minimum Access - API Only Integrations.profile-meta.xml"
API_PSL = "its license is SalesforceAPIIntegrationPsl (Salesforce API Integration)"
USER_LICENSE = "its user license is Salesforce Integration"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _findings(out: str) -> list[tuple[str, str, int, str | None]]:
    return [(f["rule"], f["path"], f["line"], f["persona"]) for f in json.loads(out)["findings"]]


def _profile_tree(signal: str) -> list[str]:
    return [
        f"profile Minimum Access - API Only Integrations [integration] (detected: {signal})",
        f"  ├─ ApiEnabled  ← profile Minimum Access - API Only Integrations  ({PROFILE}:5)",
        f"  ├─ ApiUserOnly  ← profile Minimum Access - API Only Integrations  ({PROFILE}:9)",
        "  ├─ ChatterInternalUser  ← profile Minimum Access - API Only Integrations"
        f"  ({PROFILE}:13)",
    ]


def test_access_reads_the_config_that_config_names(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = copy_example(tmp_path)
    other = tmp_path / "elsewhere.yml"
    (project / ".sflint.yml").rename(other)
    _, default, _ = run_cli(capsys, "access", "--path", str(EXAMPLE))
    code, out, err = run_cli(capsys, "access", "--path", str(project), "--config", str(other))
    assert (code, err) == (0, "")
    assert out == default.replace("(declared in .sflint.yml:3)", f"(declared in {other}:3)")
    assert out != default
    # check reads the same persona from the same file.
    args = ("--config", str(other), "--select", "SFL001", "--format", "json")
    _, out, _ = run_cli(capsys, "check", str(project), *args)
    assert _findings(out) == [
        (
            "SFL001",
            f"{PS}/Commission_App_API.permissionset-meta.xml",
            24,
            "Commission app connection",
        ),
        (
            "SFL001",
            "integrations/main/default/permissionsets/Sales_Data_Access.permissionset-meta.xml",
            8,
            "Commission app connection",
        ),
    ]


def test_access_with_a_missing_config_fails_like_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.yml"
    expected = (2, "", f"sflint: error: {missing}: config file not found\n")
    assert run_cli(capsys, "check", str(EXAMPLE), "--config", str(missing)) == expected
    assert run_cli(capsys, "access", "--path", str(EXAMPLE), "--config", str(missing)) == expected


def test_access_no_forceignore_reads_what_check_reads(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = copy_example(tmp_path)
    # The example's .forceignore skips the scratch-org Admin profile.
    # Only the declared persona: detection (on by default beside it) would add the example's
    # integration components as personas of their own.
    (project / ".sflint.yml").write_text(
        "personas:\n  - name: Scratch admin\n    kind: integration\n    profile: Admin\n"
        "detect_integration: false\n"
    )
    admin = "force-app/main/default/profiles/Admin.profile-meta.xml"
    assert run_cli(capsys, "access", "--path", str(project)) == (
        0,
        "Scratch admin [integration] (declared in .sflint.yml:2)\n"
        "  └─ ? Profile Admin is not in the project (.sflint.yml:4)\n",
        "",
    )
    _, out, _ = run_cli(
        capsys, "check", str(project), "--select", "SFL001,SFL011", "--format", "json"
    )
    assert _findings(out) == [("SFL011", ".sflint.yml", 4, "Scratch admin")]

    assert run_cli(capsys, "access", "--path", str(project), "--no-forceignore") == (
        0,
        "Scratch admin [integration] (declared in .sflint.yml:2)\n"
        f"  ├─ TwoFactorApi  ← profile Admin  ({admin}:5)\n",
        "",
    )
    _, out, _ = run_cli(
        capsys,
        "check",
        str(project),
        "--no-forceignore",
        "--select",
        "SFL001,SFL011",
        "--format",
        "json",
    )
    assert _findings(out) == [("SFL001", admin, 5, "Scratch admin")]


def test_init_writes_the_file_config_names(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reference = copy_example(tmp_path, "reference")
    (reference / ".sflint.yml").unlink()
    assert run_cli(capsys, "init", "--path", str(reference))[0] == 0
    project = copy_example(tmp_path)
    (project / ".sflint.yml").unlink()
    target = tmp_path / "custom.yml"
    code, out, err = run_cli(capsys, "init", "--path", str(project), "--config", str(target))
    assert (code, err) == (0, "")
    assert out == (
        f"Wrote {target} with 2 detected integration persona(s).\n"
        f"  permission set Commission_App_API: {API_PSL}\n"
        f"  profile Minimum Access - API Only Integrations: {USER_LICENSE}\n"
    )
    assert target.read_text() == (reference / ".sflint.yml").read_text()
    assert not (project / ".sflint.yml").exists()
    # check --config reads what init --config wrote.
    _, out, _ = run_cli(
        capsys,
        "check",
        str(project),
        "--config",
        str(target),
        "--select",
        "SFL001",
        "--format",
        "json",
    )
    assert _findings(out) == [
        (
            "SFL001",
            f"{PS}/Commission_App_API.permissionset-meta.xml",
            24,
            "permission set Commission_App_API",
        )
    ]
    assert run_cli(capsys, "init", "--path", str(project), "--config", str(target)) == (
        2,
        "",
        f"sflint: error: {target} exists; --force overwrites it\n",
    )


def test_init_force_does_not_read_the_file_it_replaces(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = copy_example(tmp_path)
    (project / ".sflint.yml").write_text("personas: [\n")
    assert run_cli(capsys, "check", str(project))[0] == 2
    code, _, err = run_cli(capsys, "init", "--path", str(project), "--force")
    assert (code, err) == (0, "")
    assert run_cli(capsys, "check", str(project), "--fail-on", "never")[0] == 0


def test_init_no_forceignore_detects_what_check_detects(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = copy_example(tmp_path)
    (project / ".sflint.yml").unlink()
    with (project / ".forceignore").open("a") as ignore:
        ignore.write("**/permissionsets/Commission_App_API.permissionset-meta.xml\n")
    target = project / ".sflint.yml"

    assert run_cli(capsys, "access", "--path", str(project)) == (
        0,
        "\n".join(_profile_tree(USER_LICENSE)) + "\n",
        "",
    )
    _, out, _ = run_cli(capsys, "check", str(project), "--select", "SFL001", "--format", "json")
    assert _findings(out) == []
    assert run_cli(capsys, "init", "--path", str(project)) == (
        0,
        f"Wrote {target} with 1 detected integration persona(s).\n"
        f"  profile Minimum Access - API Only Integrations: {USER_LICENSE}\n",
        "",
    )
    target.unlink()

    _, out, _ = run_cli(
        capsys, "check", str(project), "--no-forceignore", "--select", "SFL001", "--format", "json"
    )
    assert _findings(out) == [
        (
            "SFL001",
            f"{PS}/Commission_App_API.permissionset-meta.xml",
            24,
            "permission set Commission_App_API",
        )
    ]
    assert run_cli(capsys, "init", "--path", str(project), "--no-forceignore") == (
        0,
        f"Wrote {target} with 2 detected integration persona(s).\n"
        f"  permission set Commission_App_API: {API_PSL}\n"
        f"  profile Minimum Access - API Only Integrations: {USER_LICENSE}\n",
        "",
    )


@pytest.mark.parametrize("command", ["access", "init"])
def test_path_rules_are_checks(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    missing = tmp_path / "no" / "such"
    expected = (2, "", f"sflint: error: {missing}: no such file or folder\n")
    assert run_cli(capsys, "check", str(missing)) == expected
    assert run_cli(capsys, command, "--path", str(missing)) == expected


def test_access_of_a_file_is_access_of_its_project(capsys: pytest.CaptureFixture[str]) -> None:
    file = EXAMPLE / PS / "Commission_App_API.permissionset-meta.xml"
    assert run_cli(capsys, "access", "--path", str(file)) == run_cli(
        capsys, "access", "--path", str(EXAMPLE)
    )


def test_access_rules_folders_load_like_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "rules"
    expected = (2, "", f"sflint: error: rule folder not found: {missing}\n")
    assert run_cli(capsys, "check", str(EXAMPLE), "--rules", str(missing)) == expected
    assert run_cli(capsys, "access", "--path", str(EXAMPLE), "--rules", str(missing)) == expected


def test_access_and_init_use_the_cache_like_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, _isolated_cache: Path
) -> None:
    def entries(*args: str) -> list[str]:
        shutil.rmtree(_isolated_cache, ignore_errors=True)
        assert run_cli(capsys, *args)[0] in (0, 1)
        if not _isolated_cache.is_dir():
            return []
        return sorted(p.name for p in _isolated_cache.iterdir())

    cached = entries("check", str(EXAMPLE))
    assert cached  # the rules and the example's .sflint.yml
    assert entries("access", "--path", str(EXAMPLE)) == cached
    assert entries("access", "--path", str(EXAMPLE), "--no-cache") == []

    project = copy_example(tmp_path)
    (project / ".sflint.yml").unlink()
    rules_only = entries("check", str(project))
    assert len(rules_only) == len(cached) - 1
    assert entries("init", "--path", str(project)) == rules_only
    (project / ".sflint.yml").unlink()
    assert entries("init", "--path", str(project), "--no-cache") == []
