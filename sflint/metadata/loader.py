"""Assemble components from the project's files (decomposed sets from several files)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from sflint.kinds import Role
from sflint.metadata.reader import ParsedFile, parse_bytes
from sflint.model import Component, ComponentType, Location, Problem
from sflint.project import MetadataFile

# Files larger than this are refused rather than parsed: real profiles reach several MB,
# none approaches this, and a bound keeps memory per file predictable.
MAX_FILE_BYTES = 64 * 1024 * 1024


def read_file(file: MetadataFile) -> ParsedFile:
    return read_file_and_bytes(file)[0]


def read_file_and_bytes(file: MetadataFile) -> tuple[ParsedFile, bytes | None]:
    """The parsed file and the bytes it was parsed from (None when it could not be read)."""
    try:
        size = file.path.stat().st_size
        if size > MAX_FILE_BYTES:
            msg = f"file is {size} bytes, over the {MAX_FILE_BYTES} byte limit"
            return ParsedFile("", 1, problems=(Problem(msg, Location(file.rel, 1)),)), None
        data = file.path.read_bytes()
    except OSError as exc:
        problem = Problem(f"cannot read: {exc.strerror}", Location(file.rel, 1))
        return ParsedFile("", 1, problems=(problem,)), None
    return parse_bytes(data, file.rel, file.type, file.role), data


def build_components(files: Iterable[tuple[MetadataFile, ParsedFile]]) -> tuple[Component, ...]:
    """One component per (type, name); files of the same component are merged in path order.

    The same component may be present in two package directories (a real project in the
    corpus does this); its grants from both are kept, each with its own location.
    """
    out: dict[tuple[ComponentType, str], Component] = {}
    for file, parsed in files:
        key = (file.type, file.name)
        current = out.get(key)
        if current is None:
            current = Component(type=file.type, name=file.name, files=())
        is_main = file.role is Role.MAIN
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
            or (Location(file.rel, parsed.root_line) if is_main and not parsed.problems else None),
        )
        out[key] = current
    return tuple(sorted(out.values(), key=lambda c: (c.type.value, c.name)))


def load_components(files: Iterable[MetadataFile]) -> tuple[Component, ...]:
    """Read every file and assemble the project's components."""
    return build_components((f, read_file(f)) for f in files)


def load_with_sources(
    files: Iterable[MetadataFile],
) -> tuple[tuple[Component, ...], dict[str, bytes]]:
    """``load_components``, and the bytes of every readable file by path, read once (for
    rules that read the files themselves: ``xpath``)."""
    read = [(f, *read_file_and_bytes(f)) for f in files]
    components = build_components((f, parsed) for f, parsed, _ in read)
    return components, {f.rel: data for f, _, data in read if data is not None}
