"""Shared test helpers: paths, the shared corpus, and running checks in-process."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from sflint.app import Checked, check
from sflint.pipeline import load
from sflint.settings import LoadOptions

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = ROOT / "testdata"
EXAMPLE = TESTDATA / "projects" / "commission-app"
CASES = TESTDATA / "cases"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"

_EXPECT = re.compile(r"expect:\s*((?:[A-Z]+\d{3}\s*)+)")


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The CLI's cache goes to the test session's temporary folder, never the user's."""
    cache = tmp_path_factory.getbasetemp() / "sflint-cache"
    monkeypatch.setenv("SFLINT_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not beside the project ({CORPUS} is absent)")
    return CORPUS


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``sflint ARGS`` in-process: (exit code, stdout, stderr)."""
    from sflint.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def copy_example(tmp_path: Path, name: str = "p") -> Path:
    """A writable copy of the bundled example project."""

    project = tmp_path / name
    shutil.copytree(EXAMPLE, project)
    return project


def run_check(*paths: Path, **options: object) -> Checked:
    """One project's check, as ``sflint check PATHS`` runs it (``options``: LoadOptions)."""
    return check(load(LoadOptions(paths=paths, **options)))  # type: ignore[arg-type]


def expected_markers(project: Path) -> list[tuple[str, str, int]]:
    """(rule, path, line) from ``expect: RULE ...`` comments: each marks the next line that
    is not itself a marker (`<!-- expect: SFL001 -->` in XML, `# expect: SFL011` in YAML)."""
    out: list[tuple[str, str, int]] = []
    for file in sorted(project.rglob("*")):
        if not file.is_file() or file.suffix == ".json":
            continue
        text = file.read_bytes().decode("utf-8", errors="replace")
        lines = text.splitlines()
        rel = file.relative_to(project).as_posix()
        for i, line in enumerate(lines):
            mo = _EXPECT.search(line)
            if mo is None:
                continue
            target = i + 1
            while target < len(lines) and _EXPECT.search(lines[target]):
                target += 1
            for rule in mo.group(1).split():
                out.append((rule, rel, target + 1))
    return sorted(out)


def pytest_configure(config: pytest.Config) -> None:
    # Deselect with `-m "not slow"`: these tests build wheels, create environments and
    # install from PyPI (tests/test_precommit.py, tests/test_packaging.py).
    config.addinivalue_line("markers", "slow: builds wheels or environments; needs PyPI")
