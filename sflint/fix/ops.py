"""Pure operations on file bytes: disable a permission, clone a permission set, name a clone.

Functions take file bytes and return new bytes (or :class:`FileEdit` values describing
them); nothing here reads or writes files. The edit is the smallest one Salesforce itself
would produce (DESIGN.md, "Fixes"); which one a kind takes is its ``FixPolicy`` in
:mod:`sflint.kinds`:

* in a permission set, the ``<userPermissions>`` element is removed: from API 40.0 a
  permission set deploy disables every user permission the file omits (Metadata API
  Developer Guide, PermissionSet; SALESFORCE.md, "Absent vs disabled");
* in a profile, ``<enabled>`` becomes ``false``: a profile deploy overlays, so an omitted
  permission keeps its value in the org (Metadata API Developer Guide, Profile).

Every byte outside the edited ranges is copied unchanged, and every result is checked by
:func:`sflint.fix.scan.verify` before it is returned.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sflint.fix.scan import BETA1_ROOT, TRUE, XML_WS, Element, check_root, enabled_grants, scan
from sflint.fix.scan import verify as _verify
from sflint.fix.values import FileEdit, FixError
from sflint.kinds import FixPolicy
from sflint.model import ComponentType

__all__ = [
    "MAX_LABEL",
    "MAX_NAME",
    "CloneNames",
    "Disabled",
    "Splice",
    "clone_base",
    "clone_decomposed",
    "clone_label",
    "clone_name",
    "clone_path",
    "clone_without_permission",
    "disable_permission",
    "disable_permissions",
    "grants_permission",
    "is_valid_name",
    "plan_clone",
    "plan_clone_decomposed",
    "plan_disable",
]

# Label and API name limits: PermissionSet.label and .name are 80 characters (Metadata API
# Developer Guide, PermissionSet; Object Reference, PermissionSet: Label, Name).
MAX_NAME = 80
MAX_LABEL = 80

# Source-format and Metadata API-format suffixes of a monolithic permission set file.
_PS_SUFFIXES = (".permissionset-meta.xml", ".permissionset")


# --------------------------------------------------------------------------------------------
# Splicing


@dataclass(frozen=True)
class Splice:
    """Replace the original bytes ``[start, end)`` with ``replacement``."""

    start: int
    end: int
    replacement: bytes


def _is_blank(data: bytes) -> bool:
    return not data.strip(b" \t")


def _line_span(data: bytes, start: int, end: int) -> tuple[int, int]:
    """The span to delete for an element at [start, end): its whole line(s) if it has them
    to itself (only spaces/tabs around it), else just the element."""
    # A "\r" is looked for only after the last "\n": searched from the start of the file,
    # a file without one was read back to its first byte for every element (600,000 copies
    # of a grant: hours).
    newline = data.rfind(b"\n", 0, start)
    line_start = max(newline, data.rfind(b"\r", newline + 1, start)) + 1
    if not _is_blank(data[line_start:start]):
        return start, end
    i = end
    n = len(data)
    while i < n and data[i] in b" \t":
        i += 1
    if data[i : i + 2] == b"\r\n":
        return line_start, i + 2
    if i < n and data[i] in b"\r\n":
        return line_start, i + 1
    if i == n:
        return line_start, n
    return start, end


def _apply_splices(data: bytes, splices: Iterable[Splice]) -> bytes:
    out = bytearray()
    pos = 0
    for s in sorted(splices, key=lambda s: s.start):
        if s.start < pos:
            raise FixError("overlapping edits")
        out += data[pos : s.start]
        out += s.replacement
        pos = s.end
    out += data[pos:]
    return bytes(out)


def _text_splice(data: bytes, element: Element, new_text: bytes) -> Splice:
    start, end = element.content_start, element.content_end
    if element.has_markup:
        # Comments or CDATA inside a leaf value: replace the whole content.
        return Splice(start, end, new_text)
    raw = data[start:end]
    core = raw.strip(b" \t\r\n")
    if not core:
        return Splice(start, end, new_text)
    lead = len(raw) - len(raw.lstrip(b" \t\r\n"))
    return Splice(start + lead, start + lead + len(core), new_text)


class _Deleted:
    """Byte ranges of the original already deleted, sorted and disjoint (private builder)."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def __bool__(self) -> bool:
        return bool(self.starts)

    def add(self, start: int, end: int) -> None:
        # Touching ranges are merged, so that stepping over deleted bytes is one jump, not
        # one per grant deleted before (thousands in a large file).
        k = bisect.bisect_left(self.starts, start)
        if k > 0 and self.ends[k - 1] >= start:
            k -= 1
            start = self.starts[k]
            end = max(end, self.ends.pop(k))
            del self.starts[k]
        while k < len(self.starts) and self.starts[k] <= end:
            end = max(end, self.ends.pop(k))
            del self.starts[k]
        self.starts.insert(k, start)
        self.ends.insert(k, end)

    def _covering(self, i: int) -> int | None:
        k = bisect.bisect_right(self.starts, i) - 1
        return k if k >= 0 and i < self.ends[k] else None

    def before(self, i: int) -> int:
        """The index of the last byte before ``i`` that is still there, or -1."""
        i -= 1
        while i >= 0 and (k := self._covering(i)) is not None:
            i = self.starts[k] - 1
        return i

    def at_or_after(self, i: int) -> int:
        """The index of the first byte from ``i`` on that is still there (or the length)."""
        while (k := self._covering(i)) is not None:
            i = self.ends[k]
        return i

    def minus(self, start: int, end: int) -> list[tuple[int, int]]:
        """The parts of ``[start, end)`` not deleted yet."""
        parts = []
        k = max(bisect.bisect_right(self.starts, start) - 1, 0)
        pos = start
        while k < len(self.starts) and self.starts[k] < end:
            if self.ends[k] > pos:
                if self.starts[k] > pos:
                    parts.append((pos, self.starts[k]))
                pos = max(pos, self.ends[k])
            k += 1
        if pos < end:
            parts.append((pos, end))
        return parts


