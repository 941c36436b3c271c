"""A git revision's permission metadata, read from git objects, never from the working tree.

``sflint diff`` and ``check --new-since`` must see what a commit holds without checking it
out: a reviewer's working tree and index stay as they are, and nothing a revision contains
runs. ``git archive`` is not used: it applies ``.gitattributes`` (``export-ignore`` would
drop files, and filter drivers named in the configuration run commands). So the
files a project load reads (permission metadata by suffix, ``sfdx-project.json``,
``.sflint.yml``, ``.forceignore``, ``package.xml`` and YAML rule files) are listed with
``git ls-tree`` and copied with ``git cat-file --batch`` into a private temporary folder laid
out as the repository is, which then loads like any project (``pipeline.load``), under the
same file-access policy (sflint.safeio) and limits as a checkout:

- git runs with every setting that could run a program or reach the network turned off on
  its command line and in its environment (``_SAFE``, ``_env``): no hooks, no fsmonitor, no
  pager, no transport (a partial clone's missing object is an error, never a fetch), no
  replace refs, no system or global config; the revision is given after
  ``--end-of-options``, so it can never be read as an option.
- every path from the tree is hostile (docs/security.md): a name with an empty, ``.``,
  ``..`` or ``.git`` component is skipped; folders are created one by one and must be real
  folders; files are created exclusively and without following links.
- a file over its size limit (``safeio.METADATA_LIMIT``, ``SETTINGS_LIMIT``) is not read
  from git: a sparse file of its size stands for it, so the reader refuses it with the same
  message as in a checkout (SFL010, or exit 2 for a settings file). A symbolic link is
  written as the link it is (its target at most ``LINK_LIMIT`` bytes), so the policy decides
  it as in a checkout (a link out of the project is SFL010); a submodule is not read.
- at most ``FILE_LIMIT`` files and ``TOTAL_LIMIT`` bytes are copied; more is exit 2.

Git's plumbing output is specified in git-ls-tree(1) ("Output format") and git-cat-file(1)
("Batch output").
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sflint.errors import UsageError

__all__ = [
    "FILE_LIMIT",
    "LINK_LIMIT",
    "TOTAL_LIMIT",
    "Revision",
    "Tree",
    "files_at",
    "git_top",
    "materialise",
    "resolve",
]

FILE_LIMIT = 200_000
TOTAL_LIMIT = 2 * 1024 * 1024 * 1024  # 2 GiB, well above any real repository's metadata
LINK_LIMIT = 4096  # PATH_MAX on Linux

# Settings that would run a program or touch the network, off for every call (git-config(1)).
_SAFE = (
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.pager=cat",
    "-c",
    "core.untrackedCache=false",
    "-c",
    "protocol.allow=never",
    "-c",
    "core.sshCommand=false",
    "--no-pager",
    "--no-replace-objects",
    "--literal-pathspecs",
)
_TIMEOUT = 600  # seconds for one git call: a hung git is an error, not a hung review

# The files beside permission metadata that loading a project reads (sflint.project,
# sflint.config); rule files are YAML.
_SETTINGS_NAMES = frozenset({"sfdx-project.json", ".sflint.yml", ".forceignore", "package.xml"})
_RULE_SUFFIXES = (".yaml", ".yml")


def _env() -> dict[str, str]:
    """The environment git runs in: the user's, without any ``GIT_*`` variable (which could
    point git at another repository, config or program), and with the system and global
    config, prompts, optional locks and lazy fetches off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_OPTIONAL_LOCKS="0",
        GIT_NO_LAZY_FETCH="1",
        GIT_ATTR_NOSYSTEM="1",
        LC_ALL="C",
    )
    return env


def _git(cwd: Path, *args: str) -> bytes:
    """Run ``git args`` in ``cwd`` and return its output; UsageError (exit 2) with git's
    first line of error when it fails."""
    try:
        done = subprocess.run(
            ["git", *_SAFE, *args],
            cwd=cwd,
            env=_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise UsageError("git is not installed (sflint diff reads revisions with git)") from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"git failed: {exc}") from None
    if done.returncode != 0:
        first = next(iter(done.stderr.decode("utf-8", "replace").splitlines()), "")
        raise UsageError(f"git {args[0]} failed: {first or f'exit {done.returncode}'}")
    return done.stdout


