"""Writing edits: each file atomically, refusing what would be unsafe or stale.

A file is replaced by writing a temporary file in its folder, syncing it and renaming it over
the original (POSIX rename(2) is atomic), so a crash leaves the old or the new content, never
a mix. An edit is refused, not forced, when the file changed since it was read, is read-only,
is a symbolic link, or would land outside the project root.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

from sflint.fix.values import ApplyResult, FileEdit, Refusal

__all__ = ["apply_edits"]


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


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


def _check_current(target: Path, before: bytes | None) -> str | None:
    current = _read(target)
    if before is None:
        return "already exists" if current is not None or target.exists() else None
    if current is None:
        return "no longer exists"
    return "changed since it was read" if current != before else None


def _apply_one(edit: FileEdit, root: Path, real_root: Path) -> str | None:
    target = _target(edit.path, root, real_root)
    if isinstance(target, str):
        return target
    reason = _check_current(target, edit.before)
    if reason is not None:
        return reason
    if edit.before is not None and not target.stat().st_mode & stat.S_IWUSR:
        # Replacing by rename needs only a writable folder; a read-only file says "keep out"
        # (even to root), so honour it as an editor would.
        return "is read-only"
    if edit.after is None:
        target.unlink()
        _fsync_dir(target.parent)
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.parent.resolve().is_relative_to(real_root):
        return "resolves outside the project root"
    tmp = _write_temp(target.parent, target.name, edit.after)
    try:
        if edit.before is None:
            # link(2) fails when the target exists: a creation never overwrites, even when
            # another process creates the file meanwhile.
            try:
                os.link(tmp, target)
            except FileExistsError:
                return "already exists"
            except OSError:  # file system without hard links
                if target.exists():
                    return "already exists"
                tmp.replace(target)
        else:
            tmp.chmod(stat.S_IMODE(target.stat().st_mode))
            # Checked again as late as possible: a file changed while we wrote is left alone.
            reason = _check_current(target, edit.before)
            if reason is not None:
                return reason
            tmp.replace(target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(target.parent)
    return None


def apply_edits(edits: Iterable[FileEdit], root: Path) -> ApplyResult:
    """Apply ``edits`` under ``root``, each atomically (temporary file, fsync, rename).

    An edit is refused, and reported in the result rather than raised, when the file's
    current content is not ``before`` (changed since it was read; for a creation: exists),
    when it would write outside ``root`` or through a symbolic link, or on an OS error.
    Other edits still proceed, in order.
    """
    edits = tuple(edits)
    try:
        real_root = root.resolve(strict=True)
    except OSError as exc:
        return ApplyResult((), tuple(Refusal(e.path, f"project root: {exc}") for e in edits))
    applied: list[FileEdit] = []
    refused: list[Refusal] = []
    for edit in edits:
        try:
            reason = _apply_one(edit, root, real_root)
        except OSError as exc:
            reason = str(exc.strerror or exc)
        if reason is None:
            applied.append(edit)
        else:
            refused.append(Refusal(edit.path, reason))
    return ApplyResult(tuple(applied), tuple(refused))
