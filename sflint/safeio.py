"""The one file-access policy: every file sflint reads from a project, and every report it
writes, goes through here.

Whatever a pull request adds is controlled by its author: a permission set may be a symbolic
link to ``/proc/self/environ``, a rule file a link to ``/dev/zero``, a config a FIFO that
blocks forever, ``sflint.sarif`` a committed link to ``~/.bashrc``. So a project file is read
only when, after resolving links, it is a regular file inside the project, and never more
than a size limit; a report is never written through a symbolic link. A refusal says what
the path is, in words, and never what it contains.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from sflint.errors import UsageError

# Size limits by what a file is. Real profiles reach several MB and none approaches 64 MB;
# config and rule files are a few KB (docs/security.md lists every limit).
METADATA_LIMIT = 64 * 1024 * 1024
SETTINGS_LIMIT = 1024 * 1024  # .sflint.yml, rule files, sfdx-project.json, .forceignore


class Refused(Exception):
    """A path that the policy does not read; ``reason`` is a phrase such as "is a FIFO"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "is a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device"
    return "is not a regular file"


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def resolve_inside(path: Path, root: Path | None) -> Path:
    """``path`` with every link resolved, if it stays inside ``root`` (any place when
    ``root`` is None); raises Refused for a loop, a dangling link or a link that leaves."""
    try:
        real = Path(os.path.realpath(path, strict=True))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refused("is a symbolic link loop") from None
        if path.is_symlink():
            raise Refused("is a symbolic link to nothing") from None
        raise Refused(f"cannot be read: {exc.strerror}") from None
    except RuntimeError:  # pathlib's own loop detection on some versions
        raise Refused("is a symbolic link loop") from None
    if root is not None and not _inside(real, Path(os.path.realpath(root))):
        raise Refused("is a symbolic link to a file outside the project")
    return real


def check_regular(path: Path, root: Path | None) -> Path:
    """The resolved path of a regular file inside ``root``; raises Refused otherwise.
    Nothing is opened, so a FIFO or a device is described without blocking on it."""
    real = resolve_inside(path, root)
    try:
        mode = real.stat().st_mode
    except OSError as exc:
        raise Refused(f"cannot be read: {exc.strerror}") from None
    kind = _kind(mode)
    if kind is not None:
        raise Refused(kind)
    return real


def read_bytes(path: Path, root: Path | None, limit: int) -> bytes:
    """The bytes of ``path`` under the policy; raises Refused with the reason.

    The file is opened without following a last link (the resolved path has none, so a link
    swapped in after the check fails instead of being followed) and non-blocking (a FIFO
    swapped in cannot hang the run); its type and size are checked on the open descriptor,
    and at most ``limit`` bytes are ever read, even from a file that grows meanwhile.
    """
    return read_no_follow(check_regular(path, root), limit)


def read_no_follow(path: Path | str, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes, else
    Refused: a last link is never followed, a FIFO cannot block, type and size are checked
    on the open descriptor, and no more than ``limit`` bytes are read from a growing file.
    (Also the cache's reader of its own files, which are not inside the project.)"""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise Refused(f"cannot be read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        kind = _kind(info.st_mode)
        if kind is not None:
            raise Refused(kind)
        if info.st_size > limit:
            raise Refused(f"is {info.st_size} bytes, over the {limit} byte limit")
        chunks: list[bytes] = []
        size = 0
        # The file as its status says in one read, into a buffer of its size (a 4 MB one
        # for every small file cost an allocation of 4 MB and shrinking it back), and then
        # whatever it grew by, in reads of 4 MB.
        want = info.st_size + 1
        while size <= limit:
            chunk = os.read(fd, min(want, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            want = 1 << 22
        if size > limit:
            raise Refused(f"grew over the {limit} byte limit while being read")
        return b"".join(chunks)
    except OSError as exc:
        raise Refused(f"cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)


class Folders:
    """The policy for many files of a few folders, each folder's links resolved once.

    ``realpath`` walks every component of a path with a system call each, and asking it
    again for each of a project's files was a fifth of a cold read. Here a folder is
    resolved once; when it is inside the root and the file in it is a regular file (not a
    link, a FIFO or a device: ``lstat``, nothing opened), the file is opened at its
    resolved path without following a last link, exactly as ``read_bytes`` opens it. In
    every other case (a link, which may point anywhere, a FIFO, a folder outside the root,
    a file that went away) the policy itself is asked, and says why not."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.real_root = os.path.realpath(root) if root is not None else None
        self._folders: dict[str, str | None] = {}

    def _real(self, path: Path) -> str | None:
        """``path`` in its resolved folder, if that folder is inside the root."""
        # Strings, not Paths (a Path costs a parse); the folder as spelled, since realpath
        # resolves a link before a "..".
        name = os.fspath(path)
        folder = os.path.dirname(name)  # noqa: PTH120
        if folder not in self._folders:
            real, top = os.path.realpath(folder), self.real_root
            inside = top is None or real == top or real.startswith(top.rstrip(os.sep) + os.sep)
            self._folders[folder] = real if inside else None
        real_folder = self._folders[folder]
        if real_folder is None:
            return None
        return os.path.join(real_folder, os.path.basename(name))  # noqa: PTH118, PTH119

    def read(self, path: Path, limit: int) -> tuple[os.stat_result, bytes]:
        """The status (``check_regular(path, root).stat()``) and the bytes (``read_bytes``)
        of ``path``, the status taken first; raises Refused or OSError as they do."""
        real = self._real(path)
        if real is not None:
            try:
                st = os.lstat(real)
            except OSError:
                st = None
            if st is not None and stat.S_ISREG(st.st_mode):
                return st, read_no_follow(real, limit)
        st = check_regular(path, self.root).stat()
        return st, read_bytes(path, self.root, limit)


def read_settings(path: Path, root: Path | None, display: str) -> bytes:
    """A config, rule, project or ignore file, or a UsageError (exit 2) that says why not."""
    try:
        return read_bytes(path, root, SETTINGS_LIMIT)
    except Refused as exc:
        raise UsageError(f"not read: it {exc.reason}", display) from None


def _linked_parent(path: Path) -> Path | None:
    """The first folder of ``path`` inside the current folder that is a symbolic link."""
    cwd = Path.cwd()
    absolute = path if path.is_absolute() else cwd / path
    for parent in reversed(absolute.parents):
        if parent != cwd and cwd in parent.parents and parent.is_symlink():
            return parent
    return None


def write_text(path: Path, text: str) -> None:
    """Write a report (``--output``, ``--sarif-file``); UsageError (exit 2) instead of
    writing through a symbolic link. A committed ``sflint.sarif -> ~/.bashrc``, or a folder
    of the checkout linked elsewhere, would otherwise let a pull request overwrite any file
    the CI runner can write."""
    if path.is_symlink():
        raise UsageError(f"{path}: not written: it is a symbolic link")
    linked = _linked_parent(path)
    if linked is not None:
        raise UsageError(f"{path}: not written: its folder {linked} is a symbolic link")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a link swapped in after the check
            raise UsageError(f"{path}: not written: it is a symbolic link") from None
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
