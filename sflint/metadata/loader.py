"""Assemble components from the project's files (decomposed sets from several files)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from sflint.kinds import Role
from sflint.metadata.reader import ParsedFile, parse_bytes
from sflint.model import Component, ComponentType, Location, Problem, ProblemKind
from sflint.project import MetadataFile


def read_file(file: MetadataFile, root: Path | None) -> ParsedFile:
    return read_file_and_bytes(file, root)[0]


def read_file_and_bytes(file: MetadataFile, root: Path | None) -> tuple[ParsedFile, bytes | None]:
    """The parsed file and the bytes it was parsed from (None when it was not read).

    Read under the file-access policy (:mod:`sflint.safeio`): only a regular file inside
    ``root`` after resolving links, at most ``METADATA_LIMIT`` bytes. Anything else (a link
    out of the project, a loop, a FIFO, a device) is an invalid-metadata problem of its own
    at line 1 that says what the path is; it is never opened."""
    from sflint.safeio import METADATA_LIMIT, Refused, read_bytes

    try:
        data = read_bytes(file.path, root, METADATA_LIMIT)
    except Refused as exc:
        problem = Problem(f"not read: it {exc.reason}", Location(file.rel, 1))
        return ParsedFile("", 1, problems=(problem,)), None
    return parse_bytes(data, file.rel, file.type, file.role), data


def build_components(files: Iterable[tuple[MetadataFile, ParsedFile]]) -> tuple[Component, ...]:
    """One component per copy of each (type, name); a copy's files are merged in path order.

    A decomposed set is one copy made of several files (its folder); a component defined
    twice (in two package directories, or in two formats) is two copies. The Salesforce CLI
    resolves both and a deploy keeps one, and which one it keeps is not documented (the
    source-deploy-retrieve handbook: several source components with one type and fullName
    may coexist in a component set). So neither hides the other: each copy is a component of
    its own, evaluated on its own, and knows where the others are (``duplicates``, SFL015).
    """
    out: dict[tuple[ComponentType, str, str], Component] = {}
    for file, parsed in files:
        key = (file.type, file.name, _copy_of(file))
        current = out.get(key)
        if current is None:
            current = Component(type=file.type, name=file.name, files=())
        is_main = file.role is Role.MAIN
        # A file whose only problems are ambiguities was read whole: it anchors the component.
        readable = all(p.kind is ProblemKind.AMBIGUOUS for p in parsed.problems)
        current = replace(
            current,
            files=(*current.files, file.rel),
            label=current.label or parsed.label,
            license=current.license or parsed.license,
            user_license=current.user_license or parsed.user_license,
            grants=current.grants + parsed.grants,
            members=current.members + parsed.members,
            muting_members=current.muting_members + parsed.muting_members,
            problems=current.problems + parsed.problems,
            suppressions=current.suppressions + parsed.suppressions,
            anchor=current.anchor
            or (Location(file.rel, parsed.root_line) if is_main and readable else None),
        )
        out[key] = current
    copies: dict[tuple[ComponentType, str], list[Component]] = {}
    for component in out.values():
        copies.setdefault(component.key_t, []).append(component)
    result = [
        replace(c, duplicates=tuple(o.location for o in same if o is not c)) if len(same) > 1 else c
        for same in copies.values()
        for c in same
    ]
    return tuple(sorted(result, key=lambda c: (c.type.value, c.name, c.location.path)))


def _copy_of(file: MetadataFile) -> str:
    """The copy a file belongs to: a decomposed set's folder (named after the component, and
    holding its main file and its children), else the file itself."""
    path = PurePosixPath(file.rel)
    for folder in path.parents:
        if unquote(folder.name) == file.name:
            return folder.as_posix()
        if file.role is Role.MAIN:
            break  # a main file is decomposed only when its own folder is the set's
    return file.rel


def load_components(files: Iterable[MetadataFile], root: Path | None) -> tuple[Component, ...]:
    """Read every file (each inside ``root``, the project) and assemble the components."""
    return build_components((f, read_file(f, root)) for f in files)


def load_with_sources(
    files: Iterable[MetadataFile], root: Path | None
) -> tuple[tuple[Component, ...], dict[str, bytes]]:
    """``load_components``, and the bytes of every readable file by path, read once (for
    rules that read the files themselves: ``xpath``); a refused file has no bytes, so no
    rule ever reads past the policy."""
    read = [(f, *read_file_and_bytes(f, root)) for f in files]
    components = build_components((f, parsed) for f, parsed, _ in read)
    return components, {f.rel: data for f, _, data in read if data is not None}
