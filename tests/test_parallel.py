"""Reading in worker processes gives what reading in one process gives, in the same order:
findings never depend on how many cores read the files."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from sflint.metadata import loader
from sflint.metadata.loader import read_all
from sflint.metadata.reader import parse_bytes
from sflint.model import ComponentType
from sflint.project import load_project
from sflint.settings import FailOn
from tests.conftest import CASES, EXAMPLE, copy_example, run_check


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers whatever the machine, and for any amount of bytes."""
    monkeypatch.setattr(loader, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(loader, "_workers", lambda: 2)


def _projects(corpus: Path | None) -> list[Path]:
    roots = [EXAMPLE, *sorted(p for p in CASES.iterdir() if p.is_dir())]
    if corpus is not None:
        roots += sorted(p for p in corpus.iterdir() if p.is_dir())
    return roots


def test_workers_read_what_one_process_reads_in_file_order(corpus: Path) -> None:
    for root in _projects(corpus):
        files = list(load_project(root).files)
        assert read_all(files, root, None, workers=2) == read_all(files, root, None, workers=1), (
            root
        )


def test_parallel_findings_are_the_serial_findings(corpus: Path, parallel: None) -> None:
    for root in _projects(corpus):
        fast = run_check(root, fail_on=FailOn.NEVER)
        with pytest.MonkeyPatch.context() as serial:
            serial.setattr(loader, "_workers", lambda: 1)
            slow = run_check(root, fail_on=FailOn.NEVER)
        assert fast.findings == slow.findings, root
        assert fast.suppressed == slow.suppressed, root


def test_workers_fill_the_cache_for_the_next_run(tmp_path: Path, parallel: None) -> None:
    project = copy_example(tmp_path)
    files, store = list(load_project(project).files), tmp_path / "cache"
    first = read_all(files, project, store)
    assert read_all(files, project, store, workers=1) == first
    (pack,) = (store / "parsed").glob("pack-*.json")
    assert len(json.loads(pack.read_bytes().partition(b"\n")[0])["files"]) == len(files)


def test_workers_parse_only_what_the_pack_lacks(
    tmp_path: Path, parallel: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every file touched (a fresh checkout with the cache restored): the workers read and
    hash each file again, and parse none whose bytes the pack holds."""
    project = copy_example(tmp_path)
    files, store = list(load_project(project).files), tmp_path / "cache"
    first = read_all(files, project, store)
    for f in files:
        f.path.touch()
    monkeypatch.setattr(loader, "parse_bytes", lambda *a: pytest.fail("parsed again"))
    assert read_all(files, project, store) == first


def test_batches_put_the_largest_files_first_and_cover_each_once() -> None:
    sizes = [10, 3_000_000, 5, 1_000_000, 1_500_000, 7]
    assert loader._batches(sizes) == [[1], [4, 3], [0, 5, 2]]


def test_what_a_worker_sends_without_a_cache_rebuilds_each_file_exactly(corpus: Path) -> None:
    """``_Wire`` (grants as plain tuples, rebuilt without their ``__new__``) gives back the
    very ParsedFile, through pickle as between processes: on every file of every project
    here, a refused one, repeated grants (count, also), object grants and problems."""
    refused = loader._refused(next(iter(load_project(EXAMPLE).files)), "is a FIFO (named pipe)")
    grant = b"<userPermissions><enabled>true</enabled><name>ApiEnabled</name></userPermissions>"
    objects = (
        b"<objectPermissions><allowRead>true</allowRead><object>A</object></objectPermissions>"
    )
    repeated = parse_bytes(
        b'<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        + (grant + b"\n") * 12
        + objects
        + b"<label>a</label><label>b</label></PermissionSet>",
        "ps/R.permissionset-meta.xml",
        ComponentType.PERMISSION_SET,
    )
    parsed = [("f.xml", refused), ("ps/R.permissionset-meta.xml", repeated)]
    for root in _projects(corpus):
        files = list(load_project(root).files)
        read = read_all(files, root, None, workers=1)
        parsed += [(f.rel, p) for f, (p, _) in zip(files, read, strict=True)]
    assert any(g.count > 1 for _, p in parsed for g in p.grants)
    assert any(p.object_grants for _, p in parsed) and any(p.problems for _, p in parsed)
    for path, one in parsed:
        sent = pickle.loads(pickle.dumps(loader._wired(one)))
        assert loader._unwired(sent, path) == one
        assert type(loader._unwired(sent, path)) is type(one)
