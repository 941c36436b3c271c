"""A cache of what the reader made of each file, so that a re-run reads only what changed.

One *pack* per project, ``<cache dir>/parsed/pack-<hash of the project's real path>.json``
(a line of JSON, then the entries' JSON texts back to back: ``_PACK_FORMAT``), read and
written whole (a warm run opens one cache file, not one per metadata file; never pickle: the
pack is data, and loading it runs no code). It holds:

- **entries**, content-addressed: each file's ``ParsedFile`` (lines, texts, problems; the
  path is put back on load) under a key hashed from the file's bytes, sflint's version,
  ``READER_VERSION``, and the component type and role the file was read as, so an entry can
  never be stale; two files with the same bytes share one;
- **records**: each file's size, mtime, ctime, inode and device when its bytes had a given
  key. A file whose status is unchanged is not read at all; one that changed (or whose
  record is too recent to trust, below) is read and hashed, and parsed only if no entry has
  its hash (a ``touch`` or a checkout of the same bytes costs a read, not a parse).

A record is trusted only when the file's last change (mtime or ctime, whichever is later)
was at least ``_RACY_NS`` before the record was taken: a file written again within the same
timestamp tick as it was read could otherwise keep its status with other bytes (git's
"racily clean" entries, the same reasoning). ctime cannot be set by a user, so a file cannot
be given back an old status after an edit.

The cache folder lies outside the checkout (docs/security.md); a pack that is damaged,
truncated, a link, not a regular file, too large or written by anyone else is still only
ever a miss: it is opened without following a link, every value is checked for its exact
type when it is used, and a file whose entry fails is read and parsed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sflint.model import (
    SHOWN_LINES,
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
from sflint.safeio import Refused, read_no_follow

# Bump when the reader's output for the same bytes changes (a new element read, a message
# reworded): every entry written before is then a miss.
# 3: suppression reasons; 4: object permissions; 5: copies merged; 6: object repeats once;
# 7: a profile's <custom>
READER_VERSION = "7"
_FORMAT = 2  # an entry's; 1: one JSON file per entry and an index per project
# The pack's. 4: one line of JSON (the records, and where each entry's JSON text lies in
# what follows), then the entries' texts back to back, so that reading the pack parses the
# records only and rewriting it after one file changed copies the other entries' bytes; 3
# held each text as a JSON string, escaped again on every write and unescaped on every read
# (a 3.4 MB pack: about 20 ms each way); 2 held the entries as JSON values.
_PACK_FORMAT = 4
_RACY_NS = 2_000_000_000  # FAT's mtime resolution is 2 s; others are finer

if TYPE_CHECKING:
    # Only for annotations: a warm run that takes everything from the memo (sflint.metadata.memo)
    # never imports the reader.
    from sflint.kinds import Role
    from sflint.metadata.reader import ParsedFile

Signature = tuple[int, int, int, int, int]  # size, mtime_ns, ctime_ns, inode, device


def signature(st: os.stat_result) -> Signature:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def content_key(data: bytes, ctype: ComponentType, role: Role) -> str:
    """The entry key of a file of ``ctype`` and ``role`` holding ``data``."""
    from sflint import __version__

    digest = hashlib.sha256()
    for part in (__version__, READER_VERSION, ctype.value, role.value):
        digest.update(hashlib.sha256(part.encode()).digest())
    digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


# --- ParsedFile <-> JSON ----------------------------------------------------------------------


def encode(parsed: ParsedFile) -> dict[str, Any]:
    """A ParsedFile as JSON values, its paths left out (every location is in the file)."""
    return {
        "format": _FORMAT,
        "root": parsed.root,
        "line": parsed.root_line,
        "label": parsed.label,
        "license": parsed.license,
        "user_license": parsed.user_license,
        "custom": parsed.custom,
        # A repeated grant (model.Grant) also holds its count and further lines.
        "grants": [
            [g.name, g.enabled, g.location.line, g.count, list(g.also)]
            if g.count > 1
            else [g.name, g.enabled, g.location.line]
            for g in parsed.grants
        ],
        "objects": [
            [o.object, [a.value for a in o.access], o.location.line] for o in parsed.object_grants
        ],
        "members": [[m.name, m.location.line] for m in parsed.members],
        "muting": [[m.name, m.location.line] for m in parsed.muting_members],
        "problems": [[p.message, p.location.line, p.kind.value] for p in parsed.problems],
        "suppressions": [
            [list(s.rules), s.location.line, s.whole_file, s.reason] for s in parsed.suppressions
        ],
    }


class _Invalid(Exception):
    """A value of an entry is not what ``encode`` writes."""


def _str(value: object) -> str:
    if type(value) is not str:
        raise _Invalid
    return value


def _opt(value: object) -> str | None:
    return None if value is None else _str(value)


def _line(value: object) -> int:
    if type(value) is not int or value < 1:  # type() excludes bool, a subclass of int
        raise _Invalid
    return value


def _bool(value: object) -> bool:
    if type(value) is not bool:
        raise _Invalid
    return value


def _list(value: object) -> list[object]:
    if type(value) is not list:
        raise _Invalid
    return value


def _rows(value: object, width: int, *widths: int) -> list[list[object]]:
    for row in _list(value):
        if type(row) is not list or (len(row) != width and len(row) not in widths):
            raise _Invalid
    return value  # type: ignore[return-value]  # every row was checked


def _grant(row: list[object], path: str) -> Grant:
    name, enabled, line = _str(row[0]), _bool(row[1]), _line(row[2])
    if len(row) == 3:
        return Grant(name, enabled, Location(path, line))
    count, also = _line(row[3]), tuple(_line(n) for n in _list(row[4]))
    if count < 2 or len(also) != min(count, SHOWN_LINES) - 1:
        raise _Invalid  # not what the reader writes (a count of 1 is a row of three)
    return Grant(name, enabled, Location(path, line), count, also)


_KINDS = {k.value: k for k in ProblemKind}
_ACCESS = {a.value: a for a in ObjectAccess}


def _access(value: object) -> tuple[ObjectAccess, ...]:
    flags = tuple(_ACCESS[_str(v)] for v in _list(value))
    if flags != tuple(a for a in ObjectAccess if a in flags):  # once each, in order
        raise _Invalid
    return flags


def decode(value: object, path: str, light: frozenset[str] | None = None) -> ParsedFile | None:
    """The ParsedFile of a JSON value written by ``encode``, located in ``path``; None when
    the value is anything else (a damaged or foreign entry is a miss, never a crash).

    ``light`` names permissions: then of the file's grants only its first one and the
    enabled grants of those permissions are kept (every value is still checked), so that
    whether it has grants at all and whether it enables those is as in the whole file.
    Building the grants is most of what decoding costs, and a run on a few named files
    needs them of a few components only (``sflint.access.Focus``)."""
    try:
        return _decode(value, path, light)
    except (_Invalid, KeyError, TypeError):
        return None


def _decode(value: object, path: str, light: frozenset[str] | None) -> ParsedFile:
    from sflint.metadata.reader import ParsedFile

    if type(value) is not dict or value.get("format") != _FORMAT:
        raise _Invalid
    rows = _rows(value["grants"], 3, 5)
    if light is not None:
        # Only the rows kept are checked: a damaged row left out is never used, and a file
        # needed whole later is decoded (and checked) whole, or read again.
        # (A name that cannot be hashed raises TypeError: a miss, as any damage is.)
        rows = rows[:1] + [r for r in rows[1:] if r[1] is True and r[0] in light]
    grants = tuple(_grant(row, path) for row in rows)
    objects = tuple(
        ObjectGrant(_str(o), _access(a), Location(path, _line(ln)))
        for o, a, ln in _rows(value["objects"], 3)
    )
    members = tuple(
        Member(_str(n), Location(path, _line(ln))) for n, ln in _rows(value["members"], 2)
    )
    muting = tuple(
        Member(_str(n), Location(path, _line(ln))) for n, ln in _rows(value["muting"], 2)
    )
    problems = tuple(
        Problem(_str(m), Location(path, _line(ln)), _KINDS[_str(k)])
        for m, ln, k in _rows(value["problems"], 3)
    )
    suppressions = tuple(
        Suppression(
            tuple(_str(r) for r in _list(rules)), Location(path, _line(ln)), _bool(w), _str(why)
        )
        for rules, ln, w, why in _rows(value["suppressions"], 4)
    )
    return ParsedFile(
        root=_str(value["root"]),
        root_line=_line(value["line"]),
        label=_opt(value["label"]),
        license=_opt(value["license"]),
        user_license=_opt(value["user_license"]),
        custom=_opt(value["custom"]),
        grants=grants,
        members=members,
        muting_members=muting,
        problems=problems,
        suppressions=suppressions,
        object_grants=objects,
    )


# --- the store ---------------------------------------------------------------------------------


class Record(NamedTuple):
    """What the pack knows of one file: its status when its bytes had entry ``key``, and
    when that status was taken (nanoseconds since the epoch)."""

    signature: Signature
    key: str
    checked_ns: int

    def trusted(self, now: Signature) -> bool:
        changed = max(self.signature[1], self.signature[2])
        return now == self.signature and changed + _RACY_NS <= self.checked_ns


# A pack is read whole; a real one is a few MB (1,550 files, 68,000 grants: 4 MB).
PACK_LIMIT = 256 * 1024 * 1024


@dataclass(frozen=True)
class Pack:
    """One project's records by project-relative path, and its entries by key: the bytes
    of the JSON text the pack holds (parsed and decoded only when used), or what
    ``encode`` wrote."""

    records: dict[str, Record]
    entries: dict[str, object]

    def entry(self, key: str, path: str, light: frozenset[str] | None = None) -> ParsedFile | None:
        """The entry ``key`` located in ``path`` (``light``: see ``decode``); None when
        absent or damaged."""
        value = self.entries.get(key)
        if type(value) is bytes:  # as read from the pack: its JSON text
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):
                return None
        return None if value is None else decode(value, path, light)


EMPTY = Pack({}, {})


def folder(cache_dir: Path) -> Path:
    return cache_dir / "parsed"


def _pack_path(cache_dir: Path, root: Path) -> Path:
    return project_file(cache_dir, root, "pack")


def pack_size(cache_dir: Path, root: Path) -> int:
    """The size of the project's pack file; 0 when there is none."""
    try:
        return os.lstat(_pack_path(cache_dir, root)).st_size
    except OSError:
        return 0


