"""A git revision's files, written into a temporary folder, for ``check --new-since REV``.

Read from git's objects, never from a checkout: the working tree and the index stay as they
are, and nothing of the repository runs. ``git archive`` is not used because it applies
``.gitattributes`` (``export-ignore`` would drop files, and filter drivers named there run
commands from the configuration); ``git ls-tree`` and ``git cat-file --batch`` hand over
the stored bytes and run nothing. Every git call disables the two hooks a repository's
configuration can point at a program (``core.fsmonitor``, ``core.hooksPath``), never opens
a pager, never prompts and never fetches a missing object (``GIT_NO_LAZY_FETCH``).

Only files sflint may read are written: permission metadata, XML, JSON and YAML files and
``.forceignore``. A file larger than the reader's limit becomes a sparse file of its size,
so the file-access policy refuses it with the same words as in the working tree; a
symbolic link stays a symbolic link (written last, so no file is ever written through one),
and the policy judges it as ever. Paths that could leave the folder (``..``, absolute, a
``.git`` component) are skipped.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import BinaryIO

from sflint.errors import UsageError
from sflint.kinds import KINDS
from sflint.safeio import METADATA_LIMIT

# Everything written for one revision, at most: beyond it the run stops (exit 2).
MAX_TOTAL = 1024 * 1024 * 1024
_SAFE = ("-c", "core.fsmonitor=", "-c", "core.hooksPath=/dev/null", "--no-pager")
_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_NO_LAZY_FETCH": "1", "GIT_OPTIONAL_LOCKS": "0"}
_WANTED_SUFFIXES = (".xml", ".json", ".yml", ".yaml", *(k.mdapi_suffix for k in KINDS))
_BLOB_MODES = {"100644", "100755"}
_LINK_MODE = "120000"


@dataclass(frozen=True)
class _Item:
    mode: str
    oid: str
    size: int
    path: str  # as git stores it, decoded with surrogateescape


def _git(top: Path, *args: str, stdin: bytes | None = None) -> bytes:
    env = {**os.environ, **_ENV}
    try:
        done = subprocess.run(
            ["git", *_SAFE, "-C", str(top), *args],
            input=stdin,
            capture_output=True,
            env=env,
            check=False,
        )
    except OSError as exc:
        raise UsageError(f"cannot run git: {exc.strerror}") from None
    if done.returncode != 0:
        first = next(iter(done.stderr.decode("utf-8", "replace").splitlines()), "")
        raise _GitError(first)
    return done.stdout


class _GitError(Exception):
    pass


def resolve(top: Path, rev: str) -> str:
    """The commit ``rev`` names in the repository at ``top``; a UsageError when none."""
    if not rev or rev.startswith("-"):
        raise UsageError(f"--new-since {rev!r}: not a revision")
    try:
        out = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    except _GitError:
        out = b""
    commit = out.decode("ascii", "replace").strip()
    if not commit:
        raise UsageError(
            f"--new-since {rev}: not a commit of the repository at {top} (in a shallow clone,"
            " fetch it first, e.g. git fetch --depth=1 origin <commit>)"
        )
    return commit


def _wanted(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name == ".forceignore" or name.endswith(_WANTED_SUFFIXES)


def _safe_path(path: str) -> bool:
    parts = path.split("/")
    return not path.startswith("/") and all(
        p not in ("", ".", "..") and p.lower() != ".git" for p in parts
    )


def _listing(top: Path, commit: str) -> list[_Item]:
    out = _git(top, "ls-tree", "-r", "-l", "-z", "--full-tree", commit)
    items = []
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, oid, size = meta.decode("ascii").split()
        path = os.fsdecode(raw_path)
        if kind != "blob" or (mode not in _BLOB_MODES and mode != _LINK_MODE):
            continue  # a submodule (commit) is not part of this repository's files
        if _wanted(path) and _safe_path(path):
            items.append(_Item(mode, oid, int(size), path))
    return items


@contextmanager
def files_at(top: Path, rev: str) -> Iterator[Path]:
    """A temporary folder holding the files of revision ``rev`` of the repository at
    ``top`` that sflint may read, at their paths in the repository; removed on exit."""
    commit = resolve(top, rev)
    items = _listing(top, commit)
    with TemporaryDirectory(prefix="sflint-rev-") as tmp:
        dest = Path(os.path.realpath(tmp))
        _write(top, dest, items, rev)
        yield dest


def _write(top: Path, dest: Path, items: list[_Item], rev: str) -> None:
    """Write the blobs (the large ones as sparse files of their size), then the links."""
    wanted = [i for i in items if i.mode in _BLOB_MODES and i.size <= METADATA_LIMIT]
    links = [i for i in items if i.mode == _LINK_MODE and i.size <= 4096]
    total = sum(i.size for i in wanted) + sum(i.size for i in links)
    if total > MAX_TOTAL:
        raise UsageError(
            f"--new-since {rev}: more than {MAX_TOTAL} bytes of files to read at that revision"
        )
    for item in items:
        if item.mode in _BLOB_MODES and item.size > METADATA_LIMIT:
            with _create(dest, item.path) as out:
                out.truncate(item.size)
    blobs = _contents(top, [*wanted, *links])
    for item in wanted:
        with _create(dest, item.path) as out:
            out.write(blobs[item.oid])
    for item in links:
        target = _parent(dest, item.path)
        link = target / item.path.rsplit("/", 1)[-1]
        link.symlink_to(os.fsdecode(blobs[item.oid]))


def _parent(dest: Path, path: str) -> Path:
    folder = dest.joinpath(*path.split("/")[:-1])
    folder.mkdir(parents=True, exist_ok=True)
    # Nothing but folders made here lies on the way: links are written after every file.
    if os.path.realpath(folder) != str(folder):
        raise UsageError(f"{path}: not written: a folder on its way is a link")
    return folder


def _create(dest: Path, path: str) -> BinaryIO:
    target = _parent(dest, path) / path.rsplit("/", 1)[-1]
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    return os.fdopen(os.open(target, flags, 0o644), "wb")


def _contents(top: Path, items: list[_Item]) -> dict[str, bytes]:
    """Each blob's bytes by object id, from one ``git cat-file --batch``."""
    oids = list(dict.fromkeys(i.oid for i in items))
    if not oids:
        return {}
    try:
        out = _git(top, "cat-file", "--batch", stdin=("\n".join(oids) + "\n").encode("ascii"))
    except _GitError as exc:
        raise UsageError(f"cannot read the revision's files: {exc}") from None
    blobs: dict[str, bytes] = {}
    pos = 0
    for oid in oids:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        if len(header) != 3 or header[1] != b"blob":
            raise UsageError(f"cannot read object {oid} of the revision")
        size = int(header[2])
        blobs[oid] = out[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1
    return blobs
