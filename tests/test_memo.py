"""The memo of the last run (``sflint.metadata.memo``): a re-run with nothing changed takes
its findings from it, and gives exactly what a run without any cache gives, on every case
and corpus project, for the whole project and for each file named alone; after an edit, or
with a damaged, foreign or linked memo, it is a miss and the findings are still those of a
run without a cache. Comments, exceptions and the baseline still apply to a hit."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from sflint.app import Triage, check
from sflint.metadata import cache, memo
from sflint.pipeline import load
from sflint.settings import LoadOptions
from tests.conftest import CASES, CORPUS, EXAMPLE
from tests.test_equivalence import _assert_equivalent, _check, _linted_files

CASE_PROJECTS = [EXAMPLE, *sorted(p for p in CASES.iterdir() if p.is_dir())]
CORPUS_PROJECTS = (
    sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else ["-"]
)


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[bool | None]:
    """Every record old enough to trust; returns what each lookup found: True a memo that
    holds, None a stale one (some files changed), False none."""
    real = cache.now_ns
    monkeypatch.setattr(cache, "now_ns", lambda: real() + 10 * 10**9)
    hits: list[bool | None] = []
    lookup = memo.lookup

    def spy(*args: object) -> memo.Hit | None:
        hit = lookup(*args)  # type: ignore[arg-type]
        hits.append(False if hit is None else None if hit.changed else True)
        return hit

    monkeypatch.setattr(memo, "lookup", spy)
    return hits


def _report(path: Path, base: Path, cache_dir: Path | None = None) -> dict[str, object]:
    """The whole JSON report (every field of every finding, suppressed ones, the summary)."""
    import json

    from sflint.batch import run
    from sflint.output import Format
    from sflint.settings import Options

    out, err = io.StringIO(), io.StringIO()
    options = Options(
        load=LoadOptions(paths=(path,), cache_dir=cache_dir),
        format=Format.JSON,
        path_base=base,
        allow_empty=True,
    )
    assert run(options, out, err) in (0, 1), err.getvalue()
    doc = json.loads(out.getvalue())
    assert isinstance(doc, dict)
    return doc


def _copy(source: Path, tmp_path: Path) -> Path:
    project = tmp_path / source.name
    shutil.copytree(source, project, symlinks=True)
    return project


def _memo_equivalence(source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _copy(source, tmp_path)
    base = project.resolve()
    store = tmp_path / "cache"
    hits = _spy(monkeypatch)
    cold = _check(project, base)
    assert _check(project, base, store) == cold  # writes the memo
    assert _check(project, base, store) == cold
    assert hits[-1], "the second run did not take its findings from the memo"
    # Byte for byte the report of a run without a cache, every field of every finding.
    assert _report(project, base, store) == _report(project, base)
    # Every file and folder named alone, from the whole project's memo.
    _assert_equivalent(project, store)
    # After an edit: a miss, and the findings of a run without a cache.
    files = _linted_files(project)
    assert files
    files[0].write_bytes(files[0].read_bytes().replace(b">", b">\n", 1) + b"<!-- x -->")
    hits.clear()
    assert _report(project, base, store) == _report(project, base)
    assert None in hits  # the edited file's project's (a folder may hold several)
    files[-1].write_bytes(b"<broken")
    assert _check(project, base, store) == _check(project, base)
    hits.clear()
    assert _check(project, base, store) == _check(project, base)
    assert all(hits)


@pytest.mark.parametrize("project", CASE_PROJECTS, ids=[p.name for p in CASE_PROJECTS])
def test_memo_gives_the_findings_of_a_run_without_cache(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _memo_equivalence(project, tmp_path, monkeypatch)


@pytest.mark.parametrize("name", CORPUS_PROJECTS)
def test_memo_on_corpus_projects(
    corpus: Path, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _memo_equivalence(corpus / name, tmp_path, monkeypatch)


def _memo_file(store: Path) -> Path:
    (found,) = (p for p in (store / "parsed").iterdir() if p.name.startswith("memo-"))
    return found


def _parts(path: Path) -> tuple[bytes, bytes]:
    """The memo's two bodies: the findings', and the light components'."""
    rest = path.read_bytes().partition(b"\n")[2]
    main, _, light = rest.partition(b"\n")
    return main, light


def _write(path: Path, main: bytes, light: bytes) -> None:
    """The memo with these bodies and their true digests."""
    import hashlib

    digests = b" ".join(hashlib.sha256(b).hexdigest().encode() for b in (main, light))
    path.write_bytes(digests + b"\n" + main + b"\n" + light)


def _damaged(path: Path, light: bool, body: bytes, digest: bool = False) -> None:
    """The memo with one body replaced by ``body``: with its true digest when ``digest``,
    else under the digest of what it replaced."""
    header = path.read_bytes().partition(b"\n")[0]
    main, rest = _parts(path)
    if digest:
        _write(path, main if light else body, body if light else rest)
        return
    path.write_bytes(header + b"\n" + (main + b"\n" + body if light else body + b"\n" + rest))


