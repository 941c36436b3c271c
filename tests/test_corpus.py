"""Real metadata from public repositories: everything parses, nothing is a false alarm."""

from __future__ import annotations

from pathlib import Path

import pytest

from sflint.metadata.loader import read_file
from sflint.project import MetadataFile, classify
from sflint.settings import FailOn
from tests.conftest import CORPUS, run_check

# Without the corpus the one placeholder case is skipped by the ``corpus`` fixture, with its
# reason, instead of pytest's bare "empty parameter set".
PROJECTS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else ["-"]


def test_every_corpus_file_parses(corpus: Path) -> None:
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and classify(p) is not None)
    # Fragments other than user permissions (object, field, tab settings) are not read.
    assert len(files) == 143
    for path in files:
        kind = classify(path)
        assert kind is not None
        rel = path.relative_to(corpus).as_posix()
        parsed = read_file(MetadataFile(path, rel, kind[0], kind[1], kind[2]), corpus)
        assert parsed.problems == (), (rel, parsed.problems)


@pytest.mark.parametrize("name", PROJECTS)
def test_no_false_alarms_on_real_projects(corpus: Path, name: str) -> None:
    findings = run_check(corpus / name, fail_on=FailOn.NEVER).findings
    mfa = [f for f in findings if f.rule in ("SFL001", "SFL002", "SFL003", "SFL005", "SFL010")]
    assert mfa == []


def test_known_wrong_case_in_corpus_is_reported(corpus: Path) -> None:
    findings = run_check(corpus / "mcarvin8__sf-decomposer").findings
    assert {(f.rule, f.path, f.line) for f in findings} == {
        ("SFL004", "fixtures/package-dir-1/permissionsets/HR_Admin.permissionset-meta.xml", 45),
        ("SFL004", "fixtures/package-dir-1/profiles/SuperUser.profile-meta.xml", 21),
        (
            "SFL004",
            "fixtures/package-dir-2/mutingpermissionsets/HR_Admin.mutingpermissionset-meta.xml",
            45,
        ),
    }
