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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from sflint.kinds import Role
from sflint.metadata import cache
from sflint.metadata.reader import ParsedFile, parse_bytes
from sflint.model import Component, ComponentType, Location, Problem, ProblemKind
from sflint.project import MetadataFile

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
    parsed, data, _ = _read(file, root, None)
    return parsed, data


def _refused(file: MetadataFile, reason: str) -> ParsedFile:
    problem = Problem(f"not read: it {reason}", Location(file.rel, 1))
    return ParsedFile("", 1, problems=(problem,))


def _read(
    file: MetadataFile, root: Path | None, cache_dir: Path | None
) -> tuple[ParsedFile, bytes | None, cache.Record | None]:
    """Read and parse one file; with a cache, look its bytes up first and store what was
    parsed. Returns the result, the bytes, and the index record (None without a cache)."""
    from sflint.safeio import METADATA_LIMIT, Refused, check_regular, read_bytes

    checked = cache.now_ns()
    try:
        # The status is taken before the bytes: an edit in between leaves a record that no
        # longer matches, so the next run reads the file again.
        st = check_regular(file.path, root).stat() if cache_dir is not None else None
        data = read_bytes(file.path, root, METADATA_LIMIT)
    except Refused as exc:
        return _refused(file, exc.reason), None, None
    except OSError as exc:  # the file went away between the checks
        return _refused(file, f"cannot be read: {exc.strerror}"), None, None
    if cache_dir is None or st is None:
        return parse_bytes(data, file.rel, file.type, file.role), data, None
    key = cache.content_key(data, file.type, file.role)
    parsed = cache.read_entry(cache_dir, key, file.rel)
    if parsed is None:
        parsed = parse_bytes(data, file.rel, file.type, file.role)
        cache.write_entry(cache_dir, key, parsed)
    return parsed, data, cache.Record(cache.signature(st), key, checked)


def _known(
    file: MetadataFile, root: Path | None, cache_dir: Path, record: cache.Record
) -> ParsedFile | None:
    """The cached result of ``file`` if its status is the one ``record`` trusts; the file
    is checked under the policy but not opened."""
    from sflint.safeio import METADATA_LIMIT, Refused, check_regular

    try:
        st = check_regular(file.path, root).stat()
    except (Refused, OSError):
        return None  # read normally: the refusal is reported as a reading reports it
    if st.st_size > METADATA_LIMIT or not record.trusted(cache.signature(st)):
        return None
    return cache.read_entry(cache_dir, record.key, file.rel)