def _line_span_after(data: bytes, start: int, end: int, deleted: _Deleted) -> tuple[int, int]:
    """:func:`_line_span` of the element at [start, end) in the bytes left once ``deleted`` is
    gone (offsets stay those of the original): deleting one permission after another gives
    the bytes that deleting them in one go from the original gives."""
    if not deleted:
        return _line_span(data, start, end)
    n = len(data)
    i = deleted.before(start)
    while i >= 0 and data[i] in b" \t":
        i = deleted.before(i)
    if i >= 0 and data[i] not in b"\r\n":
        return start, end
    line_start = deleted.at_or_after(i + 1)  # not the start of lines deleted before
    j = deleted.at_or_after(end)
    while j < n and data[j] in b" \t":
        j = deleted.at_or_after(j + 1)
    if j < n and data[j] == 0x0D:  # \r
        k = deleted.at_or_after(j + 1)
        if k < n and data[k] == 0x0A:  # \n of a CRLF
            return line_start, k + 1
    if j < n and data[j] in b"\r\n":
        return line_start, j + 1
    if j == n:
        return line_start, n
    return start, end


def _removals(data: bytes, groups: Sequence[Sequence[Element]]) -> list[tuple[Splice, ...]]:
    """Deletions of each group of elements (one group per permission), as if each group were
    removed from the result of removing the ones before it: an element whose neighbours on
    its line are all gone takes its line with it. Each group's splices cover only bytes no
    earlier group deleted, so the groups never overlap and together make the whole change."""
    deleted = _Deleted()
    out: list[tuple[Splice, ...]] = []
    for group in groups:
        spans = [_line_span_after(data, e.start, e.end, deleted) for e in group]
        parts = [part for start, end in spans for part in deleted.minus(start, end)]
        for start, end in parts:
            deleted.add(start, end)
        out.append(tuple(Splice(start, end, b"") for start, end in parts))
    return out


# --------------------------------------------------------------------------------------------
# Disabling


@dataclass(frozen=True)
class Disabled:
    """Permissions disabled in one file by one verified change.

    ``shares`` holds each permission that had something to disable, in the order asked, with
    the splices of the original bytes that disable it. Shares never overlap; applied together
    they give ``after``. ``after is None``: the file is to be deleted (a beta1 grant file,
    whose share is empty: a deletion is no splice). ``elements`` says how many elements
    each of them had enabled, every one of which is disabled (a file may repeat a grant).
    """

    after: bytes | None
    shares: tuple[tuple[str, tuple[Splice, ...]], ...] = ()
    elements: tuple[tuple[str, int], ...] = ()


