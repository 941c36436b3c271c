"""A cache of what the reader made of each file, so that a re-run reads only what changed.

Two layers, both JSON under ``<cache dir>/parsed/`` (never pickle: an entry is data, and
loading it runs no code):

- **entries**, content-addressed: ``<key>.json`` holds one file's ``ParsedFile`` (lines,
  texts, problems; the path is put back on load). The key is a hash of the file's bytes,
  sflint's version and ``READER_VERSION``, and the component type and role the file was read
  as, so an entry can never be stale; two files with the same bytes share one.
- **an index per project** (``index-<hash of the project's real path>.json``): each file's
  size, mtime, ctime, inode and device when its bytes had a given hash. A file whose status
  is unchanged is not read at all; one that changed (or whose record is too recent to
  trust, below) is read and hashed, and parsed only if no entry has its hash.

A record is trusted only when the file's last change (mtime or ctime, whichever is later)
was at least ``_RACY_NS`` before the record was taken: a file written again within the same
timestamp tick as it was read could otherwise keep its status with other bytes (git's
"racily clean" entries, the same reasoning). ctime cannot be set by a user, so a file cannot
be given back an old status after an edit.

The cache folder lies outside the checkout (docs/security.md); an entry or index that is
damaged, truncated or written by anyone else is still only ever a miss: every value is
checked for its exact type on load, and a file that fails is read and parsed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sflint.kinds import Role
from sflint.metadata.reader import ParsedFile
from sflint.model import (
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

# Bump when the reader's output for the same bytes changes (a new element read, a message
# reworded): every entry written before is then a miss.
READER_VERSION = "4"  # 3: a suppression keeps its reason; 4: object permissions
_FORMAT = 1
_RACY_NS = 2_000_000_000  # FAT's mtime resolution is 2 s; others are finer

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
        "grants": [[g.name, g.enabled, g.location.line] for g in parsed.grants],
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


def _rows(value: object, width: int) -> list[list[object]]:
    for row in _list(value):
        if type(row) is not list or len(row) != width:
            raise _Invalid
    return value  # type: ignore[return-value]  # every row was checked


_KINDS = {k.value: k for k in ProblemKind}
_ACCESS = {a.value: a for a in ObjectAccess}


def _access(value: object) -> tuple[ObjectAccess, ...]:
    flags = tuple(_ACCESS[_str(v)] for v in _list(value))
    if flags != tuple(a for a in ObjectAccess if a in flags):  # once each, in order
        raise _Invalid
    return flags


def decode(value: object, path: str) -> ParsedFile | None:
    """The ParsedFile of a JSON value written by ``encode``, located in ``path``; None when
    the value is anything else (a damaged or foreign entry is a miss, never a crash)."""
    try:
        return _decode(value, path)
    except (_Invalid, KeyError):
        return None


def _decode(value: object, path: str) -> ParsedFile:
    if type(value) is not dict or value.get("format") != _FORMAT:
        raise _Invalid
    grants = tuple(
        Grant(_str(n), _bool(e), Location(path, _line(ln)))
        for n, e, ln in _rows(value["grants"], 3)
    )
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
        grants=grants,
        members=members,
        muting_members=muting,
        problems=problems,
        suppressions=suppressions,
        object_grants=objects,
    )


# --- the store ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """What the index knows of one file: its status when its bytes had entry ``key``, and
    when that status was taken (nanoseconds since the epoch)."""

    signature: Signature
    key: str
    checked_ns: int

    def trusted(self, now: Signature) -> bool:
        changed = max(self.signature[1], self.signature[2])
        return now == self.signature and changed + _RACY_NS <= self.checked_ns


def folder(cache_dir: Path) -> Path:
    return cache_dir / "parsed"


def read_entry(cache_dir: Path, key: str, path: str) -> ParsedFile | None:
    try:
        text = (folder(cache_dir) / f"{key}.json").read_text(encoding="utf-8")
        return decode(json.loads(text), path)
    except (OSError, ValueError, RecursionError):
        return None


def write_entry(cache_dir: Path, key: str, parsed: ParsedFile) -> None:
    _store(folder(cache_dir) / f"{key}.json", encode(parsed))


def _index_path(cache_dir: Path, root: Path) -> Path:
    where = hashlib.sha256(os.fsencode(os.path.realpath(root))).hexdigest()[:32]
    return folder(cache_dir) / f"index-{where}.json"


def load_index(cache_dir: Path, root: Path) -> dict[str, Record]:
    """The project's index, by project-relative path; empty when missing or damaged."""
    try:
        raw = json.loads(_index_path(cache_dir, root).read_text(encoding="utf-8"))
        if type(raw) is not dict or raw.get("format") != _FORMAT:
            return {}
        files = raw["files"]
        if type(files) is not dict:
            return {}
        return {_str(rel): _record(value) for rel, value in files.items()}
    except (OSError, ValueError, RecursionError, KeyError, _Invalid):
        return {}


def _record(value: object) -> Record:
    if type(value) is not list or len(value) != 3:
        raise _Invalid
    sig, key, checked = value
    if type(sig) is not list or len(sig) != 5 or any(type(n) is not int for n in sig):
        raise _Invalid
    if type(checked) is not int:
        raise _Invalid
    return Record((sig[0], sig[1], sig[2], sig[3], sig[4]), _str(key), checked)


def save_index(cache_dir: Path, root: Path, records: dict[str, Record]) -> None:
    files = {rel: [list(r.signature), r.key, r.checked_ns] for rel, r in sorted(records.items())}
    _store(_index_path(cache_dir, root), {"format": _FORMAT, "files": files})


def drop_index(cache_dir: Path, root: Path) -> None:
    """Forget the index of a project that will not be read again (a revision copied into a
    temporary folder, sflint.revision): its entries stay, shared by content."""
    with contextlib.suppress(OSError):
        _index_path(cache_dir, root).unlink()


def now_ns() -> int:
    return time.time_ns()


# What sflint writes to its cache folder, and so all that ``clear`` removes (the folder may
# be shared, or named by mistake): validated YAML documents (sflint.yamlload) by their
# SHA-256 at the top, and here entries, indexes and unfinished writes under parsed/.
_YAML_ENTRY = re.compile(r"[0-9a-f]{64}\.json")
_PARSED = re.compile(r"(?:[0-9a-f]{64}|index-[0-9a-f]{32})\.json|tmp\w+\.tmp")


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


def _store(entry: Path, value: object) -> None:
    """Write atomically; a cache that cannot be written is simply not used."""
    import tempfile  # lazy: a run that writes nothing never needs it

    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            # dumps then one write: json.dump writes each small piece (six times slower).
            out.write(json.dumps(value, separators=(",", ":")))
        Path(tmp).replace(entry)
    except OSError:
        return
