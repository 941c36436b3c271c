"""Assemble components from the project's files (decomposed sets from several files).

Reading is the expensive part of a run, so it is done once per changed file: with a cache
folder (``sflint.metadata.cache``), a file whose status is unchanged is not even opened, and
one whose bytes are known is not parsed. What is left is read in worker processes when it
is large enough to pay for them (``PARALLEL_BYTES``); results are always put back in file
order, so the output never depends on which process read what.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar
from urllib.parse import unquote

from sflint.kinds import Role
from sflint.metadata import cache
from sflint.metadata.reader import ParsedFile, parse_bytes
from sflint.model import (
    Component,
    ComponentType,
    Grant,
    Location,
    Member,
    ObjectAccess,
    ObjectGrant,
    Problem,
    ProblemKind,
    Suppression,
)
from sflint.project import MetadataFile

if TYPE_CHECKING:
    from sflint.safeio import Folders

EMPTY = cache.EMPTY

# Bytes to read above which files are read in worker processes. Two fork()ed workers cost
# about 30-45 ms of CPU in all (start, hand-over, results decoded here), and the reader does
# roughly 100 MB/s per core: on 2 cores they lost at 8 MB and won at 16 MB of 67 KB sets
# (bench/README.md, "Parallel threshold").
PARALLEL_BYTES = 16 * 1024 * 1024
# At most this many bytes (or one file, if larger) per task handed to a worker: small enough
# to balance two workers, large enough that a task is not mostly overhead.
_BATCH_BYTES = 2 * 1024 * 1024


def read_file(file: MetadataFile, root: Path | None) -> ParsedFile:
    return read_file_and_bytes(file, root)[0]


def read_file_and_bytes(file: MetadataFile, root: Path | None) -> tuple[ParsedFile, bytes | None]:
    """The parsed file and the bytes it was parsed from (None when it was not read).

    Read under the file-access policy (:mod:`sflint.safeio`): only a regular file inside
    ``root`` after resolving links, at most ``METADATA_LIMIT`` bytes. Anything else (a link
    out of the project, a loop, a FIFO, a device) is an invalid-metadata problem of its own
    at line 1 that says what the path is; it is never opened."""
    read = _read(file, root, None)
    return read.parsed, read.data


def _refused(file: MetadataFile, reason: str) -> ParsedFile:
    problem = Problem(f"not read: it {reason}", Location(file.rel, 1))
    return ParsedFile("", 1, problems=(problem,))


class _Result(NamedTuple):
    """One file read: what it says, its bytes (None when refused), its pack record (None
    without a cache or when refused), and its new entry as ``cache.encode`` writes it (None
    when the pack already holds it)."""

    parsed: ParsedFile
    data: bytes | None = None
    record: cache.Record | None = None
    entry: dict[str, Any] | None = None
    light: bool = False  # decoded light from the pack (cache.decode)


def _bytes(
    file: MetadataFile, folders: Folders, with_status: bool
) -> tuple[bytes, cache.Signature | None, int] | ParsedFile:
    """The file's bytes, its status (when asked) and when it was taken; or the refusal."""
    from sflint.safeio import METADATA_LIMIT, Refused

    checked = cache.now_ns()
    try:
        # The status is taken before the bytes: an edit in between leaves a record that no
        # longer matches, so the next run reads the file again.
        st, data = folders.read(file.path, METADATA_LIMIT)
    except Refused as exc:
        return _refused(file, exc.reason)
    except OSError as exc:  # the file went away between the checks
        return _refused(file, f"cannot be read: {exc.strerror}")
    return data, (cache.signature(st) if with_status else None), checked


def _folders(root: Path | None) -> Folders:
    from sflint.safeio import Folders

    return Folders(root)


def _read(
    file: MetadataFile,
    root: Path | None,
    pack: cache.Pack | None,
    folders: Folders | None = None,
) -> _Result:
    """Read one file, and parse it unless ``pack`` has an entry for its bytes (``folders``:
    the policy's folders resolved so far, for many files read in a row)."""
    got = _bytes(file, folders or _folders(root), pack is not None)
    if isinstance(got, ParsedFile):
        return _Result(got)
    data, sig, checked = got
    if pack is None or sig is None:
        return _Result(parse_bytes(data, file.rel, file.type, file.role), data)
    record = cache.Record(sig, cache.content_key(data, file.type, file.role), checked)
    parsed = pack.entry(record.key, file.rel)
    if parsed is not None:
        return _Result(parsed, data, record)
    parsed = parse_bytes(data, file.rel, file.type, file.role)
    return _Result(parsed, data, record, cache.encode(parsed))