def _disable(
    data: bytes, root: Element, permissions: Sequence[str], component_type: ComponentType
) -> Disabled:
    """Disable ``permissions`` in a scanned permission set or profile, verified once."""
    policy = check_root(root, component_type)
    grants = enabled_grants(root)
    todo = [(p, grants[p]) for p in dict.fromkeys(permissions) if p in grants]
    if not todo:
        return Disabled(data)
    counts = tuple((p, len(elements)) for p, elements in todo)
    if policy is FixPolicy.SET_FALSE:
        retext: dict[int, str] = {}
        shares = []
        for permission, elements in todo:
            splices = []
            for grant in elements:
                for child in grant.children:
                    if child.name == "enabled" and child.text.strip(XML_WS) in TRUE:
                        splices.append(_text_splice(data, child, b"false"))
                        retext[child.ordinal] = "false"
            shares.append((permission, tuple(splices)))
        result = _apply_splices(data, (s for _, share in shares for s in share))
        _verify(data, result, retext=retext)
        return Disabled(result, tuple(shares), counts)
    removals = _removals(data, [elements for _, elements in todo])
    result = _apply_splices(data, (s for share in removals for s in share))
    _verify(data, result, removed=[g.ordinal for _, elements in todo for g in elements])
    return Disabled(result, tuple(zip((p for p, _ in todo), removals, strict=True)), counts)


def disable_permission(data: bytes, permission: str, *, component_type: ComponentType) -> bytes:
    """Disable every enabled grant of ``permission`` in a permission set or profile file.

    PermissionSet (monolithic, Metadata API format, or a beta2 decomposed
    ``<PS>.userPermission-meta.xml``): the ``<userPermissions>`` element is removed, with its
    line when it has the line to itself. Profile: ``<enabled>`` becomes ``false``. Returns
    ``data`` itself when nothing is enabled (a second run is a no-op).
    """
    after = _disable(data, scan(data), (permission,), component_type).after
    assert after is not None  # only a beta1 file is deleted, and _disable refuses its root
    return after


def disable_permissions(
    data: bytes, permissions: Sequence[str], *, component_type: ComponentType
) -> Disabled:
    """Disable each of ``permissions`` in one file of any shape that can hold a user
    permission (see :func:`plan_disable`), scanning and verifying the file once.

    The bytes are those of disabling them one after another, in order, and each permission's
    share of the change is kept apart: a file with thousands of findings costs one pass, and
    each finding can still be given its own edit (SARIF ``fixes``).
    """
    root = scan(data)
    if root.name != BETA1_ROOT:
        return _disable(data, root, permissions, component_type)
    if component_type is not ComponentType.PERMISSION_SET:
        raise FixError(f"a <{BETA1_ROOT}> file belongs to a permission set")
    # The file *is* one grant: absent means disabled on deploy, so it is deleted whole.
    granted = next((p for p in permissions if _beta1_grants(root, p)), None)
    return Disabled(data) if granted is None else Disabled(None, ((granted, ()),), ((granted, 1),))


def _beta1_grants(root: Element, permission: str) -> bool:
    return root.child_texts("name") == [permission] and any(
        t in TRUE for t in root.child_texts("enabled")
    )


def grants_permission(data: bytes, permission: str) -> bool:
    """Whether a beta1 decomposed ``UserPermission`` file enables ``permission``."""
    root = scan(data)
    if root.name != BETA1_ROOT:
        raise FixError(f"expected a <{BETA1_ROOT}> root element, found <{root.name}>")
    return _beta1_grants(root, permission)


def plan_disable(
    path: Path, data: bytes, permission: str, *, component_type: ComponentType
) -> FileEdit | None:
    """The edit that disables ``permission`` in one file, or None when there is nothing to do.

    Handles every file shape that can hold a user permission: monolithic permission sets and
    profiles (both formats), beta2 decomposed ``<PS>.userPermission-meta.xml`` files, and
    beta1 decomposed ``userPermissions/<Name>.userPermission-meta.xml`` files, which are
    deleted whole (the file *is* the grant; absent means disabled on deploy).
    """
    done = disable_permissions(data, (permission,), component_type=component_type)
    return None if done.after == data else FileEdit(path, data, done.after)


# --------------------------------------------------------------------------------------------
# Names and labels of clones

_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*\Z")