def _read_batch(
    files: Sequence[MetadataFile], root: Path | None, cache_dir: Path | None
) -> list[tuple[dict[str, Any], cache.Record | None]]:
    """A worker's task: each file read, as the cache's JSON values (far cheaper to send
    between processes than the dataclasses), with its index record."""
    out = []
    for file in files:
        parsed, _, record = _read(file, root, cache_dir)
        out.append((cache.encode(parsed), record))
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
    cache_dir: Path | None,
    workers: int,
) -> list[tuple[ParsedFile, cache.Record | None]]:
    """Read ``files`` in ``workers`` processes; results in the order of ``files``. fork
    (Linux) starts a worker with sflint already imported; elsewhere, spawn."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
    out: dict[int, tuple[ParsedFile, cache.Record | None]] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        tasks = [
            (batch, pool.submit(_read_batch, [files[i] for i in batch], root, cache_dir))
            for batch in _batches(sizes)
        ]
        for batch, task in tasks:
            for i, (value, record) in zip(batch, task.result(), strict=True):
                parsed = cache.decode(value, files[i].rel)
                if parsed is None:  # pragma: no cover - encode's output always decodes
                    raise RuntimeError(f"a worker's result for {files[i].rel} does not decode")
                out[i] = (parsed, record)
    return [out[i] for i in range(len(files))]


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
        return _read_all(files, root, cache_dir, keep_bytes, workers)


def _read_all(
    files: Sequence[MetadataFile],
    root: Path | None,
    cache_dir: Path | None,
    keep_bytes: bool,
    workers: int | None,
) -> list[tuple[ParsedFile, bytes | None]]:
    use_index = cache_dir is not None and root is not None
    index = cache.load_index(cache_dir, root) if cache_dir is not None and root else {}
    results: dict[int, tuple[ParsedFile, bytes | None]] = {}
    records: dict[str, cache.Record] = {}
    for i, file in enumerate(files):
        record = index.get(file.rel)
        if cache_dir is not None and record is not None and not keep_bytes:
            known = _known(file, root, cache_dir, record)
            if known is not None:
                results[i] = (known, None)
                records[file.rel] = record
    todo = [i for i in range(len(files)) if i not in results]
    sizes = [_size(files[i]) for i in todo]
    count = min(workers if workers is not None else _workers(), len(todo))
    if count > 1 and not keep_bytes and sum(sizes) > PARALLEL_BYTES:
        read = _in_workers([files[i] for i in todo], sizes, root, cache_dir, count)
        for i, (parsed, record) in zip(todo, read, strict=True):
            results[i] = (parsed, None)
            if record is not None:
                records[files[i].rel] = record
    else:
        for i in todo:
            parsed, data, record = _read(files[i], root, cache_dir)
            results[i] = (parsed, data if keep_bytes else None)
            if record is not None:
                records[files[i].rel] = record
    if use_index and cache_dir is not None and root is not None and records != index:
        cache.save_index(cache_dir, root, records)
    return [results[i] for i in range(len(files))]


def build_components(files: Iterable[tuple[MetadataFile, ParsedFile]]) -> tuple[Component, ...]:
    """One component per copy of each (type, name); a copy's files are merged in path order.

    A decomposed set is one copy made of several files (its folder); a component defined
    twice (in two package directories, or in two formats) is two copies. The Salesforce CLI
    resolves both and a deploy keeps one, and which one it keeps is not documented (the
    source-deploy-retrieve handbook: several source components with one type and fullName
    may coexist in a component set). So neither hides the other: each copy is a component of
    its own, evaluated on its own, and knows where the others are (``duplicates``, SFL015).
    """
    out: dict[tuple[ComponentType, str, str], Component] = {}
    for file, parsed in files:
        key = (file.type, file.name, _copy_of(file))
        current = out.get(key)
        if current is None:
            current = Component(type=file.type, name=file.name, files=())
        is_main = file.role is Role.MAIN
        # A file whose only problems are ambiguities was read whole: it anchors the component.
        readable = all(p.kind is ProblemKind.AMBIGUOUS for p in parsed.problems)
        current = replace(
            current,
            files=(*current.files, file.rel),
            label=current.label or parsed.label,
            license=current.license or parsed.license,
            user_license=current.user_license or parsed.user_license,
            grants=current.grants + parsed.grants,
            object_grants=current.object_grants + parsed.object_grants,
            members=current.members + parsed.members,
            muting_members=current.muting_members + parsed.muting_members,
            problems=current.problems + parsed.problems,
            suppressions=current.suppressions + parsed.suppressions,
            anchor=current.anchor
            or (Location(file.rel, parsed.root_line) if is_main and readable else None),
        )
        out[key] = current
    copies: dict[tuple[ComponentType, str], list[Component]] = {}
    for component in out.values():
        copies.setdefault(component.key_t, []).append(component)
    result = [
        replace(c, duplicates=tuple(o.location for o in same if o is not c)) if len(same) > 1 else c
        for same in copies.values()
        for c in same
    ]
    return tuple(sorted(result, key=lambda c: (c.type.value, c.name, c.location.path)))


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
    files: Iterable[MetadataFile], root: Path | None, cache_dir: Path | None = None
) -> tuple[Component, ...]:
    """Read every file (each inside ``root``, the project) and assemble the components."""
    listed = list(files)
    read = read_all(listed, root, cache_dir)
    return build_components((f, parsed) for f, (parsed, _) in zip(listed, read, strict=True))


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