def _flip(path: Path, light: bool = False) -> None:
    data = bytearray(_parts(path)[light])
    data[-10] ^= 1
    _damaged(path, light, bytes(data))


def _truncate(path: Path, light: bool = False) -> None:
    if light:
        _damaged(path, True, _parts(path)[1][:-100])
    else:
        path.write_bytes(path.read_bytes()[: path.read_bytes().index(b"\n") + 1 + 100])


def _wrong_types(path: Path, light: bool = False) -> None:
    import re

    body = _parts(path)[light]
    # Still valid JSON with a valid digest, but a line is a string.
    pattern = rb'",8,"' if not light else rb",(\d+)\]"
    wrong = rb'","8","' if not light else rb',"\1"]'
    _damaged(path, light, re.sub(pattern, wrong, body, count=1), digest=True)


def _not_json(path: Path, light: bool = False) -> None:
    _damaged(path, light, b"[" * 100_000, digest=True)


def _link(path: Path, light: bool = False) -> None:
    elsewhere = path.with_name("elsewhere")
    path.rename(elsewhere)
    path.symlink_to(elsewhere)


def _fifo(path: Path, light: bool = False) -> None:
    path.unlink()
    os.mkfifo(path)


TAMPER: dict[str, Callable[[Path, bool], None]] = {
    "flipped": _flip,
    "truncated": _truncate,
    "wrong types": _wrong_types,
    "not json": _not_json,
    "link": _link,
    "fifo": _fifo,
}


