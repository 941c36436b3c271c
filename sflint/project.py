"""The SFDX project: its root, package directories, .forceignore and permission files.

Files are recognised by suffix, never by folder name (folders vary: ``permissionSets/``);
component names are the URL-decoded file names (``Custom%3A Sales Profile``).
"""

from __future__ import annotations

import errno
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from sflint.errors import UsageError
from sflint.kinds import KINDS, Child, Kind, Role
from sflint.model import ComponentType
from sflint.safeio import Refused, resolve_inside

PROJECT_FILE = "sfdx-project.json"
FORCEIGNORE = ".forceignore"
CONFIG_FILE = ".sflint.yml"

# Source format, then Metadata API format, of every kind (sflint/kinds.py).
SUFFIXES: tuple[tuple[str, ComponentType], ...] = tuple(
    (k.suffixes[i], k.type) for i in (0, 1) for k in KINDS
)
# Child files of decomposed components (Salesforce CLI beta), each with its kind.
_CHILDREN: tuple[tuple[Kind, Child], ...] = tuple((k, c) for k in KINDS for c in k.children)
SKIP_DIRS = frozenset({".git", ".sf", ".sfdx", "node_modules", ".venv", "__pycache__"})


@dataclass(frozen=True)
class MetadataFile:
    path: Path
    rel: str  # POSIX path relative to the project root
    type: ComponentType
    name: str  # component API name, URL-decoded
    role: Role = Role.MAIN


@dataclass(frozen=True)
class Project:
    root: Path
    files: tuple[MetadataFile, ...]
    forceignored: tuple[str, ...]


def classify(path: Path) -> tuple[ComponentType, str, Role] | None:
    """(type, component name, role) for a permission metadata file, else None."""
    name = path.name
    for kind, child in _CHILDREN:
        if name.endswith(child.suffix) and len(name) > len(child.suffix):
            # The component is the folder that holds the child file, or, in a layout with
            # one file per entry (beta: <PS>/userPermissions/<Perm>...), the folder above.
            folder = path.parent
            if any(folder.name == layout.folder for layout in child.layouts):
                folder = folder.parent
            return kind.type, unquote(folder.name), child.role
    for suffix, ctype in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return ctype, unquote(name[: -len(suffix)]), Role.MAIN
    return None


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding sfdx-project.json, else the folder
    ``start`` is or sits in.

    A link is placed by the folder it sits in, never by its target: a committed
    ``X.permissionset-meta.xml -> /proc/self/environ`` that pre-commit names on the command
    line would otherwise move the project to ``/proc/self`` and lint what lies there.
    """
    real_dir = start.is_dir() and not start.is_symlink()
    here = Path(os.path.realpath(start if real_dir else start.parent))
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    return here


def _package_dirs(root: Path) -> tuple[str, ...]:
    """``packageDirectories`` paths of sfdx-project.json (none when there is no such file).

    Decomposed permission sets are recognised by their child files' suffix whatever the
    project's ``sourceBehaviorOptions``/``registryPresets`` say: the files on disk are what a
    reviewer sees, and a project caught between the two layouts still gets linted.
    """
    file = root / PROJECT_FILE
    if not file.exists() and not file.is_symlink():
        return ()
    from sflint.safeio import read_settings

    raw = read_settings(file, root, PROJECT_FILE)
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except ValueError as exc:  # also UnicodeDecodeError
        line = getattr(exc, "lineno", None)
        raise UsageError(f"cannot read {PROJECT_FILE}: {exc}", PROJECT_FILE, line) from None
    except RecursionError:
        raise UsageError("nested too deeply", PROJECT_FILE) from None
    if not isinstance(data, dict):
        raise UsageError("expected a JSON object", PROJECT_FILE, 1)
    dirs: list[str] = []
    entries = data.get("packageDirectories")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("path"), str):
            dirs.append(entry["path"].strip("/\\") or ".")
    return tuple(dict.fromkeys(dirs))


# gitignore patterns become regular expressions, and a segment with many ``*`` wildcards
# backtracks polynomially on a long file name (``*a*a*a*a*b`` on a 255-character name runs
# for many seconds per file). Real .forceignore files use at most two per segment.
MAX_STARS_PER_SEGMENT = 2


def _forceignore(root: Path) -> object | None:
    """The project's .forceignore as a gitignore spec (Salesforce DX Developer Guide,
    "Exclude Source": gitignore rules); a pattern that is invalid or too costly to match is
    ``.forceignore:LINE: message``, exit 2, since ignoring it silently would change what is
    linted."""
    file = root / FORCEIGNORE
    if not file.exists() and not file.is_symlink():
        return None
    import pathspec  # lazy: only projects that have a .forceignore pay for it

    from sflint.safeio import read_settings

    text = read_settings(file, root, FORCEIGNORE).decode("utf-8-sig", errors="replace")
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        segments = pattern.replace("\\*", "").split("/")
        if any(seg.count("*") > MAX_STARS_PER_SEGMENT for seg in segments if seg != "**"):
            raise UsageError(
                f"pattern has more than {MAX_STARS_PER_SEGMENT} '*' wildcards in one part;"
                " write it as several patterns",
                FORCEIGNORE,
                number,
            )
        try:
            pathspec.GitIgnoreSpec.from_lines([line])
        except (ValueError, re.error) as exc:
            raise UsageError(f"invalid pattern: {exc}", FORCEIGNORE, number) from None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _rel(path: Path, root: Path) -> str | None:
    """Where ``path`` lies after resolving links, relative to ``root``; None outside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):
        return None


