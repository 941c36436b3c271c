"""The cache of read files: a re-run opens only what changed, a damaged or foreign entry is
a miss (never a crash, never a different result), and the file-access policy still decides
every file, cached or not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sflint.metadata import cache, loader
from sflint.metadata.loader import read_all
from sflint.metadata.reader import ParsedFile
from sflint.project import MetadataFile, load_project
from tests.conftest import copy_example, run_cli

SET = "force-app/main/default/permissionsets/Commission_App_API.permissionset-meta.xml"


def files_of(project: Path) -> list[MetadataFile]:
    return list(load_project(project).files)


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> None:
    """Records are taken 10 s after now: every file's last change is old enough to trust."""
    real = cache.now_ns
    monkeypatch.setattr(cache, "now_ns", lambda: real() + 10 * 10**9)


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the loader opens (through the policy's ``Folders.read``)."""
    import os

    import sflint.safeio as safeio

    seen: list[str] = []
    real = safeio.Folders.read

    def spy(self: safeio.Folders, path: Path, limit: int) -> tuple[os.stat_result, bytes]:
        seen.append(Path(path).name)
        return real(self, path, limit)

    monkeypatch.setattr(safeio.Folders, "read", spy)
    return seen


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the reader parses."""
    seen: list[str] = []
    real = loader.parse_bytes  # type: ignore[attr-defined]

    def spy(data: bytes, path: str, *args: object) -> ParsedFile:
        seen.append(Path(path).name)
        return real(data, path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(loader, "parse_bytes", spy)
    return seen


def test_a_rerun_opens_nothing_and_an_edit_reads_one_file(
    tmp_path: Path, later: None, opened: list[str], parsed: list[str]
) -> None:
    project = copy_example(tmp_path)
    files, store = files_of(project), tmp_path / "cache"
    plain = read_all(files, project, None, workers=1)
    opened.clear()
    parsed.clear()
    assert read_all(files, project, store, workers=1) == plain
    assert len(opened) == len(files) == len(parsed)
    opened.clear()
    parsed.clear()
    assert read_all(files, project, store, workers=1) == plain
    assert (opened, parsed) == ([], [])
    edited = project / SET
    edited.write_text(edited.read_text().replace("Commission App API", "Edited label"))
    after = read_all(files, project, store, workers=1)
    assert (opened, parsed) == ([edited.name], [edited.name])
    assert [p.label for p, _ in after] == [
        "Edited label" if f.path == edited else p.label
        for f, (p, _) in zip(files, plain, strict=True)
    ]


def test_a_record_of_a_file_changed_just_before_it_was_read_is_not_trusted(
    tmp_path: Path, opened: list[str], parsed: list[str]
) -> None:
    """Without the later clock, every file was changed "now": the second run reads every
    file again (same bytes, so it parses none)."""
    project = copy_example(tmp_path)
    files, store = files_of(project), tmp_path / "cache"
    first = read_all(files, project, store, workers=1)
    opened.clear()
    parsed.clear()
    assert read_all(files, project, store, workers=1) == first
    assert len(opened) == len(files)
    assert parsed == []


def _pack(store: Path) -> Path:
    (pack,) = (store / "parsed").glob("pack-*.json")
    return pack


def pack_header(store: Path) -> dict[str, Any]:
    """The pack's first line: its records, and where each entry's text lies in the rest."""
    header = json.loads(_pack(store).read_bytes().partition(b"\n")[0])
    assert isinstance(header, dict)
    return header


def _entries(store: Path) -> dict[str, object]:
    """The pack's entries, each parsed from the JSON text the pack holds it as."""
    header, _, body = _pack(store).read_bytes().partition(b"\n")
    spans = json.loads(header)["entries"]
    assert isinstance(spans, dict)
    return {k: json.loads(body[a:b]) for k, (a, b) in spans.items()}


def _write_pack(store: Path, header: dict[str, Any], entries: dict[str, bytes]) -> None:
    """A pack as sflint writes one: the header, its entries' spans, the texts after it."""
    spans, body = {}, b""
    for key, text in entries.items():
        spans[key] = [len(body), len(body) + len(text)]
        body += text
    doc = {**header, "entries": spans}
    _pack(store).write_bytes(json.dumps(doc).encode() + b"\n" + body)


def _rewrite_entries(store: Path, change: object) -> None:
    """Every entry of the pack replaced by ``change(entry)``, as JSON text."""
    entries = _entries(store)
    texts = {k: json.dumps(change(v)).encode() for k, v in entries.items()}  # type: ignore[operator]
    _write_pack(store, pack_header(store), texts)


DAMAGE = {
    "not json": b"\x00{",
    "truncated": b'{"format": 4, "files": {"a": [[1, 2, 3, 4, 5], "k", 0]}, "entries": {',
    "no body": b'{"format": 4, "files": {}, "entries": {}}',
    "a list": b"[]\n",
    "another format": b'{"format": 1}\n',
    "the previous format": b'{"format": 3, "files": {}, "entries": {}}',
    "missing keys": b'{"format": 4, "files": {}}\n',
    "a span past the end": b'{"format": 4, "files": {}, "entries": {"k": [0, 9]}}\n{}',
    "a span backwards": b'{"format": 4, "files": {}, "entries": {"k": [2, 1]}}\n{}{}',
    "a span of a bool": b'{"format": 4, "files": {}, "entries": {"k": [false, 2]}}\n{}',
    "a span of three": b'{"format": 4, "files": {}, "entries": {"k": [0, 1, 2]}}\n{}',
    "deep": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_pack_is_a_miss(tmp_path: Path, later: None, damage: str) -> None:
    project = copy_example(tmp_path)
    files, store = files_of(project), tmp_path / "cache"
    plain = read_all(files, project, None, workers=1)
    read_all(files, project, store, workers=1)
    _pack(store).write_bytes(DAMAGE[damage])
    assert read_all(files, project, store, workers=1) == plain
    assert read_all(files, project, store, workers=1) == plain  # and it was written anew
    assert len(_entries(store)) == len(files)


ENTRY_DAMAGE = {
    "a list": [],
    "a string": "x",
    "another format": {"format": 1},
    "missing keys": {"format": 2, "root": "PermissionSet"},
    "deep": [[[[[[[[[[[]]]]]]]]]]],
}


@pytest.mark.parametrize("damage", ENTRY_DAMAGE)
def test_a_damaged_entry_is_a_miss(
    tmp_path: Path, later: None, damage: str, parsed: list[str]
) -> None:
    project = copy_example(tmp_path)
    files, store = files_of(project), tmp_path / "cache"
    plain = read_all(files, project, None, workers=1)
    read_all(files, project, store, workers=1)
    _rewrite_entries(store, lambda _: ENTRY_DAMAGE[damage])
    parsed.clear()
    assert read_all(files, project, store, workers=1) == plain
    assert len(parsed) == len(files)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("line", True),  # a bool is an int to Python, never a line
        ("line", 0),
        ("line", "3"),
        ("root", None),
        ("label", 5),
        ("grants", [["TwoFactorApi", "true", 3]]),
        ("grants", [["TwoFactorApi", True]]),
        ("grants", {"TwoFactorApi": True}),
        ("problems", [["message", 3, "fatal"]]),
        ("suppressions", [["SFL001", 3, False]]),
    ],
)
def test_an_entry_with_a_wrong_value_is_a_miss(
    tmp_path: Path, later: None, field: str, value: object
) -> None:
    project = copy_example(tmp_path)
    files, store = files_of(project), tmp_path / "cache"
    plain = read_all(files, project, None, workers=1)
    read_all(files, project, store, workers=1)

    def change(entry: object) -> object:
        assert isinstance(entry, dict)
        entry[field] = value
        assert cache.decode(entry, "x") is None
        return entry

    _rewrite_entries(store, change)
    assert read_all(files, project, store, workers=1) == plain