_Status = cache.Status


def _known(
    file: MetadataFile,
    status: _Status,
    pack: cache.Pack,
    record: cache.Record,
    light: frozenset[str] | None = None,
) -> ParsedFile | None:
    """The cached result of ``file`` if its status is the one ``record`` trusts; the file
    is checked under the policy but not opened."""
    from sflint.safeio import METADATA_LIMIT, Refused

    try:
        st = status.of(file.path)
    except (Refused, OSError):
        return None  # read normally: the refusal is reported as a reading reports it
    if st.st_size > METADATA_LIMIT or not record.trusted(cache.signature(st)):
        return None
    return pack.entry(record.key, file.rel, light)


# A worker's result for one file. With a cache: the cache's JSON value (None when the pack
# already has the bytes' entry) and the pack record. Without one: ``_Wire``.
_Sent = tuple[dict[str, Any] | None, cache.Record | None] | tuple["_Wire", None]


class _Wire(NamedTuple):
    """A ParsedFile as a worker sends it when no cache wants its JSON value: its fields,
    with each grant and object grant as a plain tuple (its location's line for the
    location). Pickle builds a NamedTuple through its Python-level ``__new__`` and a
    dataclass through ``copyreg``, and the cache's decoding checks every value: here the
    grants, most of a file, are rebuilt in one C call each, and the ParsedFile in one call
    (``_unwired``), from values a worker of this run wrote."""

    root: str
    root_line: int
    texts: tuple[str | None, str | None, str | None, str | None]  # label .. custom
    grants: tuple[tuple[str, bool, int, int, tuple[int, ...]], ...]
    objects: tuple[tuple[str, tuple[ObjectAccess, ...], int], ...]
    members: tuple[Member, ...]
    muting: tuple[Member, ...]
    problems: tuple[Problem, ...]
    suppressions: tuple[Suppression, ...]


def _wired(p: ParsedFile) -> _Wire:
    return _Wire(
        p.root,
        p.root_line,
        (p.label, p.license, p.user_license, p.custom),
        tuple((g.name, g.enabled, g.location.line, g.count, g.also) for g in p.grants),
        tuple((o.object, o.access, o.location.line) for o in p.object_grants),
        p.members,
        p.muting_members,
        p.problems,
        p.suppressions,
    )


def _unwired(wire: _Wire, path: str) -> ParsedFile:
    """The ParsedFile a worker sent as ``wire``, its locations in ``path``."""
    new = tuple.__new__  # a NamedTuple from its fields in order, without its __new__
    label, license, user_license, custom = wire.texts
    return ParsedFile(
        wire.root,
        wire.root_line,
        label=label,
        license=license,
        user_license=user_license,
        custom=custom,
        grants=tuple(
            new(Grant, (name, enabled, new(Location, (path, line)), count, also))
            for name, enabled, line, count, also in wire.grants
        ),
        members=wire.members,
        muting_members=wire.muting,
        problems=wire.problems,
        suppressions=wire.suppressions,
        object_grants=tuple(
            new(ObjectGrant, (name, access, new(Location, (path, line))))
            for name, access, line in wire.objects
        ),
    )


def _read_batch(
    files: Sequence[MetadataFile], root: Path | None, expected: Sequence[str | None] | None
) -> list[_Sent]:
    """A worker's task: each file read, with its pack record. With a cache (``expected``,
    each file's key in the pack), as the cache's JSON values, which the pack stores: a file
    whose bytes still have its key is not parsed, and its value is None (the parent takes
    the pack's entry). Without, as ``_Wire`` (far cheaper to send between processes than
    the dataclasses, and to rebuild than the JSON values are to decode)."""
    out: list[_Sent] = []
    folders = _folders(root)
    for i, file in enumerate(files):
        got = _bytes(file, folders, expected is not None)
        if isinstance(got, ParsedFile):
            out.append((cache.encode(got), None) if expected is not None else (_wired(got), None))
            continue
        data, sig, checked = got
        if expected is None or sig is None:
            out.append((_wired(parse_bytes(data, file.rel, file.type, file.role)), None))
            continue
        record = cache.Record(sig, cache.content_key(data, file.type, file.role), checked)
        if record.key == expected[i]:
            out.append((None, record))
            continue
        out.append((cache.encode(parse_bytes(data, file.rel, file.type, file.role)), record))
    return out