def own_rel(path: Path, root: Path) -> str | None:
    """``path`` relative to ``root`` under its own name, or None when it is not inside.

    A symbolic link is named by where it sits, never by where it points: resolving it would
    give ``AAA.permissionset-meta.xml -> Integration_API.permissionset-meta.xml`` the real
    set's path, and the de-duplication by path would then drop the real set. Only the folder
    is resolved, for a path given from a linked working folder.
    """
    base = Path(os.path.realpath(root))
    lexical = Path(os.path.abspath(path))  # noqa: PTH100 (normalises "..", follows no link)
    for candidate in (lexical, Path(os.path.realpath(path.parent), path.name)):
        try:
            rel = candidate.relative_to(base).as_posix()
        except ValueError:
            continue
        return None if rel == "." else rel
    return None


@dataclass
class _Walk:
    """One walk of the package directories: what is found, and the folders that cannot be."""

    root: Path
    scanned: tuple[Path, ...]  # the package directories, resolved
    spec: object | None  # the .forceignore spec
    files: list[Path] = field(default_factory=list)

    def ignored(self, rel: str, folder: bool = False) -> bool:
        if self.spec is None:
            return False
        name = rel + "/" if folder else rel
        # .forceignore entries appear both URL-encoded and decoded in real projects.
        return bool(
            self.spec.match_file(name) or self.spec.match_file(unquote(name))  # type: ignore[attr-defined]
        )

    def refuse(self, folder: Path, why: str) -> None:
        """A folder that cannot be walked: exit 2, unless .forceignore skips it anyway.

        A folder is not a component, so no finding can stand for it; and a run that silently
        linted less than the Salesforce CLI deploys would be a false pass (the same reason a
        bad .forceignore pattern stops the run)."""
        rel = own_rel(folder, self.root) or str(folder)
        if not self.ignored(rel, folder=True):
            raise UsageError(f"not scanned: it {why}; add it to {FORCEIGNORE} to skip it", rel)

    def walk(self, folder: Path) -> None:
        """Every entry under ``folder`` that is not a folder goes to ``files``, whatever it
        is (the reader judges each); folders are entered, linked folders never are."""
        stack = [folder]
        while stack:
            here = stack.pop()
            try:
                with os.scandir(here) as listing:
                    entries = list(listing)
            except OSError as exc:
                self._unreadable(here, exc)
                continue
            for entry in entries:
                path = here / entry.name
                try:
                    real_dir = entry.is_dir(follow_symlinks=False)
                except OSError as exc:
                    self._unreadable(path, exc)
                    continue
                linked_dir = False
                if not real_dir and entry.is_symlink():
                    try:
                        linked_dir = entry.is_dir()
                    except OSError:  # a loop: a file to the reader, which says what it is
                        linked_dir = False
                if entry.name in SKIP_DIRS and (real_dir or linked_dir):
                    continue
                if real_dir:
                    stack.append(path)
                elif linked_dir:
                    self._linked_folder(path)
                else:
                    self.files.append(path)

    def _unreadable(self, path: Path, exc: OSError) -> None:
        if exc.errno == errno.ENAMETOOLONG:
            self.refuse(path, "has a path longer than the system allows")
        self.refuse(path, f"cannot be read: {exc.strerror}")

    def _linked_folder(self, link: Path) -> None:
        """A linked folder is not followed. It is skipped quietly only when its target is a
        folder this walk covers and does not ignore, so its files are linted under their own
        names; otherwise what the Salesforce CLI would deploy through it (the CLI follows
        links) would go unlinted."""
        try:
            target = resolve_inside(link, self.root)
        except Refused as exc:
            self.refuse(link, exc.reason.replace(" a file ", " a folder "))
            return
        rel = own_rel(target, self.root) or ""
        covered = any(target == s or s in target.parents for s in self.scanned)
        if not covered or self.ignored(rel, folder=True):
            self.refuse(
                link,
                "is a symbolic link to a folder that sflint does not scan, and sflint does not"
                f" follow folder links (list {rel or '.'} in packageDirectories instead)",
            )


def load_project(
    root: Path, *, use_forceignore: bool = True, extra: tuple[Path, ...] = ()
) -> Project:
    """Discover every permission file of the project at ``root``.

    All package directories are scanned (the same component may sit in two of them); when
    sfdx-project.json is missing or names no existing folder, the whole root is scanned.
    ``extra`` are files named on the command line that lie outside the package directories.
    """
    dirs = _package_dirs(root)
    # A package directory outside the project (``../..``) is not the project's source.
    existing = [d for d in dirs if (root / d).is_dir() and _rel(root / d, root) is not None]
    scan = [root / d for d in existing] or [root]
    spec = _forceignore(root) if use_forceignore else None
    walk = _Walk(root, tuple(Path(os.path.realpath(f)) for f in scan), spec)
    for folder in scan:
        walk.walk(folder)
    seen: set[str] = set()
    files: list[MetadataFile] = []
    ignored: list[str] = []
    for path in [*walk.files, *extra]:
        kind = classify(path)
        if kind is None:
            continue
        # Every file named like permission metadata is a component under its own name, even
        # a link, a FIFO or a device: the reader refuses to open it and says what it is.
        rel = own_rel(path, root)
        if rel is None or rel in seen:
            continue
        seen.add(rel)
        if walk.ignored(rel):
            ignored.append(rel)
            continue
        files.append(MetadataFile(path, rel, kind[0], kind[1], kind[2]))
    files.sort(key=lambda f: f.rel)
    return Project(root, tuple(files), tuple(sorted(ignored)))