def is_valid_name(name: str) -> bool:
    """A permission set API name: ASCII letters, digits and single underscores, starting with
    a letter, not ending with an underscore, at most 80 characters (Metadata API Developer
    Guide, PermissionSet; the same rule as every custom API name)."""
    return len(name) <= MAX_NAME and _NAME_RE.match(name) is not None


def _sanitize_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9]+", "_", name)
    cleaned = re.sub(r"^[^A-Za-z]+", "", cleaned).rstrip("_")
    return cleaned or "Permission_Set"


def _fit(base: str, suffix: str) -> str:
    room = MAX_NAME - len(suffix)
    return base[:room].rstrip("_") + suffix


def clone_name(name: str, existing: set[str], suffix: str) -> str:
    """A new, valid, unused API name for a clone of ``name``: ``<name><suffix>`` (the rule's
    fix option chooses the suffix, ``_No_API_MFA`` for SFL001), then ``_2``, ``_3``... API
    names are unique regardless of case, so ``existing`` is compared case-insensitively."""
    return CloneNames(existing).take(name, suffix)


def clone_base(name: str, suffix: str) -> str:
    """The first name :func:`clone_name` tries for a clone of ``name``."""
    base = _sanitize_name(name)
    return base if base.endswith(suffix) else _fit(base, suffix)


class CloneNames:
    """The API names in use, for naming many clones in one run (private builder, mutable).

    Each name taken is added, and each base remembers the last number it reached, so that
    naming thousands of clones costs one probe each instead of a rescan of every name and
    number before it. The result is :func:`clone_name`'s for the names taken so far: the
    numbers below the one a base reached were taken then, and stay taken.
    """

    def __init__(self, existing: Iterable[str]) -> None:
        self._taken = {e.casefold() for e in existing}
        self._next: dict[str, int] = {}

    def take(self, name: str, suffix: str) -> str:
        base = clone_base(name, suffix)
        n = self._next.get(base, 1)
        candidate = base if n == 1 else _fit(base, f"_{n}")
        while candidate.casefold() in self._taken:
            n += 1
            candidate = _fit(base, f"_{n}")
        assert is_valid_name(candidate), candidate
        self._next[base] = n
        self._taken.add(candidate.casefold())
        return candidate


def clone_label(label: str, suffix: str) -> str:
    """The label of the clone: ``<label><suffix>`` (`` (no API MFA)`` for SFL001), within
    the 80-character limit."""
    label = " ".join(label.split())
    room = MAX_LABEL - len(suffix)
    if len(label) > room:
        label = label[: room - 1].rstrip() + "…"
    return (label + suffix).strip()


# --------------------------------------------------------------------------------------------
# Cloning


def _escape_text(text: str) -> bytes:
    # The character data of an element must escape "&" and "<"; ">" is escaped too so that
    # "]]>" cannot appear (XML 1.0, section 2.4). UTF-8 matches the encoding Salesforce writes.
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.encode("utf-8")


def _declared_encoding(data: bytes) -> str:
    match = re.match(rb"(?:\xef\xbb\xbf)?<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)", data)
    return match.group(1).decode("ascii").lower() if match else "utf-8"


def _label_splice(data: bytes, root: Element, new_label: str) -> tuple[Splice, dict[int, str]]:
    labels = [c for c in root.children if c.name == "label"]
    if len(labels) != 1:
        raise FixError(f"expected one <label>, found {len(labels)}")
    if _declared_encoding(data) not in ("utf-8", "utf8"):
        raise FixError("only UTF-8 files can be relabelled")
    label = labels[0]
    splice = Splice(label.content_start, label.content_end, _escape_text(new_label))
    return splice, {label.ordinal: new_label.strip(XML_WS)}


def _check_label(new_label: str) -> None:
    if not new_label.strip() or len(new_label) > MAX_LABEL:
        raise FixError(f"a label must have 1 to {MAX_LABEL} characters: {new_label!r}")