def _workers() -> int:
    """``$SFLINT_WORKERS`` (1: read in this process only), else the CPUs this process may
    use (a container's limit can be lower than the machine's count)."""
    given = os.environ.get("SFLINT_WORKERS", "").strip()
    if given.isdigit() and int(given) > 0:
        return int(given)
    if hasattr(os, "process_cpu_count"):  # Python 3.13: the CPUs this process may use
        return int(os.process_cpu_count() or 1)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _batches(sizes: Sequence[int]) -> list[list[int]]:
    """Indexes into ``sizes`` in tasks of about _BATCH_BYTES, largest files first, so that
    the last task to finish is a small one."""
    batches: list[list[int]] = []
    size = _BATCH_BYTES
    for i in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        if size >= _BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(i)
        size += sizes[i]
    return batches


def _in_workers(
    files: Sequence[MetadataFile],
    sizes: Sequence[int],
    root: Path | None,
    pack: cache.Pack | None,
    workers: int,
) -> list[_Result]:
    """Read ``files`` in ``workers`` processes, this one included; results in the order
    of ``files``. fork (Linux) starts a worker with sflint already imported; elsewhere,
    spawn.

    Every task goes to a pool of ``workers - 1`` processes, largest first, and this
    process takes back the tasks no worker has started, smallest first, and reads them
    itself (``Future.cancel`` succeeds only on a task still waiting): what it reads needs
    no hand-over (encoded there, sent, decoded here: about a fifth of reading a file), and
    the work is shared as the processes actually get a CPU, not in fixed parts."""
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    # What parsing imports (lxml), imported before the fork: a forked worker inherits it
    # instead of importing it again, and this process reads some of the files anyway.
    import sflint.xmlsafe  # noqa: F401

    context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
    out: dict[int, _Result] = {}
    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=context) as pool:
        tasks: list[tuple[list[int], Future[list[_Sent]]]] = []
        for batch in _batches(sizes):
            chunk = [files[i] for i in batch]
            expected = None
            if pack is not None:
                expected = [r.key if (r := pack.records.get(f.rel)) else None for f in chunk]
            tasks.append((batch, pool.submit(_read_batch, chunk, root, expected)))
        folders = _folders(root)
        for batch, task in reversed(tasks):
            if not task.cancel():
                break  # a worker has it, and every larger task before it
            for i in batch:
                out[i] = _read(files[i], root, pack, folders)._replace(data=None)
        for batch, task in tasks:
            if task.cancelled():
                continue
            for i, (value, record) in zip(batch, task.result(), strict=True):
                out[i] = _decoded(files[i], root, pack, value, record)
    return [out[i] for i in range(len(files))]


def _decoded(
    file: MetadataFile,
    root: Path | None,
    pack: cache.Pack | None,
    value: dict[str, Any] | _Wire | None,
    record: cache.Record | None,
) -> _Result:
    """A worker's result as the parent keeps it."""
    if isinstance(value, _Wire):
        return _Result(_unwired(value, file.rel))
    if value is None:  # the bytes are the pack's entry
        known = pack.entry(record.key, file.rel) if pack is not None and record else None
        # A damaged entry: read here, as a miss.
        return _Result(known, None, record) if known is not None else _read(file, root, EMPTY)
    parsed = cache.decode(value, file.rel)
    if parsed is None:  # pragma: no cover - encode's output always decodes
        raise RuntimeError(f"a worker's result for {file.rel} does not decode")
    return _Result(parsed, None, record, value if record is not None else None)


def _size(file: MetadataFile) -> int:
    try:
        return file.path.stat().st_size
    except OSError:
        return 0


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Reading a large project builds a few hundred thousand small immutable values (grants
    and locations) that hold no reference cycles; Python's cyclic collector would walk all
    of them again and again as they accumulate (about a quarter of a warm run). It is off
    while they are built and back on, as it was, afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            # The values stay for the whole run: frozen, no collection walks them again
            # (the first one after re-enabling walked them all, 10-50 ms).
            gc.freeze()
            gc.enable()


