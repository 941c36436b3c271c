"""The SFDX project: its root, package directories, .forceignore and permission files.

Files are recognised by suffix, never by folder name (folders vary: ``permissionSets/``);
component names are the URL-decoded file names (``Custom%3A Sales Profile``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from sflint.errors import UsageError
from sflint.kinds import KINDS, Child, Kind, Role
from sflint.model import ComponentType

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
    """The nearest folder at or above ``start`` holding sfdx-project.json, else ``start``."""
    here = start if start.is_dir() else start.parent
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


def _walk(folder: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        out.extend(Path(dirpath, f) for f in sorted(filenames))
    return out


def _rel(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


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
    seen: set[str] = set()
    files: list[MetadataFile] = []
    ignored: list[str] = []
    for path in [p for folder in scan for p in _walk(folder)] + list(extra):
        kind = classify(path)
        if kind is None:
            continue
        rel = _rel(path, root)
        if rel is None or rel in seen:
            continue
        seen.add(rel)
        # .forceignore entries appear both URL-encoded and decoded in real projects.
        if spec is not None and (
            spec.match_file(rel) or spec.match_file(unquote(rel))  # type: ignore[attr-defined]
        ):
            ignored.append(rel)
            continue
        files.append(MetadataFile(path, rel, kind[0], kind[1], kind[2]))
    files.sort(key=lambda f: f.rel)
    return Project(root, tuple(files), tuple(sorted(ignored)))
