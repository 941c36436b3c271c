"""The project: its root, package directories, .forceignore and permission files.

Files are recognised by suffix, never by folder name (folders vary: ``permissionSets/``);
component names are the URL-decoded file names (``Custom%3A Sales Profile``).

Every file belongs to exactly one project, the one ``locate`` finds from it, and a project's
walk reads exactly the files that ``locate`` places in it: so a file's findings are the same
whether the file, its folder or the whole project is named (issue 10).
"""

from __future__ import annotations

import errno
import json
import os
import re
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote

from sflint.errors import UsageError
from sflint.kinds import KINDS, Child, Kind, Role
from sflint.model import ComponentType, ValueEnum
from sflint.safeio import Refused, resolve_inside

PROJECT_FILE = "sfdx-project.json"
FORCEIGNORE = ".forceignore"
CONFIG_FILE = ".sflint.yml"
MANIFEST = "package.xml"  # a Metadata API project's manifest (``src/package.xml``)
MDAPI_SOURCE = "src"
GIT = ".git"


class RootKind(ValueEnum):
    """What made a folder the project root, strongest first (``locate``)."""

    SFDX = PROJECT_FILE
    CONFIG = CONFIG_FILE
    MDAPI = MANIFEST  # a Metadata API project: package.xml, or src/package.xml
    GIT = "git top level"
    GIVEN = "the folder named"

    @property
    def rank(self) -> int:
        return list(RootKind).index(self)


def _is_file(path: Path) -> bool:
    # A link counts: the walk and the reader judge it; a marker only places the project.
    return path.is_file() or path.is_symlink()


def has_marker(folder: Path, kind: RootKind) -> bool:
    """Whether ``folder`` is a project root of this kind.

    A Metadata API retrieve keeps its manifest in ``src/package.xml`` beside the repository's
    settings, so the folder above ``src`` is the project; ``src`` itself is not one.
    """
    if kind is RootKind.SFDX:
        return _is_file(folder / PROJECT_FILE)
    if kind is RootKind.CONFIG:
        return _is_file(folder / CONFIG_FILE)
    if kind is RootKind.MDAPI:
        if folder.name != MDAPI_SOURCE and _is_file(folder / MANIFEST):
            return True
        return _is_file(folder / MDAPI_SOURCE / MANIFEST)
    if kind is RootKind.GIT:
        return (folder / GIT).exists() or (folder / GIT).is_symlink()
    return False


# The markers a walk from a root of each kind treats as the start of another project: the
# kinds at least as strong, since ``locate`` from a file below such a folder stops there.
# An SFDX root walks its package directories whole: the Salesforce CLI deploys everything
# in them, a nested sfdx-project.json included (``locate`` agrees: see ``_outer_sfdx``).
_NESTED: dict[RootKind, tuple[RootKind, ...]] = {
    kind: ()
    if kind is RootKind.SFDX
    else tuple(k for k in RootKind if k.rank <= kind.rank and k is not RootKind.GIVEN)
    for kind in RootKind
}
_ONLY_SFDX = (RootKind.SFDX,)


# NamedTuples, not dataclasses: frozen values all the same, but every run creates these
# classes (a frozen dataclass compiles six methods when its class is created) and one
# MetadataFile per file (a tuple is built faster than a frozen dataclass sets its fields).
class Root(NamedTuple):
    path: Path
    kind: RootKind


def locate(start: Path) -> Root:
    """The project holding ``start``: the nearest folder at or above it with
    sfdx-project.json, else the nearest with .sflint.yml, else the nearest Metadata API
    project (package.xml), else the git top level (a ``.git`` folder or file), else the
    folder ``start`` is or sits in.

    A link is placed by the folder it sits in, never by its target: a committed
    ``X.permissionset-meta.xml -> /proc/self/environ`` that pre-commit names on the command
    line would otherwise move the project to ``/proc/self`` and lint what lies there.
    """
    real_dir = start.is_dir() and not start.is_symlink()
    here = Path(os.path.realpath(start if real_dir else start.parent))
    chain = (here, *here.parents)
    for kind in (RootKind.SFDX, RootKind.CONFIG, RootKind.MDAPI, RootKind.GIT):
        for folder in chain:
            if has_marker(folder, kind):
                if kind is RootKind.SFDX:
                    folder = _outer_sfdx(folder, here)
                return Root(folder, kind)
    return Root(here, RootKind.GIVEN)


def _outer_sfdx(nearest: Path, here: Path) -> Path:
    """An SFDX project above ``nearest`` whose package directories hold ``here`` wins: the
    CLI deploys its package directories whole, so a pull request that adds an
    sfdx-project.json inside one cannot move its files out of the project that deploys them."""
    found = nearest
    for folder in nearest.parents:
        if not has_marker(folder, RootKind.SFDX):
            continue
        try:
            dirs = _package_dirs(folder)
        except UsageError:  # an unreadable outer file: that project's own run says so
            continue
        for d in dirs:
            real = Path(os.path.realpath(folder / d))
            if real == here or real in here.parents:
                found = folder
    return found