def read_all(
    files: Sequence[MetadataFile],
    root: Path | None,
    cache_dir: Path | None = None,
    *,
    keep_bytes: bool = False,
    workers: int | None = None,
) -> list[tuple[ParsedFile, bytes | None]]:
    """Every file read (each inside ``root``), in the order of ``files``, with its bytes
    when ``keep_bytes`` (for rules that read files themselves; then every file is opened,
    and all in this process).

    With ``cache_dir``, a file whose status matches a trusted index record is not opened;
    the index is rewritten when anything changed. ``workers`` overrides the number of
    worker processes (1: none); by default they are used above PARALLEL_BYTES to read."""
    with _no_cyclic_gc():
        ordered, _ = _read_all(files, root, cache_dir, keep_bytes, workers)
    return [(r.parsed, r.data if keep_bytes else None) for r in ordered]


def _read_all(
    files: Sequence[MetadataFile],
    root: Path | None,
    cache_dir: Path | None,
    keep_bytes: bool,
    workers: int | None,
    light: frozenset[str] | None = None,
) -> tuple[list[_Result], cache.Pack | None]:
    """The files read, and the pack they were looked up in. With ``light``, a file known
    to the pack is decoded light (``cache.decode``) and its result says so."""
    # The pack is the project's: without a root there is none to key it by.
    use_pack = cache_dir is not None and root is not None
    pack = cache.load_pack(cache_dir, root) if cache_dir is not None and root else None
    results: dict[int, _Result] = {}
    status = _Status(root)
    for i, file in enumerate(files):
        record = pack.records.get(file.rel) if pack is not None else None
        if pack is not None and record is not None and not keep_bytes:
            known = _known(file, status, pack, record, light)
            if known is not None:
                results[i] = _Result(known, None, record, light=light is not None)
    todo = [i for i in range(len(files)) if i not in results]
    sizes = [_size(files[i]) for i in todo]
    count = min(workers if workers is not None else _workers(), len(todo))
    if count > 1 and not keep_bytes and sum(sizes) > PARALLEL_BYTES:
        read = _in_workers([files[i] for i in todo], sizes, root, pack, count)
        results.update(zip(todo, read, strict=True))
    else:
        folders = _folders(root)
        for i in todo:
            one = _read(files[i], root, pack, folders)
            # The bytes only when asked for: all of a project's would be held to the end.
            results[i] = one if keep_bytes else one._replace(data=None)
    ordered = [results[i] for i in range(len(files))]
    if use_pack and cache_dir is not None and root is not None and pack is not None:
        records = {f.rel: r.record for f, r in zip(files, ordered, strict=True) if r.record}
        if records != pack.records or any(r.entry is not None for r in ordered):
            entries = dict(pack.entries)
            for r in ordered:
                if r.entry is not None and r.record is not None:
                    entries[r.record.key] = r.entry
            cache.save_pack(cache_dir, root, records, entries)
    return ordered, pack


def build_components(files: Iterable[tuple[MetadataFile, ParsedFile]]) -> tuple[Component, ...]:
    """One component per copy of each (type, name); a copy's files are merged in path order.

    A decomposed set is one copy made of several files (its folder); a component defined
    twice (in two package directories, or in two formats) is two copies. The Salesforce CLI
    resolves both and a deploy keeps one, and which one it keeps is not documented (the
    source-deploy-retrieve handbook: several source components with one type and fullName
    may coexist in a component set). So neither hides the other: each copy is a component of
    its own, evaluated on its own, and knows where the others are (``duplicates``, SFL015).
    """
    parts: dict[tuple[ComponentType, str, str], list[tuple[MetadataFile, ParsedFile]]] = {}
    for file, parsed in files:
        parts.setdefault((file.type, file.name, _copy_of(file)), []).append((file, parsed))
    # Each copy built once from all its files (dataclasses.replace per file cost a fifth
    # of a warm run).
    out = [_merged(part) for part in parts.values()]
    copies: dict[tuple[ComponentType, str], list[Component]] = {}
    for component in out:
        copies.setdefault(component.key_t, []).append(component)
    result = [
        c._replace(duplicates=tuple(o.location for o in same if o is not c)) if len(same) > 1 else c
        for same in copies.values()
        for c in same
    ]
    return _in_order(result)


