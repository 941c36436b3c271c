"""What you name is what is linted (issue 10, item 2): for every permission file of every
case project, the example and every corpus project, the findings of a run on that one file
(and on each folder holding such files) are the findings of the whole-project run that it
causes: those located in the file (or folder) are the same, and every other one (a member
set's SFL001 through a changed group) is one of the whole run's. Compared as (rule, path,
line, message), paths from one base."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from sflint.batch import run
from sflint.metadata import cache, memo
from sflint.output import Format
from sflint.project import SKIP_DIRS, Project, classify, load_project, locate
from sflint.settings import LoadOptions, Options
from tests.conftest import CASES, CORPUS, EXAMPLE

Found = list[tuple[str, str, int, str]]

CASE_PROJECTS = [EXAMPLE, *sorted(p for p in CASES.iterdir() if p.is_dir())]
CORPUS_PROJECTS = (
    sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else ["-"]
)


def _check(path: Path, base: Path, cache_dir: Path | None = None) -> Found:
    out, err = io.StringIO(), io.StringIO()
    options = Options(
        load=LoadOptions(paths=(path,), cache_dir=cache_dir),
        format=Format.JSON,
        path_base=base,
        allow_empty=True,
    )
    code = run(options, out, err)
    assert code in (0, 1), err.getvalue()
    doc = json.loads(out.getvalue())
    return sorted((f["rule"], f["path"], f["line"], f["message"]) for f in doc["findings"])


def _linted_files(folder: Path) -> list[Path]:
    """Every permission file below ``folder`` that a run on its own project reads (not one
    that .forceignore skips or that lies outside the package directories)."""
    projects: dict[Path, Project] = {}
    out = []
    for here, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            path = Path(here, name)
            if classify(path) is None:
                continue
            root = locate(path)
            if root.path not in projects:
                projects[root.path] = load_project(root.path, kind=root.kind)
            if any(f.path == path for f in projects[root.path].files):
                out.append(path)
    return out


def _assert_equivalent(project: Path, cache_dir: Path | None = None) -> None:
    base = project.resolve()
    whole = _check(project, base)
    if cache_dir is not None:
        assert _check(project, base, cache_dir) == whole  # and the cache is filled
    files = _linted_files(project)
    assert files, "no file to compare"
    for file in files:
        rel = file.resolve().relative_to(base).as_posix()
        alone = _check(file, base, cache_dir)
        at_file = [f for f in whole if f[1] == rel]
        assert [f for f in alone if f[1] == rel] == at_file, rel
        assert set(alone) <= set(whole), rel
    # A subfolder run: the findings located in it are the whole run's there.
    for folder in sorted({f.parent for f in files}):
        rel = folder.resolve().relative_to(base).as_posix() + "/"
        alone = _check(folder, base, cache_dir)
        assert [f for f in alone if f[1].startswith(rel)] == [
            f for f in whole if f[1].startswith(rel)
        ], rel
        assert set(alone) <= set(whole), rel


@pytest.mark.parametrize("project", CASE_PROJECTS, ids=[p.name for p in CASE_PROJECTS])
def test_one_file_run_equals_the_whole_run_on_case_projects(project: Path) -> None:
    _assert_equivalent(project)


@pytest.mark.parametrize("name", CORPUS_PROJECTS)
def test_one_file_run_equals_the_whole_run_on_corpus_projects(corpus: Path, name: str) -> None:
    _assert_equivalent(corpus / name)


def _warm(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every record old enough to trust, so that a second run takes every file from the
    pack; returns the paths decoded light. The memo of the last run is never used: it
    would leave nothing to decode (tests/test_memo.py holds it to the same findings)."""
    monkeypatch.setattr(memo, "lookup", lambda *args: None)
    real = cache.now_ns
    monkeypatch.setattr(cache, "now_ns", lambda: real() + 10 * 10**9)
    light: list[str] = []
    decode = cache.decode

    def spy(value: object, path: str, only: frozenset[str] | None = None) -> object:
        if only is not None:
            light.append(path)
        return decode(value, path, only)

    monkeypatch.setattr(cache, "decode", spy)
    return light


@pytest.mark.parametrize("project", CASE_PROJECTS, ids=[p.name for p in CASE_PROJECTS])
def test_a_run_on_named_files_from_a_warm_cache_equals_the_whole_run(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From a warm cache a run on named files decodes most components light (only what it
    evaluates and what its personas are built from whole): the findings stay the same."""
    light = _warm(monkeypatch)
    _assert_equivalent(project, tmp_path / "cache")
    assert light, "no file was decoded light"


@pytest.mark.parametrize("name", CORPUS_PROJECTS)
def test_a_run_on_named_files_from_a_warm_cache_on_corpus_projects(
    corpus: Path, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _warm(monkeypatch)
    _assert_equivalent(corpus / name, tmp_path / "cache")