def find_root(start: Path) -> Path:
    """The root of the project holding ``start`` (``locate``)."""
    return locate(start).path


def git_top(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``.git``, without running git."""
    here = Path(os.path.realpath(start))
    for folder in (here, *here.parents):
        if has_marker(folder, RootKind.GIT):
            return folder
    return None


# Source format, then Metadata API format, of every kind (sflint/kinds.py).
SUFFIXES: tuple[tuple[str, ComponentType], ...] = tuple(
    (k.suffixes[i], k.type) for i in (0, 1) for k in KINDS
)
# Child files of decomposed components (Salesforce CLI beta), each with its kind.
_CHILDREN: tuple[tuple[Kind, Child], ...] = tuple((k, c) for k in KINDS for c in k.children)
_META = "-meta.xml"
SKIP_DIRS = frozenset({".git", ".sf", ".sfdx", "node_modules", ".venv", "__pycache__"})
# Every suffix ``classify`` knows: a name that ends in none of them is no permission file, and
# one ``endswith`` call with a tuple says so (most files of a real repository are classes,
# objects, layouts: the walk then builds no Path for them).
_CHILD_SUFFIXES = tuple(c.suffix for _, c in _CHILDREN)
_ANY_SUFFIX = _CHILD_SUFFIXES + tuple(s for s, _ in SUFFIXES)
# Each component suffix by its word (``permissionset``) and whether ``-meta.xml`` follows it:
# a name's last dot-separated word, one dict lookup, names its type (the suffixes' words are
# distinct and hold no dot).
_BY_WORD = {(s[1:].removesuffix(_META), s.endswith(_META)): ctype for s, ctype in SUFFIXES}


class MetadataFile(NamedTuple):
    path: Path
    rel: str  # POSIX path relative to the project root
    type: ComponentType
    name: str  # component API name, URL-decoded
    role: Role = Role.MAIN


class Project(NamedTuple):
    root: Path
    files: tuple[MetadataFile, ...]
    forceignored: tuple[str, ...]
    kind: RootKind = RootKind.GIVEN
    # The folders walked, relative to the root ("." for the whole root).
    package_dirs: tuple[str, ...] = (".",)
    # Named on the command line and linted although outside ``package_dirs``.
    outside: tuple[str, ...] = ()
    # Roots of other projects below this one that the walk left to themselves.
    nested: tuple[Path, ...] = ()


def classify(path: Path) -> tuple[ComponentType, str, Role] | None:
    """(type, component name, role) for a permission metadata file, else None."""
    name = path.name
    if not name.endswith(_ANY_SUFFIX):
        return None
    if name.endswith(_CHILD_SUFFIXES):
        for kind, child in _CHILDREN:
            if name.endswith(child.suffix) and len(name) > len(child.suffix):
                # The component is the folder that holds the child file, or, in a layout
                # with one file per entry (beta: <PS>/userPermissions/<Perm>...), the folder
                # above.
                folder = path.parent
                if any(folder.name == layout.folder for layout in child.layouts):
                    folder = folder.parent
                return kind.type, unquote(folder.name), child.role
    # What a loop over SUFFIXES finds (the name ends in ``.<word>`` or ``.<word>-meta.xml``
    # after a non-empty stem), in one lookup: discovery asks it of every file.
    meta = name.endswith(_META)
    stem, _, word = (name[: -len(_META)] if meta else name).rpartition(".")
    ctype = _BY_WORD.get((word, meta))
    if ctype is None or not stem:
        return None
    return ctype, unquote(stem), Role.MAIN


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
    return _own_rel(path, Path(os.path.realpath(root)))


def _own_rel(path: Path, base: Path) -> str | None:
    """``own_rel`` with the root already resolved (``base``); the folder is resolved only
    when the path's own spelling is not inside it (realpath costs a call per component)."""
    top = str(base).rstrip("/") + "/"
    spelled = os.fspath(path)
    # A Path's text is already normalised but for "..": absolute, below the root and
    # without "..", it is what abspath would give (1,550 files: 2 ms of a warm run).
    if not spelled.startswith(top) or "/.." in spelled:
        spelled = os.path.abspath(path)  # noqa: PTH100 (normalises "..", follows no link)
    if os.sep == "/" and spelled.startswith(top) and len(spelled) > len(top):
        # What relative_to gives, without building two Paths per file (a warm run's
        # discovery spent most of its time here).
        return spelled[len(top) :]
    lexical = Path(spelled)
    rel = _relative(lexical, base)
    if rel is None:
        rel = _relative(Path(os.path.realpath(path.parent), path.name), base)
    return None if rel == "." else rel


def _relative(path: Path, base: Path) -> str | None:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return None


class _Walk:
    """One walk of the package directories: what is found, and the folders that cannot be.
    A plain class (mutable, private, never compared): a dataclass would compile its methods
    on every run."""

    def __init__(self, root: Path, scanned: tuple[Path, ...], spec: object | None) -> None:
        self.root = root
        self.scanned = scanned  # the package directories, resolved
        self.spec = spec  # the .forceignore spec
        self.files: list[Path] = []
        self.nested: list[Path] = []  # other projects' roots, not entered

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

    def walk(self, folder: Path, nested: tuple[RootKind, ...] = ()) -> None:
        """Every entry under ``folder`` that is not a folder and is named like permission
        metadata goes to ``files``, whatever it is (a link, a FIFO: the reader judges each);
        folders are entered, linked folders never are, nor folders that are the root of
        another project (a marker of a kind in ``nested``)."""
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
                name = entry.name
                try:
                    real_dir = entry.is_dir(follow_symlinks=False)
                except OSError as exc:
                    self._unreadable(here / name, exc)
                    continue
                linked_dir = False
                if not real_dir and entry.is_symlink():
                    try:
                        linked_dir = entry.is_dir()
                    except OSError:  # a loop: a file to the reader, which says what it is
                        linked_dir = False
                if name in SKIP_DIRS and (real_dir or linked_dir):
                    continue
                if real_dir:
                    path = here / name
                    if any(has_marker(path, k) for k in nested):
                        self.nested.append(path)
                    else:
                        stack.append(path)
                elif linked_dir:
                    self._linked_folder(here / name)
                elif name.endswith(_ANY_SUFFIX):  # what classify can name; it decides
                    self.files.append(here / name)

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
    root: Path,
    *,
    use_forceignore: bool = True,
    extra: tuple[Path, ...] = (),
    kind: RootKind | None = None,
) -> Project:
    """Discover every permission file of the project at ``root``.

    An SFDX project scans all its package directories (the same component may sit in two of
    them); any other project (``kind``), or one whose sfdx-project.json names no existing
    folder, scans the whole root except the folders that are projects of their own.
    ``extra`` are files and folders named on the command line: those outside the scanned
    folders are linted too, and listed in ``outside``.
    """
    kind = kind or (RootKind.SFDX if has_marker(root, RootKind.SFDX) else RootKind.GIVEN)
    dirs = _package_dirs(root)
    # A package directory outside the project (``../..``) is not the project's source.
    existing = [d for d in dirs if (root / d).is_dir() and _rel(root / d, root) is not None]
    scan = [root / d for d in existing] or [root]
    # An SFDX project that names no existing folder is scanned whole, like any other, but only
    # another sfdx-project.json starts another project below it (``locate``).
    nested = _NESTED[kind] if existing or kind is not RootKind.SFDX else _ONLY_SFDX
    spec = _forceignore(root) if use_forceignore else None
    scanned = tuple(Path(os.path.realpath(f)) for f in scan)
    named_dirs = [p for p in extra if p.is_dir() and not p.is_symlink()]
    outside = [p for p in extra if not _covered(p, scanned)]
    walk = _Walk(root, (*scanned, *(Path(os.path.realpath(d)) for d in named_dirs)), spec)
    for folder in scan:
        walk.walk(folder, nested)
    for folder in named_dirs:
        if folder in outside:
            # Outside the package directories, another SFDX project starts where a file
            # below it would be placed (``locate``).
            walk.walk(folder, _ONLY_SFDX if kind is RootKind.SFDX else _NESTED[kind])
    seen: set[str] = set()
    files: list[MetadataFile] = []
    ignored: list[str] = []
    base = Path(os.path.realpath(root))
    top = str(base).rstrip("/") + "/"
    for path in [*walk.files, *(p for p in extra if p not in named_dirs)]:
        kind_of = classify(path)
        if kind_of is None:
            continue
        # Every file named like permission metadata is a component under its own name, even
        # a link, a FIFO or a device: the reader refuses to open it and says what it is.
        # ``_own_rel``'s first answer inline (a file the walk found below the root).
        spelled = os.fspath(path)
        if os.sep == "/" and spelled.startswith(top) and len(spelled) > len(top):
            rel = spelled[len(top) :] if "/.." not in spelled else _own_rel(path, base)
        else:
            rel = _own_rel(path, base)
        if rel is None or rel in seen:
            continue
        seen.add(rel)
        if walk.ignored(rel):
            ignored.append(rel)
            continue
        files.append(MetadataFile(path, rel, kind_of[0], kind_of[1], kind_of[2]))
    files.sort(key=attrgetter("rel"))
    return Project(
        root,
        tuple(files),
        tuple(sorted(ignored)),
        kind=kind,
        package_dirs=tuple(existing) or (".",),
        outside=tuple(sorted(own_rel(p, root) or "." for p in outside)),
        nested=tuple(sorted(set(walk.nested))),
    )


def _covered(path: Path, scanned: tuple[Path, ...]) -> bool:
    """Whether the walk of ``scanned`` reaches ``path`` (a file by the folder it sits in)."""
    real_dir = path.is_dir() and not path.is_symlink()
    here = Path(os.path.realpath(path if real_dir else path.parent))
    return any(here == s or s in here.parents for s in scanned)