def git_top(path: Path) -> Path:
    """The top level of the git repository holding ``path``; UsageError outside one."""
    folder = path if path.is_dir() else path.parent
    try:
        out = _git(folder, "rev-parse", "--show-toplevel")
    except UsageError:
        raise UsageError(f"{path} is not in a git repository") from None
    return Path(os.fsdecode(out.rstrip(b"\n")))


@dataclass(frozen=True)
class Revision:
    """A commit as the user named it (``spec``: a branch, tag, ``HEAD~1``, a hash)."""

    spec: str
    commit: str  # the full object name
    top: Path  # the repository's top level

    @property
    def short(self) -> str:
        return self.commit[:12]


def resolve(top: Path, spec: str) -> Revision:
    """The commit ``spec`` names in the repository at ``top``; UsageError (one line, exit 2)
    when it names none."""
    if not spec or any(c in spec for c in "\x00\n\r"):
        raise UsageError(f"not a revision: {spec!r}")
    try:
        out = _git(
            top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{spec}^{{commit}}"
        )
    except UsageError:
        raise UsageError(f"unknown revision {spec!r} (not a commit in {top})") from None
    return Revision(spec, out.decode("ascii").strip(), top)


@dataclass(frozen=True)
class _Entry:
    mode: str
    oid: str
    size: int | None  # None for a submodule
    path: str  # POSIX, relative to the top; os.fsdecode of git's bytes


def _wanted(path: str) -> bool:
    """Whether loading a project may read the file at ``path`` (by its name only)."""
    from sflint.project import classify

    name = path.rpartition("/")[2]
    if name in _SETTINGS_NAMES or name.endswith(_RULE_SUFFIXES):
        return True
    return classify(Path(path)) is not None


def _safe_parts(path: str) -> tuple[str, ...] | None:
    parts = tuple(path.split("/"))
    for part in parts:
        if part in ("", ".", "..") or part.casefold() == ".git" or "\x00" in part:
            return None
    return parts


def _entries(rev: Revision) -> list[_Entry]:
    """Every wanted entry of the revision's tree (git-ls-tree(1): ``<mode> SP <type> SP
    <object> SP <size> TAB <path>``, NUL-terminated with -z)."""
    out = _git(rev.top, "ls-tree", "-r", "-z", "-l", "--full-tree", rev.commit)
    entries = []
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, raw = record.partition(b"\t")
        fields = meta.split()
        if len(fields) != 4:
            continue
        mode, _kind, oid, size = (f.decode("ascii", "replace") for f in fields)
        path = os.fsdecode(raw)
        if _safe_parts(path) is None or not _wanted(path):
            continue
        entries.append(_Entry(mode, oid, int(size) if size.isdigit() else None, path))
    return entries


def _limit(path: str) -> int:
    from sflint.safeio import METADATA_LIMIT, SETTINGS_LIMIT

    name = path.rpartition("/")[2]
    settings = name in _SETTINGS_NAMES or name.endswith(_RULE_SUFFIXES)
    return SETTINGS_LIMIT if settings else METADATA_LIMIT


@dataclass(frozen=True)
class Tree:
    """A revision's wanted files, copied into ``root`` (the repository's top at that
    revision)."""

    revision: Revision
    root: Path
    files: int  # files and links written
    skipped: int  # submodules and oversized links


def _folder(root: Path, parts: tuple[str, ...]) -> Path:
    """The folder ``root/parts``, created one level at a time; each level must be a real
    folder (never a link, which a previous entry could not have made one, but a hostile
    tree is checked, not trusted)."""
    here = root
    for part in parts:
        here = here / part
        with contextlib.suppress(FileExistsError):
            here.mkdir(0o700)
        if not stat.S_ISDIR(os.lstat(here).st_mode):
            raise UsageError(f"{PurePosixPath(*parts)}: not a folder in the revision's tree")
    return here


def _create(path: Path) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    return os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o600)