@pytest.mark.parametrize("how", list(TAMPER))
def test_a_damaged_or_linked_memo_is_a_miss(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _copy(EXAMPLE, tmp_path)
    base = project.resolve()
    store = tmp_path / "cache"
    hits = _spy(monkeypatch)
    cold = _check(project, base)
    assert _check(project, base, store) == cold
    TAMPER[how](_memo_file(store), False)
    hits.clear()
    assert _check(project, base, store) == cold
    assert hits == [False]


@pytest.mark.parametrize("how", [h for h in TAMPER if h not in ("link", "fifo")])
def test_damaged_light_components_are_not_used(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run with nothing changed never reads the light components; a run after an edit
    that finds them damaged reads the pack instead, and gives the findings of a run
    without a cache."""
    project = _copy(EXAMPLE, tmp_path)
    base = project.resolve()
    store = tmp_path / "cache"
    hits = _spy(monkeypatch)
    light: list[bool] = []
    real = memo.light

    def spy(hit: memo.Hit) -> object:
        got = real(hit)
        light.append(got is not None)
        return got

    monkeypatch.setattr(memo, "light", spy)
    _check(project, base, store)
    TAMPER[how](_memo_file(store), True)
    hits.clear()
    assert _check(project, base, store) == _check(project, base)
    assert hits == [True]
    assert light == []
    file = project / f"{PS}/Reporting_Sync.permissionset-meta.xml"
    file.write_bytes(file.read_bytes().replace(b"</label>", b" 2</label>", 1))
    hits.clear()
    assert _report(project, base, store) == _report(project, base)
    assert hits == [None]
    assert light == [False]
    # The memo written then holds them again.
    file.write_bytes(file.read_bytes().replace(b"</label>", b" 3</label>", 1))
    assert _report(project, base, store) == _report(project, base)
    assert light == [False, True]


def test_wrong_types_change_what_the_memo_would_say(tmp_path: Path) -> None:
    """The ``wrong types`` case above does damage a finding (it is not a no-op)."""
    project = _copy(EXAMPLE, tmp_path)
    store = tmp_path / "cache"
    _check(project, project.resolve(), store)
    before = _memo_file(store).read_bytes()
    _wrong_types(_memo_file(store))
    assert _memo_file(store).read_bytes() != before


def test_exceptions_and_the_baseline_still_apply_to_a_hit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The memo holds the findings before any is accepted: an exception that expires, and a
    baseline written after the memo, take effect on a hit as on a run without a cache."""
    from sflint.batch import read_baseline
    from sflint.commands_baseline import write_baselines

    project = _copy(EXAMPLE, tmp_path)
    store = tmp_path / "cache"
    hits = _spy(monkeypatch)
    config = project / ".sflint.yml"
    config.write_text(
        config.read_text()
        + "exceptions:\n  - rule: SFL001\n    component: Sales_Data_Access\n"
        + "    reason: r\n    expires: 2030-01-31\n"
    )

    def run(cache_dir: Path | None, today: date) -> list[tuple[str, str, int, str]]:
        options = LoadOptions(paths=(project,), cache_dir=cache_dir, memo=cache_dir is not None)
        loaded = load(options)
        if loaded.pending is not None:
            done = check(loaded, Triage(True, read_baseline(None, project), None, today))
            memo.store(
                loaded.pending, done.evaluated, loaded.components, done.scope, done.unchecked
            )
        checked = check(loaded, Triage(True, read_baseline(None, project), None, today))
        return [
            (f.rule, f.path, f.line, f.waiver.kind.value if f.waiver else "")
            for f in (*checked.findings, *checked.suppressed)
        ]

    before, after = date(2030, 1, 31), date(2030, 2, 1)
    assert run(store, before) == run(None, before)  # writes the memo
    for today in (before, after):
        hits.clear()
        assert run(store, today) == run(None, today)
        assert hits == [True]
    sales = "integrations/main/default/permissionsets/Sales_Data_Access.permissionset-meta.xml"
    assert ("SFL001", sales, 8, "exception") in run(store, before)
    assert ("SFL001", sales, 8, "") in run(store, after)
    # A baseline written after the memo: the hit's findings go through it.
    assert write_baselines(LoadOptions(paths=(project,)), None, io.StringIO()) == 0
    for today in (before, after):
        hits.clear()
        assert run(store, today) == run(None, today)
        assert hits == [True]
    assert {w for *_, w in run(store, before)} == {"baseline", "exception"}
    # The exception expired after the baseline was written: its finding is new.
    assert [f for f in run(store, after) if not f[3]] == [("SFL001", sales, 8, "")]


PS = "force-app/main/default/permissionsets"
LOADER = "integrations/main/default/permissionsets"
GROUP = "force-app/main/default/permissionsetgroups/Integration_Base.permissionsetgroup-meta.xml"
GRANT = "<userPermissions><enabled>true</enabled><name>TwoFactorApi</name></userPermissions>"

# Edits after which only what the edited file can change is evaluated again (the personas
# and which members exist are as they were), and edits after which everything is.
EDITS: dict[str, tuple[str, bytes, bytes, bool]] = {
    "a label": (f"{PS}/Reporting_Sync.permissionset-meta.xml", b"</label>", b" 2</label>", True),
    "a grant through the group": (
        f"{PS}/Reporting_Sync.permissionset-meta.xml",
        b"</PermissionSet>",
        GRANT.encode() + b"</PermissionSet>",
        True,
    ),
    "a member dropped": (GROUP, b"<permissionSets>Sales_Data_Access</permissionSets>", b"", False),
    "a member that is missing": (
        GROUP,
        b"<status>",
        b"<permissionSets>Nowhere</permissionSets><status>",
        False,
    ),
    "a grant in a set no persona holds": (
        f"{LOADER}/Data_Loader_Users.permissionset-meta.xml",
        b"</PermissionSet>",
        GRANT.encode() + b"</PermissionSet>",
        True,
    ),
    "a member added": (
        GROUP,
        b"<status>",
        b"<permissionSets>Data_Loader_Users</permissionSets><status>",
        False,
    ),
    "a set that becomes a persona": (
        f"{LOADER}/Data_Loader_Users.permissionset-meta.xml",
        b"</PermissionSet>",
        GRANT.replace("TwoFactorApi", "ApiUserOnly").encode() + b"</PermissionSet>",
        False,
    ),
    "a profile's license": (
        "force-app/main/default/profiles/Custom%3A Sales Profile.profile-meta.xml",
        b"<userLicense>Salesforce</userLicense>",
        b"<userLicense>Salesforce Integration</userLicense>",
        False,
    ),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_after_an_edit_only_what_it_changes_is_evaluated_again(
    edit: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sflint.app

    project = _copy(EXAMPLE, tmp_path)
    base = project.resolve()
    store = tmp_path / "cache"
    hits = _spy(monkeypatch)
    again: list[tuple[str, ...]] = []
    real = sflint.app._again

    def spy(loaded: object, stale: memo.Hit) -> object:
        again.append(stale.changed)
        return real(loaded, stale)  # type: ignore[arg-type]

    monkeypatch.setattr(sflint.app, "_again", spy)
    light: list[bool] = []
    real_light = memo.light

    def spy_light(hit: memo.Hit) -> object:
        got = real_light(hit)
        light.append(got is not None)
        return got

    monkeypatch.setattr(memo, "light", spy_light)
    _check(project, base, store)
    rel, old, new, incremental = EDITS[edit]
    file = project / rel
    before = _check(project, base)
    assert old in file.read_bytes()
    file.write_bytes(file.read_bytes().replace(old, new, 1))
    cold = _check(project, base)
    assert cold != before or edit in ("a label", "a member added", "a profile's license")
    hits.clear()
    assert _report(project, base, store) == _report(project, base)
    assert _check(project, base, store) == cold
    assert hits[0] is None  # the memo, stale
    assert again[0] == (rel,) if incremental else not again
    # Read from the memo's light components, not the pack.
    assert light and all(light)
    again.clear()
    # And the memo written after it is whole again: the next run takes everything from it.
    assert _check(project, base, store) == cold
    assert hits[-1] is True
    assert not again


def test_a_file_written_again_with_the_same_bytes_is_no_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A touch, a checkout of the same bytes or a record too recent to trust: the file is
    read and hashed, nothing is evaluated, and the memo's records are renewed."""
    import sflint.app

    project = _copy(EXAMPLE, tmp_path)
    base = project.resolve()
    store = tmp_path / "cache"
    hits = _spy(monkeypatch)
    cold = _report(project, base)
    assert _report(project, base, store) == cold
    evaluated: list[object] = []
    real = sflint.app.evaluate_all

    def spy(*args: object) -> object:
        evaluated.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(sflint.app, "evaluate_all", spy)
    file = project / f"{PS}/Reporting_Sync.permissionset-meta.xml"
    data = file.read_bytes()
    file.unlink()
    file.write_bytes(data)  # a new inode: the record no longer matches
    hits.clear()
    assert _report(project, base, store) == cold
    assert hits == [None]
    assert not evaluated
    assert _report(project, base, store) == cold
    assert hits == [None, True]  # the records were renewed


# Changes to what the memo's key holds (the files found, the config): a miss, whole.
def _delete(project: Path) -> None:
    (project / f"{LOADER}/Data_Loader_Users.permissionset-meta.xml").unlink()


def _rename(project: Path) -> None:
    old = project / f"{LOADER}/Data_Loader_Users.permissionset-meta.xml"
    old.rename(old.with_name("Data_Loaders.permissionset-meta.xml"))


def _add(project: Path) -> None:
    old = project / f"{LOADER}/Data_Loader_Users.permissionset-meta.xml"
    old.with_name("Another.permissionset-meta.xml").write_bytes(old.read_bytes())


def _persona(project: Path) -> None:
    config = project / ".sflint.yml"
    text = config.read_text()
    config.write_text(
        text.replace("[Commission_App_API]", "[Commission_App_API, Data_Loader_Users]")
    )
    assert config.read_text() != text


KEYED: dict[str, Callable[[Path], None]] = {
    "a file deleted": _delete,
    "a file renamed": _rename,
    "a file added": _add,
    "a persona changed in .sflint.yml": _persona,
}


@pytest.mark.parametrize("change", list(KEYED))
def test_after_a_change_to_what_the_key_holds_the_memo_misses(
    change: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _copy(EXAMPLE, tmp_path)
    base = project.resolve()
    store = tmp_path / "cache"
    hits = _spy(monkeypatch)
    _report(project, base, store)
    KEYED[change](project)
    hits.clear()
    assert _report(project, base, store) == _report(project, base)
    assert hits == [False]
    assert _report(project, base, store) == _report(project, base)
    assert hits[-1] is True


def test_the_memo_keeps_every_field_of_a_finding_and_of_what_the_filters_read() -> None:
    """A field added to ``Finding`` (or to what the waivers and the report read of a
    component) must be written to the memo too: a hit would otherwise give its default."""

    from sflint.model import (
        CloneNaming,
        Component,
        ComponentType,
        Confidence,
        Finding,
        FixOption,
        Item,
        Location,
        Severity,
        Suppression,
    )

    finding = Finding(
        rule="SFL001",
        name="a-name",
        severity=Severity.WARNING,
        path="a.xml",
        line=3,
        message="a message",
        component_type=ComponentType.PROFILE,
        component_name="c",
        key="k",
        persona="p",
        fixes=(FixOption("i", "t", ("s",), "disable-permission", CloneNaming("_x", " x")),),
        related_paths=("b.xml",),
        confidence=Confidence.LOW,
        occurrences=3,
        lines=(3, 9, 12),
        items=(Item("Account", Location("a.xml", 3), (("object", "Account"),), 2),),
    )
    defaults = Finding("r", "n", Severity.NOTE, "p", 1, "m", None, "", "")
    # Every field but the waiver (set only after the memo, by the filters) differs from its
    # default here, so a field the memo forgets cannot round-trip by chance.
    unset = {name for name in Finding._fields if getattr(finding, name) == getattr(defaults, name)}
    assert unset == {"waiver"}
    assert memo._finding(memo._encode_finding(finding)) == finding
    assert memo._finding(
        memo._encode_finding(finding._replace(component_type=None))
    ) == finding._replace(component_type=None)
    component = Component(
        ComponentType.PERMISSION_SET,
        "S",
        ("a.xml", "b.xml"),
        label="L",
        suppressions=(Suppression(("SFL001",), Location("a.xml", 4), True, "why"),),
    )
    assert memo._component(memo._encode_component(component)) == component