def clone_without_permission(
    data: bytes, permission: str | Sequence[str], *, new_name: str, new_label: str
) -> bytes:
    """The content of a clone of a monolithic permission set: ``permission`` (one or several)
    removed as :func:`disable_permissions` removes them, one after another, and the label
    replaced. ``new_name`` only names the new file (a permission set file carries no
    ``fullName``); it is checked for validity."""
    permissions = _permissions(permission)
    if not is_valid_name(new_name):
        raise FixError(f"invalid permission set API name: {new_name!r}")
    _check_label(new_label)
    root = scan(data)
    check_root(root, ComponentType.PERMISSION_SET)
    grants = enabled_grants(root)
    groups = [grants[p] for p in permissions if p in grants]
    # The splices are computed on the original offsets and applied together.
    label_splice, retext = _label_splice(data, root, new_label)
    splices = [s for share in _removals(data, groups) for s in share]
    result = _apply_splices(data, [*splices, label_splice])
    _verify(data, result, removed=[g.ordinal for group in groups for g in group], retext=retext)
    return result


def _permissions(permission: str | Sequence[str]) -> tuple[str, ...]:
    return (permission,) if isinstance(permission, str) else tuple(dict.fromkeys(permission))


def clone_path(path: Path, new_name: str) -> Path:
    """Where the clone of the monolithic permission set file ``path`` goes: same folder and
    format, file named after ``new_name``."""
    for suffix in _PS_SUFFIXES:
        if path.name.endswith(suffix):
            return path.with_name(new_name + suffix)
    raise FixError(f"{path.name}: not a permission set file name")


def plan_clone(
    path: Path, data: bytes, permission: str | Sequence[str], *, new_name: str, new_label: str
) -> FileEdit:
    """Create a clone of a monolithic permission set next to the original."""
    after = clone_without_permission(data, permission, new_name=new_name, new_label=new_label)
    return FileEdit(clone_path(path, new_name), None, after)


def clone_decomposed(
    files: Mapping[str, bytes],
    permission: str | Sequence[str],
    *,
    old_name: str,
    new_name: str,
    new_label: str,
) -> dict[str, bytes]:
    """Clone a decomposed permission set folder.

    ``files`` maps POSIX paths relative to the folder ``permissionsets/<old_name>/`` to their
    bytes; the result maps paths relative to the new folder. Every file is copied; files at
    the top of the folder named ``<old_name>.<type>-meta.xml`` are renamed to ``<new_name>``;
    the label in ``<PS>.permissionset-meta.xml`` is replaced; ``permission`` (one or several)
    is removed from the beta2 ``<PS>.userPermission-meta.xml``, and every beta1
    ``userPermissions/`` file that grants one of them is left out.
    """
    permissions = _permissions(permission)
    if not is_valid_name(new_name):
        raise FixError(f"invalid permission set API name: {new_name!r}")
    _check_label(new_label)
    out: dict[str, bytes] = {}
    main = f"{old_name}.permissionset-meta.xml"
    if main not in files:
        raise FixError(f"decomposed permission set has no {main}")
    for rel in sorted(files):
        data = files[rel]
        parts = PurePosixPath(rel).parts
        if not parts or ".." in parts or PurePosixPath(rel).is_absolute():
            raise FixError(f"unsafe relative path: {rel!r}")
        new_rel = rel
        if len(parts) == 1 and rel.startswith(old_name + "."):
            new_rel = new_name + rel[len(old_name) :]
        if rel == main:
            root = scan(data)
            check_root(root, ComponentType.PERMISSION_SET)
            label_splice, retext = _label_splice(data, root, new_label)
            data_new = _apply_splices(data, [label_splice])
            _verify(data, data_new, retext=retext)
            data = data_new
        elif rel.endswith(".userPermission-meta.xml"):
            root = scan(data)
            if root.name == BETA1_ROOT:
                if any(_beta1_grants(root, p) for p in permissions):
                    continue
            else:
                after = _disable(data, root, permissions, ComponentType.PERMISSION_SET).after
                assert after is not None  # a <PermissionSet> root, never a deleted file
                data = after
        out[new_rel] = data
    return out


def plan_clone_decomposed(
    folder: Path,
    files: Mapping[str, bytes],
    permission: str | Sequence[str],
    *,
    old_name: str,
    new_name: str,
    new_label: str,
) -> tuple[FileEdit, ...]:
    """Create edits for a clone of the decomposed permission set in ``folder``
    (``.../permissionsets/<old_name>``): a sibling folder ``<new_name>``."""
    cloned = clone_decomposed(
        files, permission, old_name=old_name, new_name=new_name, new_label=new_label
    )
    target = folder.with_name(new_name)
    return tuple(FileEdit(target / rel, None, data) for rel, data in sorted(cloned.items()))
