"""A memo of a project's last evaluation, so that a re-run with nothing changed skips
reading the pack, building the components and personas, and evaluating the rules.

One memo file per project beside its pack (``<cache dir>/parsed/memo-<hash>.json``), holding:

- a **key** over everything the evaluation reads besides the files' bytes: sflint's version
  and the status of each of its own files (code, catalogue; a checkout that changes under
  the same version changes the key), the config as loaded, the bytes of every rule file in
  the rule folders and the rules selected, the files found (path, type, name, role) and
  those ``.forceignore`` skipped, and the targets the evaluation was limited to, if any;
- each file's **record** (size, mtime, ctime, inode, device, content key), trusted exactly
  as the pack's records are (``cache.Record.trusted``, the file-access policy still asked);
- the **findings** the rules gave, before any comment, exception, baseline or
  ``--new-since`` is applied (``app.check`` applies them again on every run, so an expired
  exception or an edited baseline takes effect), and of each component what those filters
  and the report read: its type, name, files, label and suppression comments;
- in a second body, each component **light** (``light_rows``): all of it but its grants
  other than the first and the enabled ones ``access.Focus`` keeps, and its object grants.
  That is what the personas and the context read of a component, so a run after an edit
  reads, parses and evaluates again only the components with a changed file and those of
  the personas built from one (``metadata.loader.load_stale``); the pack is not read unless
  one of those is unchanged. A run with nothing changed never reads this body.

A memo is used only when every file's record is trusted and the key is equal; a run that
misses evaluates as always and writes the memo again. Like the pack it is data, never
pickle: the file is opened without following a link, must be a regular file within a size
limit, carries the SHA-256 of each body (a truncated or corrupted memo is a miss), and every
value is checked for its exact type; anything else is a miss, never a crash and never a
finding of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from sflint.metadata import cache
from sflint.model import (
    CloneNaming,
    Component,
    ComponentType,
    Confidence,
    Finding,
    FixOption,
    Grant,
    Item,
    Location,
    Member,
    Problem,
    ProblemKind,
    Severity,
    Suppression,
)

if TYPE_CHECKING:
    from sflint.access import Access, Index
    from sflint.config import Config
    from sflint.project import Project

# 2: the context, for a stale memo; 3: confidence; 4: occurrences, lines; 5: a fix
# option's refusal (a standard profile); 6: an aggregated finding's items; 7: the light
# components, a body of their own
_FORMAT = 7
_LIMIT = 256 * 1024 * 1024


class Hit(NamedTuple):
    """A memo that holds for this run: the findings, and the light components (no grants,
    members or problems: only what the filters and the report read)."""

    findings: tuple[Finding, ...]
    components: tuple[Component, ...]
    # The targets the findings were limited to (a run on named files); None: the whole project.
    scope: tuple[str, ...] | None
    # Detected personas that --min-confidence left unchecked, for the summary to count.
    unchecked: int = 0
    # The files whose records no longer hold (edited, or too recent to trust): when any, the
    # memo is stale, and only what they can change is evaluated again (``context``).
    changed: tuple[str, ...] = ()
    # What the findings of the components and personas that are not evaluated again depend
    # on besides their own files (``context``), as it was.
    context: str = ""
    # Each file's record as the memo holds it: trusted now for every file not ``changed``.
    records: Mapping[str, cache.Record] = MappingProxyType({})
    # The light components' body and its SHA-256, checked only when it is read (``light``).
    light_body: bytes = b""
    light_digest: bytes = b""
    # The bytes now of each file of ``changed``, once read again (``recheck``).
    fresh: Mapping[str, bytes] = MappingProxyType({})


class Pending(NamedTuple):
    """What a run that missed writes once it has its findings (``store``). A NamedTuple, not
    a dataclass: every run imports this module, and a dataclass compiles its methods when its
    class is created."""

    cache_dir: Path
    root: Path
    key: str
    records: dict[str, cache.Record]
    # The targets the run evaluates for (its key says so); None: the whole project.
    scope: tuple[str, ...] | None
    context: str = ""
    # The light components' body (``light_rows``, as JSON text); None: none is written, and
    # a run after an edit reads the pack instead.
    light: bytes | None = None


def _path(cache_dir: Path, root: Path, scoped: bool) -> Path:
    # A run on named files keeps its own memo, so that it never replaces the whole
    # project's, which serves every run.
    return cache.project_file(cache_dir, root, "focus" if scoped else "memo")


def _code_stamp() -> list[list[object]]:
    """Every file of the sflint package (code, catalogue data) by path, size and mtime."""
    package = str(Path(__file__).resolve().parent.parent)
    out: list[list[object]] = []
    for here, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        # What relpath gives for a folder below the package, without its system calls.
        rel = here[len(package) + 1 :] + os.sep if here != package else ""
        for name in sorted(files):
            st = os.stat(os.path.join(here, name))  # noqa: PTH116, PTH118
            out.append([rel + name, st.st_size, st.st_mtime_ns])
    return out


def _rule_files(folders: Sequence[Path]) -> list[list[str]]:
    """Every rule file's name and the SHA-256 of its bytes, as ``rules.loader.load_rules``
    finds them (a missing folder is an error there: here no key, so that it is raised)."""
    out = []
    for folder in folders:
        if not folder.is_dir():
            raise OSError(f"{folder}: not a folder")
        for file in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            out.append([str(file), hashlib.sha256(file.read_bytes()).hexdigest()])
    return out


def key(
    config: Config,
    floor: str,
    select: Sequence[str],
    ignore: Sequence[str],
    rule_dirs: Sequence[Path],
    project: Project,
    scope: tuple[str, ...] | None,
) -> str | None:
    """The key of an evaluation with these inputs; None when one of them cannot be read.
    The rules are keyed by their files' bytes and what selects them, not loaded: loading
    and selecting them is a function of those (and an error in them is never memoised: a
    memo is written only after a run that evaluated)."""
    from sflint import __version__

    try:
        parts = [
            _FORMAT,
            __version__,
            cache.READER_VERSION,
            _code_stamp(),
            repr(config),
            floor,
            _rule_files(rule_dirs),
            list(select),
            list(ignore),
            # ``_value_``: the member's value as a plain attribute (``value`` is a
            # descriptor call, twice per file of every run).
            [[f.rel, f.type._value_, f.name, f.role._value_] for f in project.files],
            list(project.forceignored),
            None if scope is None else list(scope),
        ]
    except OSError:
        return None
    text = json.dumps(parts, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def lookup(cache_dir: Path, project: Project, whole_key: str, run_key: str | None) -> Hit | None:
    """The memo of the whole ``project`` if its key is ``whole_key``, else the memo of this
    run on named files if its key is ``run_key``, provided every file's record is trusted
    now; else None."""
    hit = _lookup(_path(cache_dir, project.root, False), project, whole_key, None)
    if hit is not None and hit.changed and run_key is not None:
        hit = None  # a stale memo serves a run on the whole project only
    if hit is None and run_key is not None:
        hit = _lookup(_path(cache_dir, project.root, True), project, run_key, ())
        if hit is not None and hit.changed:
            hit = None
    return hit


def _lookup(
    path: Path, project: Project, wanted: str, scoped: tuple[str, ...] | None
) -> Hit | None:
    try:
        # Only a memo this user wrote (the cache folder may be shared by mistake).
        if hasattr(os, "geteuid") and os.lstat(path).st_uid != os.geteuid():
            return None
        raw = cache.read_regular(path, _LIMIT)
        header, _, rest = raw.partition(b"\n")
        digest, _, light_digest = header.partition(b" ")
        # JSON text holds no raw newline: the first one ends the first body.
        body, _, light_body = rest.partition(b"\n")
        if hashlib.sha256(body).hexdigest().encode() != digest:
            return None
        value = json.loads(body)
        if type(value) is not dict or value.get("format") != _FORMAT:
            return None
        if value.get("key") != wanted:
            return None
        status = _changed(project, value["files"])
        if status is None:
            return None
        changed, records = status
        scope = None if scoped is None else _strs(value["scope"])
        return Hit(
            tuple(_finding(f) for f in _list(value["findings"])),
            tuple(_component(c) for c in _list(value["components"])),
            scope,
            _count(value["unchecked"]),
            changed,
            _str(value["context"]),
            records,
            light_body,
            light_digest,
        )
    except (OSError, ValueError, RecursionError, KeyError, TypeError, cache.Invalid):
        return None


def _changed(
    project: Project, files: object
) -> tuple[tuple[str, ...], Mapping[str, cache.Record]] | None:
    """The files of the project whose record in ``files`` is not trusted now, under the
    file-access policy (as ``loader._known`` asks it), and every file's record; None when
    one cannot be read at all (then the run reads as without a memo, and reports it)."""
    from sflint.safeio import METADATA_LIMIT, Refused

    if type(files) is not dict or len(files) != len(project.files):
        return None
    # Names bound once and the signature built inline: this loop runs for every file of
    # every run that has a memo (1,550 files: a fifth of a warm run's own work).
    of, trusted = cache.Status(project.root).of, cache.trusted_record
    changed = []
    for file in project.files:
        try:
            st = of(file.path)
        except (Refused, OSError):
            return None
        if st.st_size > METADATA_LIMIT:
            return None
        now = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
        if not trusted(files[file.rel], now):
            changed.append(file.rel)
    return tuple(changed), _Records(files, tuple(f.rel for f in project.files))


class _Records(Mapping[str, cache.Record]):
    """The memo's records, each checked (``cache.trusted_record``) but built only when read:
    a run with nothing changed reads none of them, and building 1,550 costs 4 ms."""

    def __init__(self, rows: dict[str, object], order: tuple[str, ...]) -> None:
        self._rows = rows
        self._order = order  # the project's files, as the records were listed before

    def __getitem__(self, rel: str) -> cache.Record:
        return cache.record(self._rows[rel])

    def __iter__(self) -> Iterator[str]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)


def recheck(hit: Hit, project: Project) -> Hit | None:
    """``hit`` with the files it says changed read again: one whose bytes are those the memo
    recorded (a record too recent to trust, a touch) has its record renewed and is changed
    no more; the others' bytes are kept for the load (``Hit.fresh``). None when one is
    refused now (a whole load reports it).

    As ``metadata.loader`` reads a file, the status is taken before the bytes: an edit in
    between leaves a record that no longer matches."""

    from sflint.safeio import METADATA_LIMIT, Refused, check_regular, read_bytes

    by_rel = {f.rel: f for f in project.files}
    records = dict(hit.records)
    fresh = {}
    for rel in hit.changed:
        file = by_rel[rel]
        checked = cache.now_ns()
        try:
            st = check_regular(file.path, project.root).stat()
            data = read_bytes(file.path, project.root, METADATA_LIMIT)
        except (Refused, OSError):
            return None
        key = cache.content_key(data, file.type, file.role)
        if key != records[rel].key:
            fresh[rel] = data
        records[rel] = cache.Record(cache.signature(st), key, checked)
    return hit._replace(changed=tuple(fresh), records=records, fresh=fresh)


def context(components: Sequence[Component], accesses: Sequence[Access], index: Index) -> str:
    """What a component's or persona's findings depend on besides its own files and the
    key: every persona and what it is built from (the engine's ``members_by_kind`` comes
    from these), whether each member a group names is in the project (the one thing a
    matcher asks of the index, ``rules.matchers.Context``), and where the other copies of
    a component defined more than once are (``Component.duplicates``). When a run's context is the
    memo's, the findings of what it does not evaluate again are still the memo's."""
    personas = [
        [
            a.persona.name,
            a.persona.kind.value,
            a.persona.signal,
            a.persona.confidence.value,
            a.persona.location.path,
            a.persona.location.line,
            [[c.type.value, c.name, list(c.files)] for c in a.components],
            [[r.type.value, r.name] for r in (*a.unresolved, *a.missing_members)],
        ]
        for a in accesses
    ]
    members = [
        [c.type.value, c.name, c.location.path, m.name, muting, index.find(t, m.name) is not None]
        for c in components
        for muting, t, named in (
            (False, ComponentType.PERMISSION_SET, c.members),
            (True, ComponentType.MUTING_PERMISSION_SET, c.muting_members),
        )
        for m in named
    ]
    # A component defined more than once names where its other copies are (SFL015).
    copies = [
        [c.type.value, c.name, c.location.path, [[d.path, d.line] for d in c.duplicates]]
        for c in components
        if c.duplicates
    ]
    text = json.dumps([personas, members, copies], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def merged(
    old: Sequence[Finding],
    fresh: Sequence[Finding],
    paths: frozenset[str],
    personas: frozenset[str],
) -> list[Finding]:
    """The memo's findings with those of the components whose files are ``paths`` and of
    the ``personas`` evaluated again replaced by ``fresh``, in the engine's order. A
    component's findings lie in its own files (``engine.evaluate``); a persona's name it."""
    kept = [
        f for f in old if not (f.persona in personas if f.persona is not None else f.path in paths)
    ]
    return sorted([*kept, *fresh], key=lambda f: f.sort_key)


def store(
    pending: Pending,
    findings: Sequence[Finding],
    components: Sequence[Component],
    scope: tuple[str, ...] | None,
    unchecked: int = 0,
) -> None:
    """Write the memo of an evaluation that missed, if it evaluated for what its key says
    (``scope``: the targets it was limited to); a memo that cannot be written is simply not
    used."""
    if scope != pending.scope:
        return
    main = json.dumps(
        {
            "format": _FORMAT,
            "key": pending.key,
            "scope": None if scope is None else list(scope),
            "unchecked": unchecked,
            "context": pending.context,
            "files": {
                rel: [list(r.signature), r.key, r.checked_ns]
                for rel, r in sorted(pending.records.items())
            },
            "findings": [_encode_finding(f) for f in findings],
            "components": [_encode_component(c) for c in components],
        },
        separators=(",", ":"),
    ).encode("utf-8", "surrogateescape")
    light = pending.light if pending.light is not None and scope is None else b"null"
    digests = b" ".join(hashlib.sha256(b).hexdigest().encode() for b in (main, light))
    where = _path(pending.cache_dir, pending.root, scope is not None)
    cache.store_bytes(where, b"".join((digests, b"\n", main, b"\n", light)))


# --- light components ---------------------------------------------------------------------


def light_rows(components: Sequence[Component], keep: frozenset[str]) -> list[list[object]]:
    """Each component light, as the memo's second body holds it: every grant but its first
    and its enabled grants of ``keep`` left out, and its object grants (``access.Focus``:
    what the personas and the context read of a component)."""
    return [_encode_light(c, keep) for c in components]


def light_text(rows: Sequence[object]) -> bytes:
    return json.dumps(rows, separators=(",", ":")).encode("utf-8", "surrogateescape")


def light(hit: Hit) -> tuple[tuple[Component, ...], list[object]] | None:
    """The memo's light components (``light_rows``) in the order they were written, and the
    row each was decoded from (to write again as it was); None when the memo holds none, or
    its body is damaged (then the run after an edit reads the pack instead)."""
    body = hit.light_body
    try:
        if hashlib.sha256(body).hexdigest().encode() != hit.light_digest:
            return None
        rows = json.loads(body)
        if type(rows) is not list:
            return None
        return tuple(_light(row) for row in rows), rows
    except (ValueError, RecursionError, KeyError, TypeError, cache.Invalid):
        return None


def light_row(c: Component, keep: frozenset[str]) -> list[object]:
    return _encode_light(c, keep)


def _encode_light(c: Component, keep: frozenset[str]) -> list[object]:
    grants = [c.grants[0]] if c.grants else []
    grants += [g for g in c.grants[1:] if g.enabled and g.name in keep]
    return [
        c.type.value,
        c.name,
        list(c.files),
        c.label,
        c.license,
        c.user_license,
        c.custom,
        [
            [g.name, g.enabled, g.location.path, g.location.line, g.count, list(g.also)]
            if g.count > 1
            else [g.name, g.enabled, g.location.path, g.location.line]
            for g in grants
        ],
        [[m.name, m.location.path, m.location.line] for m in c.members],
        [[m.name, m.location.path, m.location.line] for m in c.muting_members],
        [[p.message, p.location.path, p.location.line, p.kind.value] for p in c.problems],
        [
            [list(s.rules), s.location.path, s.location.line, s.whole_file, s.reason]
            for s in c.suppressions
        ],
        None if c.anchor is None else [c.anchor.path, c.anchor.line],
        [[d.path, d.line] for d in c.duplicates],
    ]


# --- values <-> JSON ----------------------------------------------------------------------


def _encode_finding(f: Finding) -> list[object]:
    return [
        f.rule,
        f.name,
        f.severity.value,
        f.path,
        f.line,
        f.message,
        None if f.component_type is None else f.component_type.value,
        f.component_name,
        f.key,
        f.persona,
        [
            [
                o.id,
                o.title,
                list(o.steps),
                o.action,
                None if o.clone is None else [o.clone.name_suffix, o.clone.label_suffix],
                o.refusal,
            ]
            for o in f.fixes
        ],
        list(f.related_paths),
        f.confidence.value,
        f.occurrences,
        list(f.lines),
        [
            [i.key, i.location.path, i.location.line, [list(v) for v in i.values], i.count]
            for i in f.items
        ],
    ]


def _encode_component(c: Component) -> list[object]:
    return [
        c.type.value,
        c.name,
        list(c.files),
        c.label,
        [
            [list(s.rules), s.location.path, s.location.line, s.whole_file, s.reason]
            for s in c.suppressions
        ],
    ]


_str, _opt, _line, _bool = cache.as_str, cache.as_opt, cache.as_line, cache.as_bool
_list = cache.as_list
_SEVERITIES = {s.value: s for s in Severity}
_TYPES = {t.value: t for t in ComponentType}
_CONFIDENCES = {c.value: c for c in Confidence}


def _count(value: object) -> int:
    if type(value) is not int or value < 0:
        raise cache.Invalid
    return value


def _strs(value: object) -> tuple[str, ...]:
    return tuple(_str(v) for v in _list(value))


def _finding(value: object) -> Finding:
    row = _list(value)
    if len(row) != 16:
        raise cache.Invalid
    rule, name, severity, path, line, message, ctype, cname, key_, persona, fixes, related = row[
        :12
    ]
    how, occurrences, lines, items = row[12:]
    return Finding(
        rule=_str(rule),
        name=_str(name),
        severity=_SEVERITIES[_str(severity)],
        path=_str(path),
        line=_line(line),
        message=_str(message),
        component_type=None if ctype is None else _TYPES[_str(ctype)],
        component_name=_str(cname),
        key=_str(key_),
        persona=_opt(persona),
        fixes=tuple(_fix(o) for o in _list(fixes)),
        related_paths=_strs(related),
        confidence=_CONFIDENCES[_str(how)],
        occurrences=_line(occurrences),
        lines=tuple(_line(n) for n in _list(lines)),
        items=tuple(_item(i) for i in _list(items)),
    )


def _item(value: object) -> Item:
    row = _list(value)
    if len(row) != 5:
        raise cache.Invalid
    key_, path, line, values, count = row
    pairs = tuple(_strs(v) for v in _list(values))
    if any(len(p) != 2 for p in pairs):
        raise cache.Invalid
    named = tuple((p[0], p[1]) for p in pairs)
    return Item(_str(key_), Location(_str(path), _line(line)), named, _line(count))


def _fix(value: object) -> FixOption:
    row = _list(value)
    if len(row) != 6:
        raise cache.Invalid
    ident, title, steps, action, clone, refusal = row
    naming = None
    if clone is not None:
        parts = _strs(clone)
        if len(parts) != 2:
            raise cache.Invalid
        naming = CloneNaming(parts[0], parts[1])
    return FixOption(_str(ident), _str(title), _strs(steps), _opt(action), naming, _opt(refusal))


def _rows(value: object, width: int, *widths: int) -> list[list[object]]:
    rows = _list(value)
    for row in rows:
        if type(row) is not list or (len(row) != width and len(row) not in widths):
            raise cache.Invalid
    return rows  # type: ignore[return-value]  # every row was checked


def _at(path: object, line: object) -> Location:
    return Location(_str(path), _line(line))


def _light_grant(row: list[object]) -> Grant:
    name, enabled, path, line = row[:4]
    if type(name) is not str or type(enabled) is not bool or type(path) is not str:
        raise cache.Invalid
    if type(line) is not int or line < 1:
        raise cache.Invalid
    where = Location(path, line)
    if len(row) == 4:
        return Grant(name, enabled, where)
    count, also = _line(row[4]), tuple(_line(n) for n in _list(row[5]))
    if count < 2:
        raise cache.Invalid  # a count of 1 is a row of four
    return Grant(name, enabled, where, count, also)


_PROBLEMS = {k.value: k for k in ProblemKind}


def _light(value: object) -> Component:
    row = _list(value)
    if len(row) != 14:
        raise cache.Invalid
    ctype, name, files, label, license_, user_license, custom = row[:7]
    grants, members, muting, problems, marks, anchor, duplicates = row[7:]
    # Most components hold one or two grants and nothing else of lists: those skip the
    # general decoding (1,550 components: 15 ms to 7 ms). An empty list is ``== []`` and
    # nothing else is.
    return Component(
        type=_TYPES[_str(ctype)],
        name=_str(name),
        files=_strs(files),
        label=_opt(label),
        license=_opt(license_),
        user_license=_opt(user_license),
        custom=_opt(custom),
        grants=tuple(_light_grant(g) for g in _rows(grants, 4, 6)),
        members=() if members == [] else _members(members),
        muting_members=() if muting == [] else _members(muting),
        problems=() if problems == [] else _problems(problems),
        suppressions=() if marks == [] else _marks(marks),
        anchor=None if anchor is None else _anchor(anchor),
        duplicates=() if duplicates == [] else tuple(_anchor(d) for d in _list(duplicates)),
    )


def _anchor(value: object) -> Location:
    if type(value) is not list or len(value) != 2:
        raise cache.Invalid
    return _at(value[0], value[1])


def _members(value: object) -> tuple[Member, ...]:
    return tuple(Member(_str(n), _at(p, ln)) for n, p, ln in _rows(value, 3))


def _problems(value: object) -> tuple[Problem, ...]:
    return tuple(
        Problem(_str(m), _at(p, ln), _PROBLEMS[_str(k)]) for m, p, ln, k in _rows(value, 4)
    )


def _marks(value: object) -> tuple[Suppression, ...]:
    return tuple(
        Suppression(_strs(rules), _at(p, ln), _bool(whole), _str(reason))
        for rules, p, ln, whole, reason in _rows(value, 5)
    )


def _component(value: object) -> Component:
    row = _list(value)
    if len(row) != 5:
        raise cache.Invalid
    ctype, name, files, label, marks = row
    return Component(
        type=_TYPES[_str(ctype)],
        name=_str(name),
        files=_strs(files),
        label=_opt(label),
        suppressions=() if marks == [] else _marks(marks),
    )
