"""The wheel: it carries the built-in rules and the permission catalogue, and an installed
sflint (outside this checkout) finds them.

Builds with ``python -m build`` (isolated, so hatchling comes from the package index) and
installs into a fresh venv from PyPI: slow, deselect with ``-m "not slow"``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "testdata" / "projects" / "commission-app"

pytestmark = pytest.mark.slow


def _run(*cmd: str | Path, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", NO_COLOR="1")
    # An installed sflint must not see this checkout through the environment.
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = _run(sys.executable, "-m", "build", "--wheel", "--outdir", out, ROOT, cwd=out)
    if result.returncode != 0:
        pytest.fail(f"python -m build failed:\n{result.stdout}\n{result.stderr}")
    (built,) = out.glob("sflint-*.whl")
    return built


def test_wheel_carries_rules_and_data(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        scripts = zf.read(entry_points).decode()
    assert "sflint/builtin_rules/SFL001-integration-api-mfa.yaml" in names
    assert "sflint/builtin_rules/validated.json" in names  # the rules, validated
    assert "sflint/data/user-permissions.tsv" in names
    assert "sflint/py.typed" in names
    shipped = {n.rsplit("/", 1)[1] for n in names if n.startswith("sflint/builtin_rules/")}
    assert {p.name for p in (ROOT / "rules").glob("*.yaml")} <= shipped
    assert "sflint = sflint.entry:main" in scripts
    assert not any(n.startswith(("tests/", "testdata/", "bench/")) for n in names)


def test_installed_wheel_finds_builtin_rules(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    made = _run(sys.executable, "-m", "venv", venv, cwd=tmp_path, timeout=300)
    assert made.returncode == 0, made.stderr
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    installed = _run(bin_dir / "python", "-m", "pip", "install", "--quiet", wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    where = _run(bin_dir / "python", "-c", "import sflint; print(sflint.__file__)", cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr

    result = _run(bin_dir / "sflint", "check", EXAMPLE, "--format", "json", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["schema"] == "sflint/findings/v1"
    assert "SFL001" in {f["rule"] for f in report["findings"]}
