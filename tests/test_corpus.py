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
    # Fragments other than user and object permissions (field, tab, class settings) are not
    # read; the objectSettings files of beta2 are, for their object permissions.
    assert len(files) == 160
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


SDR = "forcedotcom__source-deploy-retrieve/test/snapshot/sampleProjects"
DECOMPOSED_ROOT = "__snapshots__/verify-source-files.expected"
DECOMPOSED = "force-app/main/default/permissionsets"


@pytest.mark.parametrize(
    ("preset", "name"),
    [
        ("preset-PermSet", "dreamhouse"),
        ("preset-decomposedPS2", "dreamhouse"),
        ("preset-decomposedPS2", "ebikes"),
    ],
)
def test_decomposed_sets_grant_the_object_access_of_their_originals(
    corpus: Path, preset: str, name: str
) -> None:
    """The Salesforce CLI's own decompositions (beta: objectPermissions/ files; beta2:
    objectSettings/ files) give the object access of the Metadata API file they came from."""
    from sflint.metadata.loader import load_components
    from sflint.project import load_project

    def objects(root: Path, folder: str) -> set[tuple[str, tuple[str, ...]]]:
        project = load_project(root)
        (component,) = [
            c
            for c in load_components(project.files, root)
            if c.name == name and c.location.path.startswith(folder)
        ]
        return {(o.object, tuple(a.value for a in o.access)) for o in component.object_grants}

    base = corpus / SDR / preset
    original = objects(base / "originalMdapi", "permissionsets/")
    # The copy in the set's own folder (preset-PermSet's snapshot also has a whole file).
    decomposed = objects(base / DECOMPOSED_ROOT, f"{DECOMPOSED}/{name}/")
    assert original and decomposed == original