def _in_order(components: Iterable[Component]) -> tuple[Component, ...]:
    return tuple(sorted(components, key=lambda c: (c.type.value, c.name, c.location.path)))


def _merged(part: list[tuple[MetadataFile, ParsedFile]]) -> Component:
    """One copy of a component from its files, in the order given."""
    first, _ = part[0]
    anchor = None
    for file, parsed in part:
        # A file whose only problems are ambiguities was read whole: it anchors the component.
        readable = all(p.kind is ProblemKind.AMBIGUOUS for p in parsed.problems)
        if file.role is Role.MAIN and readable:
            anchor = Location(file.rel, parsed.root_line)
            break
    read = [parsed for _, parsed in part]
    # Each text is the first file's that has one, else the last file's (even an empty one),
    # as chaining ``a or b`` over the files gave.
    last = read[-1]
    return Component(
        type=first.type,
        name=first.name,
        files=tuple(file.rel for file, _ in part),
        label=next((p.label for p in read if p.label), last.label),
        license=next((p.license for p in read if p.license), last.license),
        user_license=next((p.user_license for p in read if p.user_license), last.user_license),
        custom=next((p.custom for p in read if p.custom), last.custom),
        grants=_joined([p.grants for p in read]),
        object_grants=_joined([p.object_grants for p in read]),
        members=_joined([p.members for p in read]),
        muting_members=_joined([p.muting_members for p in read]),
        problems=_joined([p.problems for p in read]),
        suppressions=_joined([p.suppressions for p in read]),
        anchor=anchor,
    )


T = TypeVar("T")


def _joined(parts: list[tuple[T, ...]]) -> tuple[T, ...]:
    return parts[0] if len(parts) == 1 else tuple(x for part in parts for x in part)


def _copy_of(file: MetadataFile) -> str:
    """The copy a file belongs to: a decomposed set's folder (named after the component, and
    holding its main file and its children), else the file itself."""
    path = PurePosixPath(file.rel)
    for folder in path.parents:
        if unquote(folder.name) == file.name:
            return folder.as_posix()
        if file.role is Role.MAIN:
            break  # a main file is decomposed only when its own folder is the set's
    return file.rel


def load_components(
    files: Iterable[MetadataFile],
    root: Path | None,
    cache_dir: Path | None = None,
    *,
    focus: Focus | None = None,
) -> tuple[Component, ...]:
    """Read every file (each inside ``root``, the project) and assemble the components
    (``load_recorded`` without the records)."""
    return load_recorded(files, root, cache_dir, focus=focus)[0]


def load_recorded(
    files: Iterable[MetadataFile],
    root: Path | None,
    cache_dir: Path | None = None,
    *,
    focus: Focus | None = None,
) -> tuple[tuple[Component, ...], dict[str, cache.Record] | None]:
    """Read every file (each inside ``root``, the project) and assemble the components;
    with the pack record of every file by path, or None when a file has none (no cache, or
    a file the policy refused): what ``sflint.metadata.memo`` keys a run's findings by.

    With ``focus`` (a run on named files), the components that the focus does not need
    whole are light: their grants are only those ``focus.keep`` names, enabled. The
    others are as always. Only files known to the cache are ever light (decoding their
    grants is most of what a warm run costs); a file that is read is read whole."""
    listed = list(files)
    with _no_cyclic_gc():
        light = focus.keep if focus is not None else None
        read, pack = _read_all(listed, root, cache_dir, False, None, light)
        records: dict[str, cache.Record] | None = {}
        for file, r in zip(listed, read, strict=True):
            if records is not None and r.record is not None:
                records[file.rel] = r.record
            else:
                records = None
        components = build_components(zip(listed, [r.parsed for r in read], strict=True))
        if focus is None or pack is None or not any(r.light for r in read):
            return components, records
        needed = focus.needed(components)
        again: list[tuple[MetadataFile, ParsedFile]] = []
        for file, r in zip(listed, read, strict=True):
            if (file.type, file.name) not in needed:
                continue
            whole = r.parsed
            if r.light and r.record is not None:  # a file is light only when the pack had it
                # A row the light decoding left unchecked may be damaged: then read it.
                whole = pack.entry(r.record.key, file.rel) or _read(file, root, None).parsed
            again.append((file, whole))
        # Copies share their (type, name), so each is rebuilt with all its copies, or kept.
        kept = [c for c in components if c.key_t not in needed]
        return _in_order([*kept, *build_components(again)]), records