@pytest.mark.parametrize(
    "text",
    [
        "{",
        '{"format": 4, "files": {"x": [[1, 2, 3, 4], "k", 0]}, "entries": {}}\n',
        '{"format": 4, "files": [], "entries": {}}\n',
        '{"format": 4}\n',
    ],
)
def test_a_damaged_or_foreign_record_is_ignored(tmp_path: Path, later: None, text: str) -> None:
    project = copy_example(tmp_path)
    files, store = files_of(project), tmp_path / "cache"
    plain = read_all(files, project, None, workers=1)
    read_all(files, project, store, workers=1)
    _pack(store).write_text(text)
    assert read_all(files, project, store, workers=1) == plain


def test_a_pack_that_is_a_link_or_a_fifo_is_a_miss_and_never_followed(
    tmp_path: Path, later: None
) -> None:
    """A pack swapped for a link (to another project's pack, to /dev/zero) or a FIFO is not
    read; the run rewrites it as a regular file, and the link's target stays as it was."""
    import os

    project = copy_example(tmp_path)
    files, store = files_of(project), tmp_path / "cache"
    plain = read_all(files, project, None, workers=1)
    read_all(files, project, store, workers=1)
    pack = _pack(store)
    target = tmp_path / "elsewhere.json"
    target.write_bytes(pack.read_bytes())
    pack.unlink()
    pack.symlink_to(target)
    before = target.read_bytes()
    assert read_all(files, project, store, workers=1) == plain
    assert not pack.is_symlink() and target.read_bytes() == before
    pack.unlink()
    os.mkfifo(pack)
    assert read_all(files, project, store, workers=1) == plain


