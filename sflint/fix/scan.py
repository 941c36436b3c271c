"""Where things are in a file's bytes, and the check that a fix changed only what it meant.

Offsets come from a real XML parser: expat reports the byte index of each tag, so an edit
can splice the original bytes and copy everything else unchanged. Every result is then
re-parsed by a second, independent parser (lxml/libxml2) and compared with the original
tree minus the intended change (:func:`verify`); a result that fails raises
:class:`FixError`, so corrupted bytes are never returned.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from lxml import etree

from sflint.fix.values import FixError
from sflint.kinds import KINDS, FixPolicy, kind_of
from sflint.model import ComponentType
from sflint.xmlsafe import safe_parser

__all__ = [
    "BETA1_ROOT",
    "TRUE",
    "XML_WS",
    "Element",
    "check_root",
    "enabled_grants",
    "scan",
    "verify",
]

# Beta2 decomposed child files (``<PS>.userPermission-meta.xml``) have the main file's
# ``PermissionSet`` root, without namespace; beta1 files (``userPermissions/<Name>.
# userPermission-meta.xml``) a namespaced ``UserPermission`` root (SALESFORCE.md, Files).
BETA1_ROOT = "UserPermission"

# Metadata API fields are xsd:boolean, whose lexical space is {true, false, 1, 0}
# (XML Schema Part 2, 3.2.2); Salesforce writes "true"/"false" but accepts both forms.
TRUE = frozenset({"true", "1"})

# XML whitespace (XML 1.0, production 3 "S"): what surrounds a text value without being part
# of it. str.strip() would also remove characters such as U+00A0 that are data in XML.
XML_WS = " \t\r\n"


@dataclass(frozen=True)
class Element:
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
    children: tuple[Element, ...] = field(default=())

    def child_texts(self, name: str) -> list[str]:
        return [c.text.strip(XML_WS) for c in self.children if c.name == name]


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
    children: list[Element] = field(default_factory=list)


def scan(data: bytes) -> Element:
    """Parse ``data``; return the root with byte offsets of its ``userPermissions`` and
    ``label`` children and of their children (other root children are listed without
    descendants; deeper elements are only counted, for :attr:`Element.ordinal`)."""
    # The handlers below share the parser's state through closures; one function keeps the
    # whole walk in view, hence its length.
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
    roots: list[Element] = []
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
            beta1 = local == BETA1_ROOT
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
        element = Element(
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


def enabled_grants(root: Element) -> dict[str, list[Element]]:
    """Enabled ``<userPermissions>`` children of ``root`` by the permission they grant, in
    document order. A grant with no name or several is left out: it names no one permission."""
    found: dict[str, list[Element]] = {}
    for child in root.children:
        if child.name != "userPermissions":
            continue
        names = child.child_texts("name")
        if len(names) == 1 and any(t in TRUE for t in child.child_texts("enabled")):
            found.setdefault(names[0], []).append(child)
    return found


def check_root(root: Element, component_type: ComponentType) -> FixPolicy:
    """How a permission is turned off in a file of ``component_type`` (the kinds table says),
    once ``root`` is the root element such a file has; FixError when it is not, or when
    nothing in such a file can be turned off."""
    kind = kind_of(component_type)
    if kind.fix_policy is FixPolicy.NONE:
        fixable = sorted(k.type.value for k in KINDS if k.fix_policy is not FixPolicy.NONE)
        raise FixError(f"cannot fix a {component_type.value}: only {', '.join(fixable)}")
    if root.name != kind.root.local:
        raise FixError(f"expected a <{kind.root.local}> root element, found <{root.name}>")
    return kind.fix_policy


# --------------------------------------------------------------------------------------------
# Verification (lxml, independent of the scanner above)


def _canonical(
    data: bytes, *, removed: Sequence[int] = (), retext: Mapping[int, str] | None = None
) -> bytes:
    """Canonical XML (C14N 1.0, with comments) of ``data`` after applying the intended change
    to lxml's own tree: elements ``removed`` (document-order ordinals) dropped, the content of
    elements in ``retext`` replaced by a text. Leading and trailing whitespace of every text
    is dropped: it is layout between elements, which a removal legitimately changes."""
    try:
        root = etree.fromstring(data, safe_parser(keep_comments=True))
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
            node.text = node.text.strip(XML_WS) or None
        if node.tail is not None:
            node.tail = node.tail.strip(XML_WS) or None
    return etree.tostring(root.getroottree(), method="c14n", with_comments=True)


def verify(
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
