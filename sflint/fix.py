"""Fix engine: minimal, byte-exact edits to permission metadata, and safe writing.

Everything here is pure except :func:`apply_edits`: functions take file bytes and return new
bytes (or :class:`FileEdit` values describing them). The edit is the smallest one Salesforce
itself would produce (DESIGN.md, "Fixes"):

* in a permission set, the ``<userPermissions>`` element is removed: from API 40.0 a
  permission set deploy disables every user permission the file omits (Metadata API
  Developer Guide, PermissionSet; SALESFORCE.md, "Absent vs disabled");
* in a profile, ``<enabled>`` becomes ``false``: a profile deploy overlays, so an omitted
  permission keeps its value in the org (Metadata API Developer Guide, Profile).

Offsets come from a real XML parser (expat reports the byte index of each tag), every byte
outside the edited range is copied unchanged, and every result is re-parsed and compared with
the original tree minus the intended change before it is returned. A result that fails that
check raises :class:`FixError`; corrupted bytes are never returned.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import secrets
import stat
import xml.parsers.expat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lxml import etree

__all__ = [
    "ApplyResult",
    "FileEdit",
    "FixError",
    "Refusal",
    "apply_edits",
    "clone_decomposed",
    "clone_label",
    "clone_name",
    "clone_path",
    "clone_without_permission",
    "disable_permission",
    "grants_permission",
    "is_valid_name",
    "plan_clone",
    "plan_clone_decomposed",
    "plan_disable",
    "unified_diff",
]

# Roots a fixable file may have. Beta2 decomposed child files (``<PS>.userPermission-meta.xml``)
# have a ``PermissionSet`` root without namespace; beta1 files (``userPermissions/<Name>.
# userPermission-meta.xml``) a namespaced ``UserPermission`` root (SALESFORCE.md, Files).
_ROOTS = {"PermissionSet": "PermissionSet", "Profile": "Profile"}
_BETA1_ROOT = "UserPermission"

# Metadata API fields are xsd:boolean, whose lexical space is {true, false, 1, 0}
# (XML Schema Part 2, 3.2.2); Salesforce writes "true"/"false" but accepts both forms.
_TRUE = frozenset({"true", "1"})

# XML whitespace (XML 1.0, production 3 "S"): what surrounds a text value without being part
# of it. str.strip() would also remove characters such as U+00A0 that are data in XML.
_XML_WS = " \t\r\n"

# Label and API name limits: PermissionSet.label and .name are 80 characters (Metadata API
# Developer Guide, PermissionSet; Object Reference, PermissionSet: Label, Name).
MAX_NAME = 80
MAX_LABEL = 80

# Source-format and Metadata API-format suffixes of a monolithic permission set file.
_PS_SUFFIXES = (".permissionset-meta.xml", ".permissionset")


class FixError(Exception):
    """A fix cannot be computed safely (unparsable input, unexpected shape, failed check)."""


# --------------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True)
class FileEdit:
    """One file change. ``before is None``: create; ``after is None``: delete.

    ``path`` is absolute or relative to the project root passed to :func:`apply_edits` and
    :func:`unified_diff`.
    """

    path: Path
    before: bytes | None
    after: bytes | None

    def __post_init__(self) -> None:
        if self.before is None and self.after is None:
            raise ValueError(f"{self.path}: an edit needs before or after content")

    @property
    def is_create(self) -> bool:
        return self.before is None

    @property
    def is_delete(self) -> bool:
        return self.after is None


@dataclass(frozen=True)
class Refusal:
    """An edit that :func:`apply_edits` did not perform, and why (one line, for users)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class ApplyResult:
    applied: tuple[FileEdit, ...] = ()
    refused: tuple[Refusal, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.refused


@dataclass(frozen=True)
class _Element:
    """One element as the byte scanner saw it: offsets into the original bytes."""

    ordinal: int  # position among all elements in document order (root is 0)
    name: str  # local name
    depth: int  # root is 0
    start: int  # index of "<" of the start tag
    content_start: int  # index just after the start tag's ">"
    content_end: int  # index of "<" of the end tag (== content_start for <x/>)
    end: int  # index just after the element
    text: str  # decoded character data directly inside the element, CDATA included
    has_markup: bool  # content holds a child, comment, CDATA section or PI
    children: tuple[_Element, ...] = field(default=())

    def child_texts(self, name: str) -> list[str]:
        return [c.text.strip(_XML_WS) for c in self.children if c.name == name]


# --------------------------------------------------------------------------------------------
# Scanning (expat, with byte offsets)


def _reject(kind: str) -> Callable[..., None]:
    def handler(*_args: object) -> None:
        raise FixError(f"refusing to edit a file with a {kind}")

    return handler


def _start_tag_end(data: bytes, start: int) -> tuple[int, bool]:
    """Index just after the start tag at ``start``, and whether it is ``<x/>``.

    Attribute values may contain ">" (XML 1.0, production 10 "AttValue"), so quoted values
    are skipped rather than searching for the first ">".
    """
    i = start + 1
    quote = 0
    n = len(data)
    while i < n:
        b = data[i]
        if quote:
            if b == quote:
                quote = 0
        elif b in (0x22, 0x27):  # " '
            quote = b
        elif b == 0x3E:  # >
            return i + 1, data[i - 1] == 0x2F  # /
        i += 1
    raise FixError(f"unterminated start tag at byte {start}")


def _end_tag_end(data: bytes, start: int) -> int:
    # An end tag is "</" Name S? ">" (XML 1.0, production 42): no ">" can occur before its own.
    if data[start : start + 2] != b"</":
        raise FixError(f"expected an end tag at byte {start}")
    close = data.find(b">", start)
    if close < 0:
        raise FixError(f"unterminated end tag at byte {start}")
    return close + 1


# Elements whose content a fix reads or edits, as children of the root; every other element
# is only counted. Keeping the rest out of Python objects makes multi-MB profiles cheap.
_KEPT = frozenset({"userPermissions", "label"})


@dataclass
class _Frame:
    """Mutable builder of one open, kept element while expat walks the file (private)."""

    ordinal: int
    name: str
    depth: int
    start: int
    content_start: int
    self_closing: bool
    text: list[str] = field(default_factory=list)
    has_markup: bool = False
    children: list[_Element] = field(default_factory=list)


def _scan(data: bytes) -> _Element:
    """Parse ``data``; return the root with byte offsets of its ``userPermissions`` and
    ``label`` children and of their children (other root children are listed without
    descendants; deeper elements are only counted, for :attr:`_Element.ordinal`)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Salesforce metadata is UTF-8 (SALESFORCE.md, Files); byte-level splicing of ASCII
        # replacement text would corrupt UTF-16.
        raise FixError("UTF-16 files are not supported")
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    # No DTD of any kind: entity expansion is the classic attack on XML tools, and Salesforce
    # metadata never carries a DOCTYPE.
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _reject("DOCTYPE declaration")
    parser.EntityDeclHandler = _reject("entity declaration")
    parser.ExternalEntityRefHandler = _reject("external entity reference")  # type: ignore[assignment]
    parser.SkippedEntityHandler = _reject("undeclared entity reference")
    parser.buffer_text = True

    # One entry per open element: a frame when the element is kept, else None.
    stack: list[_Frame | None] = []
    roots: list[_Element] = []
    counter = 0
    beta1 = False

    def start(name: str, _attrs: object) -> None:
        nonlocal counter, beta1
        depth = len(stack)
        parent = stack[-1] if stack else None
        if parent is not None:
            parent.has_markup = True
        local = name.rpartition(" ")[2]
        if depth == 0:
            beta1 = local == _BETA1_ROOT
        keep = depth <= 1 or (depth == 2 and parent is not None and parent.name in _KEPT)
        if keep:
            pos = parser.CurrentByteIndex
            content_start, self_closing = _start_tag_end(data, pos)
            stack.append(_Frame(counter, local, depth, pos, content_start, self_closing))
        else:
            stack.append(None)
        counter += 1

    def end(_name: str) -> None:
        frame = stack.pop()
        if frame is None:
            return
        if frame.self_closing:
            content_end = end_ = frame.content_start
        else:
            content_end = parser.CurrentByteIndex
            end_ = _end_tag_end(data, content_end)
        element = _Element(
            ordinal=frame.ordinal,
            name=frame.name,
            depth=frame.depth,
            start=frame.start,
            content_start=frame.content_start,
            content_end=content_end,
            end=end_,
            text="".join(frame.text),
            has_markup=frame.has_markup,
            children=tuple(frame.children),
        )
        if not stack:
            roots.append(element)
        else:
            parent = stack[-1]
            if parent is not None and parent.depth <= 1:
                parent.children.append(element)

    def chars(text: str) -> None:
        # Texts of grant fields: children of <userPermissions>, or of a beta1 root.
        frame = stack[-1] if stack else None
        if frame is not None and (frame.depth == 2 or (frame.depth == 1 and beta1)):
            frame.text.append(text)

    def markup(*_args: object) -> None:
        frame = stack[-1] if stack else None
        if frame is not None:
            frame.has_markup = True

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.CommentHandler = markup
    parser.StartCdataSectionHandler = markup
    parser.ProcessingInstructionHandler = markup
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise FixError(f"not well-formed XML: {exc}") from exc
    if len(roots) != 1:
        raise FixError("no root element")
    return roots[0]


def _matching_grants(root: _Element, permission: str) -> list[_Element]:
    """Enabled ``<userPermissions>`` children of ``root`` that grant ``permission``."""
    found = []
    for child in root.children:
        if child.name != "userPermissions":
            continue
        if child.child_texts("name") != [permission]:
            continue
        if any(t in _TRUE for t in child.child_texts("enabled")):
            found.append(child)
    return found


def _check_root(root: _Element, component_type: str) -> None:
    expected = _ROOTS.get(component_type)
    if expected is None:
        raise FixError(f"cannot fix a {component_type}: only {', '.join(_ROOTS)}")
    if root.name != expected:
        raise FixError(f"expected a <{expected}> root element, found <{root.name}>")


# --------------------------------------------------------------------------------------------
# Splicing


@dataclass(frozen=True)
class _Splice:
    start: int
    end: int
    replacement: bytes


def _is_blank(data: bytes) -> bool:
    return not data.strip(b" \t")


def _line_span(data: bytes, start: int, end: int) -> tuple[int, int]:
    """The span to delete for an element at [start, end): its whole line(s) if it has them
    to itself (only spaces/tabs around it), else just the element."""
    line_start = max(data.rfind(b"\n", 0, start), data.rfind(b"\r", 0, start)) + 1
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


def _apply_splices(data: bytes, splices: Iterable[_Splice]) -> bytes:
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


def _text_splice(data: bytes, element: _Element, new_text: bytes) -> _Splice:
    start, end = element.content_start, element.content_end
    if element.has_markup:
        # Comments or CDATA inside a leaf value: replace the whole content.
        return _Splice(start, end, new_text)
    raw = data[start:end]
    core = raw.strip(b" \t\r\n")
    if not core:
        return _Splice(start, end, new_text)
    lead = len(raw) - len(raw.lstrip(b" \t\r\n"))
    return _Splice(start + lead, start + lead + len(core), new_text)


# --------------------------------------------------------------------------------------------
# Verification (lxml, independent of the scanner above)


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _canonical(
    data: bytes, *, removed: Sequence[int] = (), retext: Mapping[int, str] | None = None
) -> bytes:
    """Canonical XML (C14N 1.0, with comments) of ``data`` after applying the intended change
    to lxml's own tree: elements ``removed`` (document-order ordinals) dropped, the content of
    elements in ``retext`` replaced by a text. Leading and trailing whitespace of every text
    is dropped: it is layout between elements, which a removal legitimately changes."""
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as exc:
        raise FixError(f"not well-formed XML: {exc}") from exc
    if removed or retext:
        elements = list(root.iter(etree.Element))
        for ordinal, text in (retext or {}).items():
            element = elements[ordinal]
            for child in list(element):
                element.remove(child)
            element.text = text
        for ordinal in removed:
            element = elements[ordinal]
            parent = element.getparent()
            if parent is None:
                raise FixError("cannot remove the root element")
            parent.remove(element)
    for node in root.iter():
        if node.text is not None:
            node.text = node.text.strip(_XML_WS) or None
        if node.tail is not None:
            node.tail = node.tail.strip(_XML_WS) or None
    return etree.tostring(root.getroottree(), method="c14n", with_comments=True)


def _verify(
    before: bytes,
    after: bytes,
    *,
    removed: Sequence[int] = (),
    retext: Mapping[int, str] | None = None,
) -> None:
    """Raise FixError unless ``after`` is ``before`` with exactly the intended change, as
    seen by a second, independent parser (lxml/libxml2)."""
    try:
        actual = _canonical(after)
    except FixError as exc:
        raise FixError(f"result is {exc}") from exc
    expected = _canonical(before, removed=removed, retext=retext)
    if actual != expected:
        at = next(
            (i for i, (a, e) in enumerate(zip(actual, expected, strict=False)) if a != e),
            min(len(actual), len(expected)),
        )
        raise FixError(
            f"verification failed near {expected[max(0, at - 40) : at + 40]!r}: "
            f"got {actual[max(0, at - 40) : at + 40]!r}"
        )
    if _prolog(before) != _prolog(after):
        raise FixError("verification failed: the XML declaration or BOM changed")


def _prolog(data: bytes) -> bytes:
    """Bytes before the first element: BOM, XML declaration, leading comments."""
    match = re.search(rb"<[A-Za-z_]", data)
    return data[: match.start()] if match else data


# --------------------------------------------------------------------------------------------
# Disabling


def disable_permission(data: bytes, permission: str, *, component_type: str) -> bytes:
    """Disable every enabled grant of ``permission`` in a permission set or profile file.

    PermissionSet (monolithic, Metadata API format, or a beta2 decomposed
    ``<PS>.userPermission-meta.xml``): the ``<userPermissions>`` element is removed, with its
    line when it has the line to itself. Profile: ``<enabled>`` becomes ``false``. Returns
    ``data`` itself when nothing is enabled (a second run is a no-op).
    """
    root = _scan(data)
    _check_root(root, component_type)
    grants = _matching_grants(root, permission)
    if not grants:
        return data
    if component_type == "Profile":
        splices: list[_Splice] = []
        retext: dict[int, str] = {}
        for grant in grants:
            for child in grant.children:
                if child.name == "enabled" and child.text.strip(_XML_WS) in _TRUE:
                    splices.append(_text_splice(data, child, b"false"))
                    retext[child.ordinal] = "false"
        result = _apply_splices(data, splices)
        _verify(data, result, retext=retext)
        return result
    result = _remove_elements(data, grants)
    _verify(data, result, removed=[g.ordinal for g in grants])
    return result


def _remove_elements(data: bytes, elements: Sequence[_Element]) -> bytes:
    splices = []
    for element in elements:
        start, end = _line_span(data, element.start, element.end)
        splices.append(_Splice(start, end, b""))
    return _apply_splices(data, splices)


def grants_permission(data: bytes, permission: str) -> bool:
    """Whether a beta1 decomposed ``UserPermission`` file enables ``permission``."""
    root = _scan(data)
    if root.name != _BETA1_ROOT:
        raise FixError(f"expected a <{_BETA1_ROOT}> root element, found <{root.name}>")
    return root.child_texts("name") == [permission] and any(
        t in _TRUE for t in root.child_texts("enabled")
    )


def plan_disable(
    path: Path, data: bytes, permission: str, *, component_type: str
) -> FileEdit | None:
    """The edit that disables ``permission`` in one file, or None when there is nothing to do.

    Handles every file shape that can hold a user permission: monolithic permission sets and
    profiles (both formats), beta2 decomposed ``<PS>.userPermission-meta.xml`` files, and
    beta1 decomposed ``userPermissions/<Name>.userPermission-meta.xml`` files, which are
    deleted whole (the file *is* the grant; absent means disabled on deploy).
    """
    root = _scan(data)
    if root.name == _BETA1_ROOT:
        if component_type != "PermissionSet":
            raise FixError(f"a <{_BETA1_ROOT}> file belongs to a permission set")
        return FileEdit(path, data, None) if grants_permission(data, permission) else None
    after = disable_permission(data, permission, component_type=component_type)
    return None if after == data else FileEdit(path, data, after)


# --------------------------------------------------------------------------------------------
# Cloning

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
    taken = {e.casefold() for e in existing}
    base = _sanitize_name(name)
    if not base.endswith(suffix):
        base = _fit(base, suffix)
    n = 1
    candidate = base
    while candidate.casefold() in taken:
        n += 1
        candidate = _fit(base, f"_{n}")
    assert is_valid_name(candidate), candidate
    return candidate


def clone_label(label: str, suffix: str) -> str:
    """The label of the clone: ``<label><suffix>`` (`` (no API MFA)`` for SFL001), within
    the 80-character limit."""
    label = " ".join(label.split())
    room = MAX_LABEL - len(suffix)
    if len(label) > room:
        label = label[: room - 1].rstrip() + "…"
    return (label + suffix).strip()


def _escape_text(text: str) -> bytes:
    # The character data of an element must escape "&" and "<"; ">" is escaped too so that
    # "]]>" cannot appear (XML 1.0, section 2.4). UTF-8 matches the encoding Salesforce writes.
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.encode("utf-8")


def _declared_encoding(data: bytes) -> str:
    match = re.match(rb"(?:\xef\xbb\xbf)?<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)", data)
    return match.group(1).decode("ascii").lower() if match else "utf-8"


def _label_splice(data: bytes, root: _Element, new_label: str) -> tuple[_Splice, dict[int, str]]:
    labels = [c for c in root.children if c.name == "label"]
    if len(labels) != 1:
        raise FixError(f"expected one <label>, found {len(labels)}")
    if _declared_encoding(data) not in ("utf-8", "utf8"):
        raise FixError("only UTF-8 files can be relabelled")
    label = labels[0]
    splice = _Splice(label.content_start, label.content_end, _escape_text(new_label))
    return splice, {label.ordinal: new_label.strip(_XML_WS)}


def _check_label(new_label: str) -> None:
    if not new_label.strip() or len(new_label) > MAX_LABEL:
        raise FixError(f"a label must have 1 to {MAX_LABEL} characters: {new_label!r}")


def clone_without_permission(
    data: bytes, permission: str, *, new_name: str, new_label: str
) -> bytes:
    """The content of a clone of a monolithic permission set: ``permission`` removed (as
    :func:`disable_permission` does) and the label replaced. ``new_name`` only names the new
    file (a permission set file carries no ``fullName``); it is checked for validity."""
    if not is_valid_name(new_name):
        raise FixError(f"invalid permission set API name: {new_name!r}")
    _check_label(new_label)
    root = _scan(data)
    _check_root(root, "PermissionSet")
    grants = _matching_grants(root, permission)
    # Both splices are computed on the original offsets and applied together.
    label_splice, retext = _label_splice(data, root, new_label)
    splices = [_Splice(*_line_span(data, g.start, g.end), b"") for g in grants]
    result = _apply_splices(data, [*splices, label_splice])
    _verify(data, result, removed=[g.ordinal for g in grants], retext=retext)
    return result


def clone_path(path: Path, new_name: str) -> Path:
    """Where the clone of the monolithic permission set file ``path`` goes: same folder and
    format, file named after ``new_name``."""
    for suffix in _PS_SUFFIXES:
        if path.name.endswith(suffix):
            return path.with_name(new_name + suffix)
    raise FixError(f"{path.name}: not a permission set file name")


def plan_clone(
    path: Path, data: bytes, permission: str, *, new_name: str, new_label: str
) -> FileEdit:
    """Create a clone of a monolithic permission set next to the original."""
    after = clone_without_permission(data, permission, new_name=new_name, new_label=new_label)
    return FileEdit(clone_path(path, new_name), None, after)


def clone_decomposed(
    files: Mapping[str, bytes],
    permission: str,
    *,
    old_name: str,
    new_name: str,
    new_label: str,
) -> dict[str, bytes]:
    """Clone a decomposed permission set folder.

    ``files`` maps POSIX paths relative to the folder ``permissionsets/<old_name>/`` to their
    bytes; the result maps paths relative to the new folder. Every file is copied; files at
    the top of the folder named ``<old_name>.<type>-meta.xml`` are renamed to ``<new_name>``;
    the label in ``<PS>.permissionset-meta.xml`` is replaced; ``permission`` is removed from
    the beta2 ``<PS>.userPermission-meta.xml`` and a beta1 ``userPermissions/`` file that
    grants it is left out.
    """
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
            root = _scan(data)
            _check_root(root, "PermissionSet")
            label_splice, retext = _label_splice(data, root, new_label)
            data_new = _apply_splices(data, [label_splice])
            _verify(data, data_new, retext=retext)
            data = data_new
        elif rel.endswith(".userPermission-meta.xml"):
            root = _scan(data)
            if root.name == _BETA1_ROOT:
                if grants_permission(data, permission):
                    continue
            else:
                data = disable_permission(data, permission, component_type="PermissionSet")
        out[new_rel] = data
    return out


def plan_clone_decomposed(
    folder: Path,
    files: Mapping[str, bytes],
    permission: str,
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


# --------------------------------------------------------------------------------------------
# Diff


def _rel(path: Path, root: Path) -> str:
    if path.is_absolute():
        with contextlib.suppress(ValueError):
            return path.relative_to(root).as_posix()
        with contextlib.suppress(ValueError, OSError):
            return path.resolve().relative_to(root.resolve()).as_posix()
    return path.as_posix()


_LINE_RE = re.compile(r"[^\n]*\n|[^\n]+\Z")


def _lines(text: str) -> list[str]:
    """Lines without their "\\n" (a "\\r" of CRLF stays, so the diff applies as a patch);
    a last line without newline gets git's marker."""
    lines = _LINE_RE.findall(text)
    out = [line[:-1] if line.endswith("\n") else line for line in lines]
    if lines and not lines[-1].endswith("\n"):
        out[-1] += "\n\\ No newline at end of file"
    return out


def _decode(data: bytes | None) -> str | None:
    if data is None:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def unified_diff(edits: Iterable[FileEdit], root: Path) -> str:
    """A unified diff of ``edits`` with ``a/`` and ``b/`` paths relative to ``root``, sorted
    by path, usable with ``git apply``/``patch``. Non-UTF-8 content is reported as binary."""
    chunks: list[str] = []
    for edit in sorted(edits, key=lambda e: _rel(e.path, root)):
        rel = _rel(edit.path, root)
        old = "/dev/null" if edit.before is None else f"a/{rel}"
        new = "/dev/null" if edit.after is None else f"b/{rel}"
        before, after = _decode(edit.before), _decode(edit.after)
        if before is None or after is None:
            chunks.append(f"Binary files {old} and {new} differ\n")
            continue
        if edit.before == edit.after:
            continue
        diff = difflib.unified_diff(
            _lines(before), _lines(after), fromfile=old, tofile=new, lineterm="", n=3
        )
        chunks.append("".join(line + "\n" for line in diff))
    return "".join(chunks)


# --------------------------------------------------------------------------------------------
# Writing


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