class Focus(Protocol):
    """What a run on named files needs whole (``sflint.access.Focus``)."""

    @property
    def keep(self) -> frozenset[str]:
        """The permissions whose enabled grants a light component keeps."""

    def needed(self, components: tuple[Component, ...]) -> Collection[tuple[ComponentType, str]]:
        """The (type, name) of every component needed whole, given the light ones."""


def load_with_sources(
    files: Iterable[MetadataFile], root: Path | None, cache_dir: Path | None = None
) -> tuple[tuple[Component, ...], dict[str, bytes]]:
    """``load_components``, and the bytes of every readable file by path, read once (for
    rules that read the files themselves: ``xpath``). Only the bytes the reader accepted
    are kept: a file it refused (by the file-access policy, over the size limit, not XML,
    with a DOCTYPE) has none, and is never parsed again for an xpath rule."""
    listed = list(files)
    read = read_all(listed, root, cache_dir, keep_bytes=True)
    components = build_components((f, parsed) for f, (parsed, _) in zip(listed, read, strict=True))
    return components, {
        f.rel: data
        for f, (parsed, data) in zip(listed, read, strict=True)
        if data is not None and parsed.root
    }


def load_stale(
    files: Sequence[MetadataFile],
    root: Path,
    cache_dir: Path,
    light: Iterable[Component],
    records: Mapping[str, cache.Record],
    fresh: Mapping[str, bytes],
    focus: Focus,
) -> tuple[Component, ...]:
    """The components after the files ``fresh`` (by path, with their bytes now) changed
    since a memo whose light components are ``light`` (``sflint.metadata.memo``), as
    ``load_recorded`` with ``focus`` on those files gives them: every component is light
    but those with a changed file and those ``focus`` needs whole. Only the changed files
    are parsed; the pack is read for the unchanged files of a component needed whole (a
    decomposed set one of whose files changed, a persona's component), or when the changed
    files are large (a checkout may bring back bytes it has). ``records`` is every file's
    record now (the memo's, and the changed files' new ones)."""
    keys = {(f.type, f.name) for f in files if f.rel in fresh}
    pack: list[cache.Pack] = []  # read once, when first needed
    size = sum(len(data) for data in fresh.values())
    # Parsing about 100 MB/s, a pack read at about twice that: look the changed bytes up
    # in the pack first only when parsing them would cost more than reading it.
    if size * 2 > cache.pack_size(cache_dir, root):
        pack.append(cache.load_pack(cache_dir, root))
    parsed: dict[str, ParsedFile] = {}

    def whole(file: MetadataFile) -> ParsedFile:
        data = fresh.get(file.rel)
        if data is not None:
            known = pack[0].entry(records[file.rel].key, file.rel) if pack else None
            if known is not None:
                return known
            parsed[file.rel] = parse_bytes(data, file.rel, file.type, file.role)
            return parsed[file.rel]
        if not pack:
            pack.append(cache.load_pack(cache_dir, root))
        # A damaged or missing entry: the file is read again, as a miss.
        return pack[0].entry(records[file.rel].key, file.rel) or _read(file, root, None).parsed

    def rebuilt(wanted: Collection[tuple[ComponentType, str]]) -> list[Component]:
        return list(build_components((f, whole(f)) for f in files if (f.type, f.name) in wanted))

    with _no_cyclic_gc():
        # Every copy of a changed component is built again (a copy's duplicates name the
        # others' lines); the focus then says which others are needed whole.
        mixed = _in_order([*(c for c in light if c.key_t not in keys), *rebuilt(keys)])
        more = set(focus.needed(mixed)) - keys
        if more:
            mixed = _in_order([*(c for c in mixed if c.key_t not in more), *rebuilt(more)])
    if pack and parsed:
        # The pack was read anyway: it learns what was parsed. Otherwise it is left as it
        # is (rewriting it would cost more than the rest of the run); its records of the
        # changed files are not trusted, so a run that reads it reads those files again.
        kept = dict(pack[0].records)
        entries = dict(pack[0].entries)
        for rel, one in parsed.items():
            kept[rel] = records[rel]
            entries[records[rel].key] = cache.encode(one)
        cache.save_pack(cache_dir, root, kept, entries)
    return mixed
