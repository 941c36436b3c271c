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


def _digest(body: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-10] ^= 1
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def _wrong_types(path: Path) -> None:
    body = path.read_bytes().partition(b"\n")[2]
    # Still valid JSON with a valid digest, but a finding's line is a string.
    path.write_bytes(_digest(body.replace(b'",8,"', b'","8","', 1)))


def _not_json(path: Path) -> None:
    path.write_bytes(_digest(b"[" * 100_000))


def _link(path: Path) -> None:
    elsewhere = path.with_name("elsewhere")
    path.rename(elsewhere)
    path.symlink_to(elsewhere)


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


TAMPER: dict[str, Callable[[Path], None]] = {
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
    TAMPER[how](_memo_file(store))
    hits.clear()
    assert _check(project, base, store) == cold
    assert hits == [False]


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
    _check(project, base, store)
    rel, old, new, incremental = EDITS[edit]
    file = project / rel
    before = _check(project, base)
    file.write_bytes(file.read_bytes().replace(old, new, 1))
    cold = _check(project, base)
    assert cold != before or edit == "a label"
    hits.clear()
    assert _check(project, base, store) == cold
    assert hits == [None]  # the memo, stale
    assert again == ([(rel,)] if incremental else [])
    # And the memo written after it is whole again: the next run takes everything from it.
    assert _check(project, base, store) == cold
    assert hits[-1] is True
    assert len(again) == (1 if incremental else 0)


def test_the_memo_keeps_every_field_of_a_finding_and_of_what_the_filters_read() -> None:
    """A field added to ``Finding`` (or to what the waivers and the report read of a
    component) must be written to the memo too: a hit would otherwise give its default."""
    from dataclasses import fields, replace

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
    unset = {
        f.name for f in fields(Finding) if getattr(finding, f.name) == getattr(defaults, f.name)
    }
    assert unset == {"waiver"}
    assert memo._finding(memo._encode_finding(finding)) == finding
    assert memo._finding(memo._encode_finding(replace(finding, component_type=None))) == replace(
        finding, component_type=None
    )
    component = Component(
        ComponentType.PERMISSION_SET,
        "S",
        ("a.xml", "b.xml"),
        label="L",
        suppressions=(Suppression(("SFL001",), Location("a.xml", 4), True, "why"),),
    )
    assert memo._component(memo._encode_component(component)) == component