def test_a_touched_file_is_read_but_not_parsed(
    tmp_path: Path, later: None, opened: list[str], parsed: list[str]
) -> None:
    """Only the status changed (a checkout, a touch): the bytes' hash finds the entry."""
    project = copy_example(tmp_path)
    files, store = files_of(project), tmp_path / "cache"
    first = read_all(files, project, store, workers=1)
    (project / SET).touch()
    opened.clear()
    parsed.clear()
    assert read_all(files, project, store, workers=1) == first
    assert (opened, parsed) == ([Path(SET).name], [])


def test_an_edit_that_keeps_the_size_is_read(tmp_path: Path, later: None) -> None:
    """Same size, new bytes: the status (mtime, ctime) differs, so the file is read again
    and its new bytes find no entry."""
    project = copy_example(tmp_path)
    files, store = files_of(project), tmp_path / "cache"
    read_all(files, project, store, workers=1)
    target = project / SET
    target.write_bytes(target.read_bytes().replace(b"TwoFactorApi", b"TwoFactorApX"))
    fresh = read_all(files, project, store, workers=1)
    names = {g.name for p, _ in fresh for g in p.grants}
    assert "TwoFactorApX" in names


def test_the_policy_still_decides_a_cached_file(tmp_path: Path, later: None) -> None:
    """A file read once and then replaced by a link out of the project is refused, not
    answered from the cache."""
    project = copy_example(tmp_path)
    files, store = files_of(project), tmp_path / "cache"
    read_all(files, project, store, workers=1)
    secret = tmp_path / "secret.xml"
    secret.write_text("<PermissionSet/>")
    target = project / SET
    target.unlink()
    target.symlink_to(secret)
    result = dict(
        zip([f.rel for f in files], read_all(files, project, store, workers=1), strict=True)
    )
    assert [p.message for p in result[SET][0].problems] == [
        "not read: it is a symbolic link to a file outside the project"
    ]


def test_no_cache_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_example(tmp_path)
    store = tmp_path / "store"
    monkeypatch.setenv("SFLINT_CACHE_DIR", str(store))
    run_cli(capsys, "check", str(project), "--no-cache", "--fail-on", "never")
    assert not store.exists()
    run_cli(capsys, "check", str(project), "--fail-on", "never")
    assert len(pack_header(store)["files"]) == len(files_of(project))


def test_cache_clear_removes_what_sflint_wrote_and_nothing_else(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_example(tmp_path)
    store = tmp_path / "store"
    monkeypatch.setenv("SFLINT_CACHE_DIR", str(store))
    run_cli(capsys, "check", str(project), "--fail-on", "never")
    written = sorted(p for p in store.rglob("*") if p.is_file())
    keep = [store / "notes.json", store / "parsed" / "mine.txt", store / ("a" * 63 + ".json")]
    for path in keep:
        path.write_text("mine")
    code, out, _ = run_cli(capsys, "cache", "clear")
    assert code == 0
    assert out == f"removed {len(written)} cache files from {store}\n"
    assert sorted(p for p in store.rglob("*") if p.is_file()) == sorted(keep)
    assert run_cli(capsys, "cache", "clear")[1] == f"removed 0 cache files from {store}\n"