def project_file(cache_dir: Path, root: Path, kind: str) -> Path:
    """The project's cache file of ``kind`` (``pack``, ``memo``), named by its real path."""
    where = hashlib.sha256(os.fsencode(os.path.realpath(root))).hexdigest()[:32]
    return folder(cache_dir) / f"{kind}-{where}.json"


def _read_regular(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` under the file-access policy's own reader (no link followed, no
    FIFO opened, bounded); OSError, which every caller treats as a miss, otherwise."""
    try:
        return read_no_follow(path, limit)
    except Refused as exc:
        raise OSError(f"{path}: {exc.reason}") from None


def load_pack(cache_dir: Path, root: Path) -> Pack:
    """The project's pack; empty when missing or damaged (an entry is checked when used)."""
    try:
        data = _read_regular(_pack_path(cache_dir, root), PACK_LIMIT)
        # JSON text holds no raw newline: the first one ends the header.
        header, newline, blob = data.partition(b"\n")
        raw = json.loads(header)
        if type(raw) is not dict or raw.get("format") != _PACK_FORMAT or not newline:
            return EMPTY
        files, spans = raw["files"], raw["entries"]
        if type(files) is not dict or type(spans) is not dict:
            return EMPTY
        entries: dict[str, object] = {}
        for key, span in spans.items():
            start, end = _span(span, len(blob))
            entries[key] = blob[start:end]
        return Pack({_str(rel): _record(value) for rel, value in files.items()}, entries)
    except (OSError, ValueError, RecursionError, KeyError, _Invalid):
        return EMPTY


def _span(value: object, size: int) -> tuple[int, int]:
    """Where an entry's text lies in the pack's body: two ints within it, in order."""
    if type(value) is not list or len(value) != 2:
        raise _Invalid
    start, end = value
    if type(start) is not int or type(end) is not int or not 0 <= start <= end <= size:
        raise _Invalid
    return start, end


_FIVE_INTS = [int] * 5


def _record_parts(value: object) -> tuple[list[int], str, int]:
    """A record's signature, key and time as JSON holds them, each checked for its exact
    type (a bool is no int here)."""
    if type(value) is not list or len(value) != 3:
        raise _Invalid
    sig, key, checked = value
    # One comparison of the types, not a generator per record (a warm run checks 1,550).
    if type(sig) is not list or list(map(type, sig)) != _FIVE_INTS:
        raise _Invalid
    if type(checked) is not int:
        raise _Invalid
    return sig, _str(key), checked


def _record(value: object) -> Record:
    sig, key, checked = _record_parts(value)
    return Record((sig[0], sig[1], sig[2], sig[3], sig[4]), key, checked)


def trusted_record(value: object, now: Signature) -> bool:
    """``record(value).trusted(now)`` without building the Record: a warm run asks it of
    every file and needs no Record unless one changed. Raises ``Invalid`` as ``record``."""
    sig, _, checked = _record_parts(value)
    return (sig[0], sig[1], sig[2], sig[3], sig[4]) == now and max(
        sig[1], sig[2]
    ) + _RACY_NS <= checked


def save_pack(
    cache_dir: Path, root: Path, records: dict[str, Record], entries: dict[str, object]
) -> None:
    """Write the project's pack: ``records``, and of ``entries`` those a record names."""
    files = {rel: [list(r.signature), r.key, r.checked_ns] for rel, r in sorted(records.items())}
    spans: dict[str, list[int]] = {}
    body: list[bytes] = []
    at = 0
    for _, r in sorted(records.items()):
        if r.key in entries and r.key not in spans:
            text = _text(entries[r.key])
            spans[r.key] = [at, at + len(text)]
            body.append(text)
            at += len(text)
    header = {"format": _PACK_FORMAT, "files": files, "entries": spans}
    store_bytes(
        _pack_path(cache_dir, root),
        b"".join((json.dumps(header, separators=(",", ":")).encode("utf-8"), b"\n", *body)),
    )


def _text(entry: object) -> bytes:
    """An entry as the pack holds it: the bytes of its JSON text (an entry read from the
    pack is kept as the bytes it was read as; a new one is encoded once)."""
    if type(entry) is bytes:
        return entry
    return json.dumps(entry, separators=(",", ":")).encode("utf-8")


def drop_pack(cache_dir: Path, root: Path) -> None:
    """Forget the pack of a project that will not be read again (a revision copied into a
    temporary folder, sflint.revision), so that temporary folders leave nothing behind."""
    with contextlib.suppress(OSError):
        _pack_path(cache_dir, root).unlink()


def now_ns() -> int:
    return time.time_ns()


# What sflint writes to its cache folder, and so all that ``clear`` removes (the folder may
# be shared, or named by mistake): validated YAML documents (sflint.yamlload) by their
# SHA-256 at the top, and here packs, unfinished writes, and the entries and indexes that
# sflint wrote before packs under parsed/.
_YAML_ENTRY = re.compile(r"[0-9a-f]{64}\.json")
_PARSED = re.compile(r"(?:[0-9a-f]{64}|(?:index|pack|memo|focus)-[0-9a-f]{32})\.json|tmp\w+\.tmp")


def clear(cache_dir: Path) -> int:
    """Remove every entry sflint wrote under ``cache_dir``; the number of files removed."""
    removed = 0
    for where, pattern in ((cache_dir, _YAML_ENTRY), (folder(cache_dir), _PARSED)):
        try:
            entries = list(os.scandir(where))
        except OSError:
            continue
        for entry in entries:
            if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                try:
                    Path(entry.path).unlink()
                    removed += 1
                except OSError:
                    pass
    return removed


def store_bytes(entry: Path, data: bytes) -> None:
    """Write atomically; a cache that cannot be written is simply not used."""
    import tempfile  # lazy: a run that writes nothing never needs it

    tmp: str | None = None
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        # A rename replaces a link at ``entry`` itself: nothing is written through one.
        Path(tmp).replace(entry)
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()


class Status:
    """``safeio.check_regular(path, root).stat()`` for many files of a few folders, each
    folder's links resolved once instead of once per file (realpath walks every component
    of a path with a system call each: a fifth of a warm run).

    When the folder, resolved, is inside the root and the file in it is a regular file and
    not a link, the policy's own answer is that file's status; in every other case (a link,
    a FIFO, a folder outside the root) the policy itself is asked, and says why not."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.real_root = os.path.realpath(root) if root is not None else None
        # Each folder as spelled: resolved, with a separator after it; None when outside.
        self.folders: dict[str, str | None] = {}

    def _folder(self, folder: str) -> str | None:
        if folder not in self.folders:
            real, top = os.path.realpath(folder), self.real_root
            inside = top is None or real == top or real.startswith(top.rstrip(os.sep) + os.sep)
            self.folders[folder] = real.rstrip(os.sep) + os.sep if inside else None
        return self.folders[folder]

    def of(self, path: Path) -> os.stat_result:
        """The status of ``path``, a regular file inside the root; raises Refused or
        OSError as ``check_regular`` does."""
        # Strings, not Paths (a Path costs a parse); the folder as spelled, since realpath
        # resolves a link before a "..". One split and one concatenation: this runs for
        # every file of every run (1,550 files: 15 ms with dirname, basename and join).
        head, tail = os.path.split(path)
        folder = self.folders.get(head) if head in self.folders else self._folder(head)
        if folder is not None and tail:
            try:
                st = os.lstat(folder + tail)
            except OSError:
                st = None
            if st is not None and stat.S_ISREG(st.st_mode):
                return st
        from sflint.safeio import check_regular

        return check_regular(path, self.root).stat()


# For sflint.metadata.memo, which checks its values as the pack's are checked.
Invalid = _Invalid
as_str, as_opt, as_line, as_bool, as_list = _str, _opt, _line, _bool, _list
read_regular = _read_regular
record = _record