class _Blobs:
    """``git cat-file --batch``, one object at a time: write a name, read ``<oid> SP <type>
    SP <size> LF <contents> LF`` (git-cat-file(1), "Batch output"; flushed per object)."""

    def __init__(self, top: Path) -> None:
        self.proc = subprocess.Popen(
            ["git", *_SAFE, "cat-file", "--batch"],
            cwd=top,
            env=_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def read(self, oid: str, into: int | None = None) -> bytes:
        """The object's bytes; written to the descriptor ``into`` instead when given."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(oid.encode("ascii") + b"\n")
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().split()
        if len(header) != 3 or header[1] not in (b"blob",) or not header[2].isdigit():
            raise UsageError(f"git cat-file: cannot read object {oid}")
        left, chunks = int(header[2]), []
        while left:
            chunk = self.proc.stdout.read(min(left, 1 << 20))
            if not chunk:
                raise UsageError(f"git cat-file: object {oid} ended early")
            left -= len(chunk)
            if into is None:
                chunks.append(chunk)
            else:
                os.write(into, chunk)
        self.proc.stdout.read(1)  # the LF after the contents
        return b"".join(chunks)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _write_all(tree: list[_Entry], root: Path, rev: Revision) -> tuple[int, int]:
    """Write each entry under ``root``; (files written, entries skipped)."""
    written = skipped = 0
    blobs = _Blobs(rev.top)
    try:
        for e in tree:
            parts = tuple(e.path.split("/"))
            where = _folder(root, parts[:-1]) / parts[-1]
            if e.mode == "120000":  # a symbolic link: its blob is the target
                if e.size is None or e.size > LINK_LIMIT:
                    skipped += 1
                    continue
                where.symlink_to(os.fsdecode(blobs.read(e.oid)))
            elif e.mode in ("100644", "100755") and e.size is not None:
                fd = _create(where)
                try:
                    if e.size > _limit(e.path):
                        os.ftruncate(fd, e.size)  # sparse: refused by its size, as in a checkout
                    else:
                        blobs.read(e.oid, into=fd)
                finally:
                    os.close(fd)
            else:  # a submodule (160000) or anything else git may add
                skipped += 1
                continue
            written += 1
    finally:
        blobs.close()
    return written, skipped


@contextlib.contextmanager
def materialise(rev: Revision) -> Iterator[Tree]:
    """The revision's wanted files in a private temporary folder laid out as the repository
    (with an empty ``.git`` folder at its top, so that a project found by its git top level
    is found there too), removed when the block ends. UsageError (exit 2) when the revision
    holds more than ``FILE_LIMIT`` files or ``TOTAL_LIMIT`` bytes to copy."""
    entries = _entries(rev)
    if len(entries) > FILE_LIMIT:
        raise UsageError(
            f"revision {rev.spec!r} has {len(entries)} files to read, over the {FILE_LIMIT} limit"
        )
    total = sum(e.size or 0 for e in entries if (e.size or 0) <= _limit(e.path))
    if total > TOTAL_LIMIT:
        raise UsageError(
            f"revision {rev.spec!r} has {total} bytes to read, over the {TOTAL_LIMIT} byte limit"
        )
    # The real path: the project found below it is named as locate names it (no /tmp link).
    root = Path(os.path.realpath(tempfile.mkdtemp(prefix="sflint-rev-")))
    try:
        (root / ".git").mkdir()
        try:
            written, skipped = _write_all(entries, root, rev)
        except OSError as exc:
            raise UsageError(f"revision {rev.spec!r}: cannot copy its files: {exc}") from None
        yield Tree(rev, root, written, skipped)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def files_at(top: Path, rev: str) -> Iterator[Path]:
    """``check --new-since REV``'s view (sflint.since): the folder holding revision ``rev``
    of the repository at ``top`` (``materialise``), its errors worded for the option."""
    try:
        revision = resolve(top, rev)
    except UsageError:
        raise UsageError(
            f"--new-since {rev}: not a commit of the repository at {top} (in a shallow clone,"
            " fetch it first, e.g. git fetch --depth=1 origin <commit>)"
        ) from None
    with contextlib.ExitStack() as stack:
        try:
            tree = stack.enter_context(materialise(revision))
        except UsageError as exc:  # only copying the revision: the caller's errors pass
            raise UsageError(f"--new-since {rev}: {exc.message}", exc.path, exc.line) from None
        yield tree.root
