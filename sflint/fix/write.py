"""Writing edits: atomically, a unit at a time, refusing what would be unsafe or stale.

A file is replaced by writing a temporary file in its folder, syncing it and renaming it over
the original (POSIX rename(2) is atomic), so a crash leaves the old or the new content, never
a mix. The replacement is a new inode, so the original's owner, group, mode and extended
attributes are copied onto it first: ``--fix`` run as root must not hand a developer's file
to root or drop its attributes.

A unit (:class:`sflint.fix.values.Unit`) is written whole or not at all: every target is
checked first, every new content is written to a temporary file, and only then are they
renamed into place; a failure at any step (a full disk, a read-only folder, a file of the
same name) undoes what the unit did and leaves the originals byte-identical. Undoing never
needs space: a replaced file's original is kept under a hard link until the unit is done,
and a created file is simply removed.

An edit is refused, not forced, when the file changed since it was read, is read-only, is a
symbolic link, would land outside the project root, or (a creation) already exists.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sflint.fix.values import ApplyResult, FileEdit, Refusal, Unit, WriteResult, patched

__all__ = ["apply_edits", "apply_units"]


def _read(path: Path, real_root: Path) -> bytes | None:
    """The current bytes of a target, under the file-access policy (a FIFO or a link swapped
    in since planning is refused, never opened), or None when nothing is there."""
    from sflint.safeio import METADATA_LIMIT, Refused, read_bytes

    if not os.path.lexists(path):
        return None
    try:
        return read_bytes(path, real_root, METADATA_LIMIT)
    except Refused as exc:
        raise _Stop(exc.reason) from None


def _fsync_dir(folder: Path) -> None:
    # Makes the rename durable (POSIX rename(2) durability needs the directory synced);
    # best effort, not available on every platform.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_temp(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to a new temporary file in ``folder`` (mode 0o666 minus umask)."""
    for _ in range(100):
        tmp = folder / f".{name}.{secrets.token_hex(4)}.sflint-tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return tmp
    raise OSError(f"cannot create a temporary file in {folder}")


def _copy_xattrs(source: Path, dest: Path) -> None:
    """Copy extended attributes (Linux ``user.*``, SELinux labels, ...), where the platform
    and file system have them; one that cannot be set (a ``security.*`` attribute without
    the privilege) is left out rather than failing the fix."""
    if not hasattr(os, "listxattr"):
        return
    try:
        names = os.listxattr(source)
    except OSError:  # ENOTSUP: the file system keeps none
        return
    for name in names:
        with contextlib.suppress(OSError):
            os.setxattr(dest, name, os.getxattr(source, name))


def _keep_metadata(target: Path, tmp: Path) -> None:
    """Give ``tmp`` the owner, group, mode and extended attributes of ``target``."""
    info = target.stat()
    if hasattr(os, "chown"):
        # Only root may give a file away (chown(2), EPERM otherwise); a user's own files
        # are already theirs, and a group it may not set leaves the folder's group.
        with contextlib.suppress(PermissionError):
            os.chown(tmp, info.st_uid, info.st_gid)
    tmp.chmod(stat.S_IMODE(info.st_mode))  # after chown, which may clear set-id bits
    _copy_xattrs(target, tmp)


def _target(path: Path, root: Path, real_root: Path) -> Path | str:
    """The real path to write for ``path``, or the reason not to write it."""
    if not path.is_absolute():
        path = root / path
    # Lexical containment first (".." components), then the resolved one: a symbolic link
    # anywhere on the way may point elsewhere.
    lexical = Path(os.path.normpath(path.absolute()))
    if not (
        lexical.is_relative_to(Path(os.path.normpath(root.absolute())))
        or lexical.is_relative_to(real_root)
    ):
        return "outside the project root"
    if path.is_symlink():
        # Replacing a link with a regular file would silently change what it means.
        return "is a symbolic link"
    resolved = path.resolve()
    if resolved == real_root or not resolved.is_relative_to(real_root):
        return "resolves outside the project root"
    return resolved


def _check_current(target: Path, before: bytes | None, real_root: Path) -> str | None:
    if before is None:
        # lexists: a folder, a dangling link or an ignored file of that name all count.
        return "already exists" if os.path.lexists(target) else None
    current = _read(target, real_root)
    if current is None:
        return "no longer exists"
    return "changed since it was read" if current != before else None


@dataclass
class _Journal:
    """What a unit did so far, to undo it or to finish it (private, mutable)."""

    undo: list[Callable[[], object]] = field(default_factory=list)
    temps: list[Path] = field(default_factory=list)
    backups: list[Path] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)

    def rollback(self) -> None:
        # Temporaries first: a folder the unit created is removed only once it is empty.
        self._remove(self.temps)
        for step in reversed(self.undo):
            with contextlib.suppress(OSError):
                step()
        self.undo.clear()
        self.written.clear()
        self.done()

    def done(self) -> None:
        self._remove(self.temps)
        self._remove(self.backups)

    @staticmethod
    def _remove(paths: list[Path]) -> None:
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        paths.clear()


def _backup(target: Path, before: bytes, journal: _Journal) -> None:
    """Arrange for ``target`` to get its original back on rollback: a hard link to its inode
    (no space needed, owner and attributes kept), else its bytes written back."""
    backup = target.with_name(f".{target.name}.{secrets.token_hex(4)}.sflint-bak")
    try:
        os.link(target, backup)
    except OSError:
        journal.undo.append(lambda: _restore_bytes(target, before))
        return
    journal.backups.append(backup)
    journal.undo.append(lambda: backup.replace(target))


def _restore_bytes(target: Path, before: bytes) -> None:
    tmp = _write_temp(target.parent, target.name, before)
    try:
        tmp.replace(target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _make_parents(target: Path, real_root: Path, journal: _Journal) -> None:
    missing = [p for p in target.parents if p.is_relative_to(real_root) and not p.exists()]
    for folder in reversed(missing):
        folder.mkdir()
        journal.undo.append(folder.rmdir)
    if not target.parent.resolve().is_relative_to(real_root):
        raise _Stop("resolves outside the project root")


class _Stop(Exception):
    """A refusal found while writing a unit (private)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _check(edit: FileEdit, root: Path, real_root: Path) -> Path:
    target = _target(edit.path, root, real_root)
    if isinstance(target, str):
        raise _Stop(target)
    reason = _check_current(target, edit.before, real_root)
    if reason is not None:
        raise _Stop(reason)
    if edit.before is not None and not target.stat().st_mode & stat.S_IWUSR:
        # Replacing by rename needs only a writable folder; a read-only file says "keep out"
        # (even to root), so honour it as an editor would.
        raise _Stop("is read-only")
    return target


# What link(2) fails with on a file system that has no hard links (FAT, some network mounts).
_NO_HARD_LINKS = frozenset(
    getattr(errno, name) for name in ("EPERM", "ENOTSUP", "EOPNOTSUPP") if hasattr(errno, name)
)


def _commit(
    edit: FileEdit, target: Path, tmp: Path | None, real_root: Path, journal: _Journal
) -> None:
    """Put one checked edit in place, recording how to undo it."""
    # Checked again as late as possible: a file changed while we wrote is left alone.
    reason = _check_current(target, edit.before, real_root)
    if reason is not None:
        raise _Stop(reason)
    if edit.before is None:
        assert tmp is not None
        # link(2) fails when the target exists: a creation never overwrites, even when
        # another process creates the file meanwhile.
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise _Stop("already exists") from None
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            if os.path.lexists(target):
                raise _Stop("already exists") from None
            tmp.replace(target)
        journal.undo.append(target.unlink)
    elif edit.after is None:
        _backup(target, edit.before, journal)
        target.unlink()
    else:
        assert tmp is not None
        _backup(target, edit.before, journal)
        tmp.replace(target)
    journal.written.append(target)


def _transaction(
    edits: Sequence[FileEdit], root: Path, real_root: Path, fresh: Path | None = None
) -> tuple[Refusal | None, _Journal]:
    """Write ``edits`` all or none: check every target, write every temporary file, then
    rename them into place. On a refusal everything done is undone (the journal is empty);
    on success the journal can still undo the whole transaction until ``done()``."""
    journal = _Journal()
    current = edits[0].path if edits else Path()
    try:
        if fresh is not None:
            current = fresh
            if _target(fresh, root, real_root) == "outside the project root":
                raise _Stop("outside the project root")
            if os.path.lexists(fresh):
                raise _Stop("already exists")
        targets = []
        for edit in edits:
            current = edit.path
            targets.append(_check(edit, root, real_root))
        temps: list[Path | None] = []
        for edit, target in zip(edits, targets, strict=True):
            current = edit.path
            if edit.after is None:
                temps.append(None)
                continue
            if edit.before is None:
                _make_parents(target, real_root, journal)
            tmp = _write_temp(target.parent, target.name, edit.after)
            journal.temps.append(tmp)
            if edit.before is not None:
                _keep_metadata(target, tmp)
            temps.append(tmp)
        for edit, target, temp in zip(edits, targets, temps, strict=True):
            current = edit.path
            _commit(edit, target, temp, real_root, journal)
        for folder in dict.fromkeys(t.parent for t in journal.written):
            _fsync_dir(folder)
    except _Stop as stop:
        journal.rollback()
        return Refusal(current, stop.reason), journal
    except OSError as exc:
        journal.rollback()
        return Refusal(current, str(exc.strerror or exc)), journal
    return None, journal


def _shared_edits(units: Sequence[Unit], alive: set[int]) -> list[tuple[FileEdit, set[int]]]:
    """Each file that units patch, with the patches of the ``alive`` units composed, and
    which units it carries."""
    by_path: dict[Path, tuple[bytes, list[tuple[int, int, bytes]], set[int]]] = {}
    for i in sorted(alive):
        for p in units[i].patches:
            entry = by_path.setdefault(p.path, (p.before, [], set()))
            entry[1].extend(p.replacements)
            entry[2].add(i)
    out = []
    for path, (before, replacements, users) in sorted(by_path.items(), key=lambda e: str(e[0])):
        after = patched(before, replacements)
        if after != before:
            out.append((FileEdit(path, before, after), users))
    return out


def apply_units(units: Iterable[Unit], root: Path) -> WriteResult:
    """Write each unit under ``root`` whole or not at all.

    First each unit's own files (a clone's files: none of them exists yet), as a
    transaction per unit; then the files that several units patch (``.sflint.yml``, a
    group), each written once with the patches of the units written so far. When a shared
    file cannot be written, the units that patch it are undone (their own files removed)
    and the shared files are written again without them, so a clone never stays without the
    edits that point at it, nor an edit without its clone.
    """
    units = tuple(units)
    try:
        real_root = root.resolve(strict=True)
    except OSError as exc:
        first = [u.edits[0].path if u.edits else root for u in units]
        return WriteResult(tuple(Refusal(p, f"project root: {exc}") for p in first), ())
    refusals: list[Refusal | None] = [None] * len(units)
    journals: dict[int, _Journal] = {}
    for i, unit in enumerate(units):
        refusal, journal = _transaction(unit.edits, root, real_root, unit.folder)
        if refusal is None:
            journals[i] = journal
        refusals[i] = refusal
    written: list[Path] = []
    alive = {i for i in journals if units[i].patches}
    while alive:
        shared = _shared_edits(units, alive)
        refusal, journal = _transaction([e for e, _ in shared], root, real_root)
        if refusal is None:
            journal.done()
            written.extend(journal.written)
            break
        # Every unit that patches the failing file is refused and undone; try again.
        failed = next((users for e, users in shared if e.path == refusal.path), alive)
        for i in failed:
            refusals[i] = refusal
            journals.pop(i).rollback()
        alive -= failed
    for i in sorted(journals):
        journals[i].done()
        written.extend(journals[i].written)
    return WriteResult(tuple(refusals), tuple(dict.fromkeys(written)))


def apply_edits(edits: Iterable[FileEdit], root: Path) -> ApplyResult:
    """Apply ``edits`` under ``root``, each atomically (temporary file, fsync, rename) and
    on its own.

    An edit is refused, and reported in the result rather than raised, when the file's
    current content is not ``before`` (changed since it was read; for a creation: exists),
    when it would write outside ``root`` or through a symbolic link, or on an OS error.
    Other edits still proceed, in order.
    """
    edits = tuple(edits)
    result = apply_units((Unit(edits=(e,)) for e in edits), root)
    applied = tuple(e for e, r in zip(edits, result.refusals, strict=True) if r is None)
    refused = tuple(
        Refusal(e.path, r.reason) for e, r in zip(edits, result.refusals, strict=True) if r
    )
    return ApplyResult(applied, refused)
