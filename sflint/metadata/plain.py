"""Tree-free reading of a *plain* metadata file, from its bytes.

A plain file is one in the shape Salesforce writes: UTF-8, no DOCTYPE, namespace
declarations only on the root, no attributes or prefixes below the root, and each element
the reader reads written as leaf children (``<userPermissions><enabled>true</enabled>
<name>X</name></userPermissions>``), with comments, CDATA and processing instructions
anywhere else. Such a file is read here with ``bytes.find``/``bytes.count`` passes and a few
anchored regular-expression matches, without building any tree; libxml2 has already said
it is well-formed (:func:`sflint.xmlsafe.well_formed`), so this pass only locates, it never
judges syntax.

Everything this module returns is what the general reader (``reader._general``, lxml's
iterparse) would extract from the same bytes, and ``tests/test_reader_plain.py`` holds the
two to that on every corpus and testdata file and on hostile variants. Whatever it cannot
read with certainty (an attribute below the root, a prefix, a CDATA name, a grant nested
where no grant belongs, libxml2's depth limit in reach) makes :func:`scan` return None, and
the general reader reads the file instead: slower, never different.

Why the checks below are enough, given a well-formed document (XML 1.0, section 2):

- outside comments, CDATA sections and processing instructions ("markup"), ``<`` only ever
  starts a tag (it is not allowed in text or attribute values), ``</`` only an end tag, and
  with no attribute below the root a start tag is ``<name`` + blanks + ``>`` or ``/>``;
- so the number of elements open at a position (its depth) is counted exactly from the
  numbers of ``<``, ``</`` and ``/>`` before it; from ``<`` and ``</`` alone when the
  document holds no empty-element tag, which the count at the root's end tag says (each
  empty tag adds one there); otherwise a ``/>`` in text (legal, rare) is ruled out by
  checking that ``<`` and ``>`` balance wherever ``/>`` occurs;
- libxml2 refuses more than 256 nested elements (without XML_PARSE_HUGE) only when it
  builds a tree, so the depth is bounded here in blocks: no block can reach deeper than its
  starting depth plus the start tags in it, and a block where that bound is too loose is
  split until it is exact;
- namespace well-formedness is what libxml2 checks only when it builds elements: with no
  declaration below the root, no ``xmlns:`` prefix on it and no colon in any name, there
  is nothing left to check.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from typing import NamedTuple

from sflint.kinds import Root

__all__ = ["Entry", "Scan", "scan"]

METADATA_NS = "http://soap.sforce.com/2006/04/metadata"
_BOM = b"\xef\xbb\xbf"
_NAME = rb"[A-Za-z_][A-Za-z0-9_.\-]*"
_S = rb"[ \t\r\n]"
# The root's start tag: unprefixed attributes whose values hold no reference and no blank
# other than a space (attribute-value normalisation would change them).
_ROOT_TAG = re.compile(
    rb"<("
    + _NAME
    + rb")((?:"
    + _S
    + rb"+"
    + _NAME
    + _S
    + rb"*="
    + _S
    + rb"*(?:\"[^\"<&\t\r\n]*\"|'[^'<&\t\r\n]*'))*)"
    + _S
    + rb"*(/?)>"
)
_ATTR = re.compile(_S + rb"+(" + _NAME + rb")" + _S + rb"*=" + _S + rb"*(?:\"([^\"]*)\"|'([^']*)')")
# A leaf child: <x>text</x> or <x/>, the text free of markup and elements.
_LEAF = re.compile(rb"<(" + _NAME + rb")" + _S + rb"*(?:/>|>([^<]*)</\1" + _S + rb"*>)")
_OPEN = re.compile(rb"<(" + _NAME + rb")" + _S + rb"*(/?)>")
_BLANKS = re.compile(_S + rb"*")
# The grant as Salesforce writes it, in one match (the general leaf loop reads the rest).
_GRANT = re.compile(
    rb"<userPermissions>"
    + _S
    + rb"*<enabled>(true|false)</enabled>"
    + _S
    + rb"*<name>([^<&\r]*)</name>"
    + _S
    + rb"*</userPermissions>"
)


def _flag(name: bytes) -> bytes:
    return rb"<" + name + rb">(true|false)</" + name + rb">" + _S + rb"*"


# An object permission as Salesforce writes it (its fields in alphabetical order, with
# viewAllFields from API 61 on), in one match: the flags, the object, the last flag.
_OBJECT = re.compile(
    rb"<objectPermissions>"
    + _S
    + rb"*"
    + b"".join(_flag(n) for n in (b"allowCreate", b"allowDelete", b"allowEdit", b"allowRead"))
    + _flag(b"modifyAllRecords")
    + rb"<object>([^<&\r]*)</object>"
    + _S
    + rb"*(?:<viewAllFields>(?:true|false)</viewAllFields>"
    + _S
    + rb"*)?"
    + _flag(b"viewAllRecords")
    + rb"</objectPermissions>"
)
_OBJECT_NAMES = ("allowCreate", "allowDelete", "allowEdit", "allowRead", "modifyAllRecords")
_REF = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_XML_SPACE = " \t\r\n"

# libxml2's nesting limit without XML_PARSE_HUGE: 256 elements deep, the root included.
MAX_DEPTH = 256
# And its limit on one text node (XML_MAX_TEXT_LENGTH, 10,000,000 bytes): like the nesting
# limit, checked only when a tree is built. Half of it is the window of ``_short_texts``.
_TEXT_WINDOW = 5_000_000
_BLOCK = 8192  # bytes per block of the depth pass: a few hundred tags of a real file
# Beyond this many '!', '?', '=' or ':' bytes in text, a file is left to the general reader
# rather than paying a Python step for each.
_MAX_HITS = 4096


class Entry(NamedTuple):
    """One element the kind reads: its local name, start line, and its text (a label, a
    member) or its leaf children in document order (a grant's ``name`` and ``enabled``)."""

    local: str
    line: int
    text: str = ""
    fields: tuple[tuple[str, str], ...] = ()


# A grant as Salesforce writes it, with a name (nearly every entry of a file): its line,
# its name and whether it is enabled, as a plain tuple (``_entries``).
Granted = tuple[int, str, bool]


class Scan(NamedTuple):
    root: Root
    line: int
    namespace: str | None
    entries: tuple[Entry | Granted, ...]  # in document order
    has_comments: bool


def _decode(raw: bytes) -> str:
    """Element text as libxml2 delivers it: line ends normalised (XML 1.0, 2.11) before
    references are replaced (a ``&#13;`` stays a carriage return), then trimmed."""
    if b"\r" in raw:
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    text = raw.decode("utf-8")
    if "&" in text:
        text = _REF.sub(_replace, text)
    return text.strip(_XML_SPACE)


def _replace(m: re.Match[str]) -> str:
    ref = m.group(1)
    if ref.startswith("#x"):
        return chr(int(ref[2:], 16))
    if ref.startswith("#"):
        return chr(int(ref[1:]))
    return _NAMED[ref]


class _Markup:
    """Comments, CDATA sections and processing instructions after the root's start tag:
    sorted, disjoint (start, end) spans, looked up by bisection."""

    def __init__(self, spans: list[tuple[int, int]], comments: bool) -> None:
        self.spans = spans
        self.ends = [e for _, e in spans]
        self.comments = comments  # only a comment can hold a suppression

    def index(self, pos: int) -> int:
        """The index of the first span that ends after ``pos``."""
        return bisect.bisect_right(self.ends, pos)

    def skip(self, pos: int) -> int | None:
        """The end of the span holding ``pos``, or None when ``pos`` is outside markup."""
        if not self.spans:
            return None
        i = bisect.bisect_right(self.ends, pos)
        if i < len(self.spans) and self.spans[i][0] <= pos:
            return self.spans[i][1]
        return None


_ENDS = {b"!--": b"-->", b"![CDATA[": b"]]>", b"?": b"?>"}


_PI_TARGET = re.compile(rb"<\?([^ \t\r\n?]*)")


def _pi_target_ok(data: bytes, pos: int) -> bool:
    """No colon in the target of the processing instruction at ``pos``: libxml2 refuses
    one only in its namespace processing ("colons are forbidden from PI names")."""
    m = _PI_TARGET.match(data, pos)
    return m is not None and b":" not in m.group(1)


def _markup(data: bytes, start: int) -> _Markup | None:
    """Every comment, CDATA section and processing instruction from ``start`` on. ``!`` and
    ``?`` are rare bytes, so one ``find`` each jumps straight to the candidates."""
    spans: list[tuple[int, int]] = []
    comments = False
    pos, hits = start, 0
    while True:
        bang, question = data.find(b"!", pos), data.find(b"?", pos)
        at = min(bang, question) if bang >= 0 and question >= 0 else max(bang, question)
        if at < 0:
            return _Markup(spans, comments)
        hits += 1
        if hits > _MAX_HITS:
            return None
        if data[at - 1 : at] != b"<":
            pos = at + 1
            continue
        if data.startswith(b"!--", at):
            kind = b"!--"
        elif data.startswith(b"![CDATA[", at):
            kind = b"![CDATA["
        elif data.startswith(b"?", at):
            kind = b"?"
        else:  # a DOCTYPE or declaration inside the document: never plain
            return None
        end = data.find(_ENDS[kind], at + len(kind))
        if end < 0 or (kind == b"?" and not _pi_target_ok(data, at - 1)):
            return None
        pos = end + len(_ENDS[kind])
        spans.append((at - 1, pos))
        comments = comments or kind == b"!--"


def _no_names_with_colons_or_attributes(data: bytes, start: int, end: int, markup: _Markup) -> bool:
    """No tag between ``start`` and ``end`` has an attribute or a colon in its name.

    A ``=`` or ``:`` is inside a tag when no ``>`` lies between it and the ``<`` before it.
    The first ``=`` of a tag with attributes always is (a value that holds a ``>`` comes
    after it), so every tag with an attribute is caught; with none, a colon in a tag is in
    its name."""
    for byte in (b"=", b":"):
        pos, hits = start, 0
        while True:
            at = data.find(byte, pos, end)
            if at < 0:
                break
            hits += 1
            if hits > _MAX_HITS:
                return False
            past = markup.skip(at)
            if past is not None:
                pos = past
                continue
            lt = data.rfind(b"<", start, at)
            if lt >= 0 and data.find(b">", lt, at) < 0:
                return False
            pos = at + 1
    return True


class _Counts(NamedTuple):
    opened: int  # start tags, empty-element tags included
    delta: int  # how many more elements are open at the end than at the start


def _count(data: bytes, a: int, b: int, markup: _Markup, empties: bool = True) -> _Counts | None:
    """Tags in [a, b) outside markup (a and b lie outside it); None when a ``/>`` may be
    text (``<`` and ``>`` do not balance there, so a ``>`` stands in text). Without
    ``empties`` (the document is known to hold no empty-element tag: ``_depths``), a
    ``/>`` is never looked for."""
    lt, close = data.count(b"<", a, b), data.count(b"</", a, b)
    # Every "/>" holds a "/" that no "</" holds: with no other "/", there is none (a count
    # of one byte is about twice as fast as one of two).
    empty = data.count(b"/>", a, b) if empties and data.count(b"/", a, b) != close else 0
    gt = data.count(b">", a, b) if empty else 0
    spans, i = markup.spans, markup.index(a)
    while i < len(spans) and spans[i][1] <= b:
        s, e = spans[i]
        if s >= a:
            lt -= data.count(b"<", s, e)
            close -= data.count(b"</", s, e)
            if empty:
                empty -= data.count(b"/>", s, e)
                gt -= data.count(b">", s, e)
        i += 1
    if empty and gt != lt:
        return None
    # <x> opens one, </x> closes one, <x/> does both.
    return _Counts(lt - close, lt - 2 * close - empty)


def _boundary(data: bytes, pos: int, end: int, markup: _Markup) -> int:
    """The first ``<`` at or after ``pos`` outside markup, or ``end``."""
    while True:
        at = data.find(b"<", pos, end)
        if at < 0:
            return end
        past = markup.skip(at)
        if past is None:
            return at
        pos = past


class _Depths(NamedTuple):
    """The depth pass's blocks: where each starts (outside markup), and how many elements
    are open there; the depth anywhere is then one count from its block's start."""

    starts: list[int]
    depths: list[int]
    end: int  # the root's end tag: every element but the root is closed there
    empties: bool  # whether the document may hold an empty-element tag (``_count``)

    def at(self, data: bytes, markup: _Markup, point: int) -> int | None:
        """The number of elements open at ``point`` (outside markup); None when the count
        from its block's start cannot be trusted."""
        if point >= self.end:
            return 1
        i = bisect.bisect_right(self.starts, point) - 1
        part = _count(data, self.starts[i], point, markup, self.empties)
        return None if part is None else self.depths[i] + part.delta


def _depths(data: bytes, start: int, end: int, markup: _Markup) -> _Depths | None:
    """The blocks of the root's content (between ``start``, just inside the root, and
    ``end``, the root's end tag) with the depth at each; None when the document may nest
    deeper than libxml2 allows or a count cannot be trusted.

    First counted as if no tag were an empty-element tag (``<x/>``, which Salesforce does
    not write), with two counts per block instead of three or five. Counted so, each empty
    tag before a point adds one to the depth there and nothing else changes, so the depth
    at the root's end tag is one plus the number of empty tags: when it is one, there is
    none, and every depth and bound was exact (a ``/>`` in text then counts for nothing:
    only a ``<`` can start a tag). Otherwise, or when a bound says too deep (it may be one
    of those miscounts), the document is counted again with the empty tags."""
    fast = _depth_blocks(data, start, end, markup, empties=False)
    return fast if fast is not None else _depth_blocks(data, start, end, markup, empties=True)


def _depth_blocks(
    data: bytes, start: int, end: int, markup: _Markup, empties: bool
) -> _Depths | None:
    """One pass over the root's content in blocks (``_depths``): no block reaches deeper
    than its depth at the start plus the start tags in it. A block where that bound is over
    the limit is split in two until the bound is exact (one tag), so a real file pays two
    or three ``count`` calls per block and only a deeply nested one pays for more."""
    depth, a = 1, start
    starts: list[int] = []
    depths: list[int] = []
    ends = [_boundary(data, min(start + _BLOCK, end), end, markup)]
    while a < end:
        b = ends[-1]
        counts = _count(data, a, b, markup, empties)
        if counts is None:
            return None
        if depth + counts.opened > MAX_DEPTH:
            mid = _boundary(data, a + 1, b, markup)
            if counts.opened <= 1 or mid >= b:  # one tag: the bound is exact
                return None
            half = _boundary(data, a + (b - a) // 2, b, markup)
            ends.append(half if a < half < b else mid)
            continue
        starts.append(a)
        depths.append(depth)
        depth += counts.delta
        a = ends.pop()
        if not ends and a < end:
            ends.append(_boundary(data, min(a + _BLOCK, end), end, markup))
    if depth != 1:  # the root's end tag closes exactly the root; anything else is a miscount
        return None
    return _Depths(starts, depths, end, empties)


def _short_texts(data: bytes, start: int, end: int, markup: _Markup) -> bool:
    """No text node between ``start`` and ``end`` can reach libxml2's limit on one.

    A text node lies between two tags (comments, CDATA and processing instructions inside
    it do not end it: the tree parser drops the first and last and merges CDATA into the
    text), so it is no longer than the bytes between those tags; and a stretch of 10,000,000
    bytes without a tag holds a whole aligned window of 5,000,000. One ``find`` per window,
    so 13 for a 64 MB file; a window without a tag (a file no tool writes) is left to the
    tree parser, which says whether it is too large."""
    for a in range(start - start % _TEXT_WINDOW, end, _TEXT_WINDOW):
        a, b = max(a, start), min(a + _TEXT_WINDOW, end)
        if b - a == _TEXT_WINDOW and _boundary(data, a, b, markup) >= b:
            return False
    return True


class _Root(NamedTuple):
    at: int
    tag: re.Match[bytes]
    comments: bool  # a comment in the prolog


def _root(data: bytes) -> _Root | None:
    """The root's start tag, past the XML declaration, comments, processing instructions
    and blanks (xmlsafe.well_formed has refused a DOCTYPE)."""
    pos, comments = (3 if data.startswith(_BOM) else 0), False
    while True:
        pos = _BLANKS.match(data, pos).end()  # type: ignore[union-attr]  # matches empty
        if data.startswith(b"<!--", pos):
            end, comments = data.find(b"-->", pos + 4), True
            pos = end + 3
        elif data.startswith(b"<?", pos):
            if not _pi_target_ok(data, pos):
                return None
            end = data.find(b"?>", pos + 2)
            pos = end + 2
        else:
            m = _ROOT_TAG.match(data, pos)
            return _Root(pos, m, comments) if m is not None else None
        if end < 0:
            return None


_CLOSE = re.compile(rb"</(" + _NAME + rb")" + _S + rb"*>")


def _leaves(
    data: bytes, pos: int, wanted: frozenset[str]
) -> tuple[tuple[tuple[str, str], ...], int] | None:
    """The leaves named in ``wanted`` among the leaf children from ``pos`` to the next end
    tag, and where that end tag starts; None when a child is not a leaf."""
    fields: list[tuple[str, str]] = []
    while True:
        pos = _BLANKS.match(data, pos).end()  # type: ignore[union-attr]  # matches empty
        if data.startswith(b"</", pos):
            return tuple(fields), pos
        m = _LEAF.match(data, pos)
        if m is None:
            return None
        name = m.group(1).decode("ascii")
        if name in wanted:
            fields.append((name, _decode(m.group(2) or b"")))
        pos = m.end()


def _close(data: bytes, pos: int, name: bytes) -> int | None:
    """The end of the end tag ``</name>`` at ``pos``, or None."""
    m = _CLOSE.match(data, pos)
    return m.end() if m is not None and m.group(1) == name else None


Fields = tuple[tuple[str, str], ...]


def _grant(
    data: bytes,
    pos: int,
    local: str,
    line: int,
    wanted: frozenset[str],
    known: dict[tuple[bytes, bytes], Fields],
) -> tuple[Entry, int] | None:
    """An entry with fields at ``pos`` (a grant, an object permission): the common shape in
    one match, any other leaf shape child by child. ``known`` holds the fields of each
    common grant met before in the file, so that a file repeating one grant (600,000 times
    in 64 MB) holds its fields once, not per copy."""
    m = _GRANT.match(data, pos) if local == "userPermissions" else None
    if m is not None:
        raw = (m.group(1), m.group(2))
        fields = known.get(raw)
        if fields is None:
            fields = (("enabled", raw[0].decode("ascii")), ("name", _decode(raw[1])))
            known[raw] = fields
        return Entry(local, line, fields=fields), m.end()
    m = _OBJECT.match(data, pos) if local == "objectPermissions" else None
    if m is not None:
        flags = tuple((n, m.group(i).decode("ascii")) for i, n in enumerate(_OBJECT_NAMES, 1))
        last = (("object", _decode(m.group(6))), ("viewAllRecords", m.group(7).decode("ascii")))
        return Entry(local, line, fields=flags + last), m.end()
    tag = _OPEN.match(data, pos)
    if tag is None:
        return None
    if tag.group(2):  # <userPermissions/>
        return Entry(local, line), tag.end()
    leaves = _leaves(data, tag.end(), wanted)
    if leaves is None:
        return None
    end = _close(data, leaves[1], tag.group(1))
    return (Entry(local, line, fields=leaves[0]), end) if end is not None else None


def _text(data: bytes, pos: int, local: str, line: int) -> tuple[Entry, int] | None:
    m = _LEAF.match(data, pos)
    if m is None:
        return None
    return Entry(local, line, text=_decode(m.group(2) or b"")), m.end()


_TAG_END = frozenset(b" \t\r\n/>")  # what may follow a tag's name (no attribute below the root)


def _candidates(
    data: bytes, names: tuple[str, ...], start: int, end: int, markup: _Markup
) -> list[tuple[int, str]]:
    """Every start tag of an element named in ``names`` between ``start`` and ``end``,
    outside markup, in document order: ``<name`` then a blank, ``/`` or ``>``, so never a
    longer name (``<labels>``).

    One ``find`` loop per name: a name of six bytes or more is searched with CPython's
    two-way search, which skips ahead by up to the name's length, so the few names a kind
    reads cost less together than one regular-expression pass, which stopped at every
    ``<`` of the file to try them all (a third of the instructions of the whole scan).
    At one position at most one name can be followed by a tag's end, so the names' tags
    sorted by position are the document's."""
    spans = markup.spans
    found: list[tuple[int, str]] = []
    last = end - 1  # the byte after the name lies before ``end`` too
    for name in names:
        tag, after = b"<" + name.encode("ascii"), len(name) + 1
        find, at = data.find, data.find(tag, start, last)
        while at >= 0:
            if data[at + after] in _TAG_END and (not spans or markup.skip(at) is None):
                found.append((at, name))
            at = find(tag, at + after, last)
    if len(names) > 1:
        found.sort()
    return found


def _root_end(data: bytes, body: int, name: bytes, markup: _Markup) -> int | None:
    """Where the root's end tag starts: the last end tag outside markup."""
    end = len(data)
    while True:
        end = data.rfind(b"</" + name, body, end)
        if end < 0:
            return None
        if markup.skip(end) is None:
            return end if _close(data, end, name) is not None else None


def scan(data: bytes, roots: tuple[Root, ...], grants: Mapping[str, frozenset[str]]) -> Scan | None:
    """The root and the entries of a well-formed ``data`` whose root is one of ``roots``,
    or None when the file is not plain (the general reader then reads it). ``grants``
    names the entries read from their leaf children, with the children read; the others
    are read from their text."""
    root = _root(data)
    if root is None:
        return None
    tag = root.tag
    local = tag.group(1).decode("ascii")
    spec = next((r for r in roots if r.local == local), None)
    if spec is None:
        return None  # the general reader says what was expected
    namespace: str | None = None
    for attr in _ATTR.finditer(tag.group(2)):
        if attr.group(1) == b"xmlns":
            value = attr.group(2) if attr.group(2) is not None else attr.group(3)
            namespace = value.decode("utf-8") or None
        elif attr.group(1).startswith(b"xmlns"):
            return None
    if namespace not in (None, METADATA_NS):
        # libxml2 checks a namespace name as a URI only when it builds elements, and
        # refuses some ("is not a valid URI"): another namespace is for the general reader.
        return None
    line = data.count(b"\n", 0, root.at) + 1
    body = tag.end()
    markup = _markup(data, body)
    if markup is None:
        return None
    comments = root.comments or markup.comments
    if tag.group(3):  # an empty root: nothing inside
        return Scan(spec, line, namespace, (), comments)
    end = _root_end(data, body, tag.group(1), markup)
    if end is None or not _no_names_with_colons_or_attributes(data, body, end, markup):
        return None
    if not _short_texts(data, body, end, markup):
        return None
    if spec.entry is not None:
        # The root is itself the entry (a beta1 child file): its leaves are the fields.
        leaves = _leaves(data, body, grants[spec.entry])
        if leaves is None or leaves[1] != end or _depths(data, body, end, markup) is None:
            return None
        return Scan(spec, line, namespace, (Entry(local, line, fields=leaves[0]),), comments)
    found = _candidates(data, spec.reads, body, end, markup)
    entries = _entries(data, found, grants, line, _Context(body, end, markup, root.at))
    if entries is None:
        return None
    return Scan(spec, line, namespace, entries, comments)


class _Context(NamedTuple):
    body: int  # just inside the root
    end: int  # the root's end tag
    markup: _Markup
    root_at: int


def _entries(
    data: bytes,
    found: list[tuple[int, str]],
    grants: Mapping[str, frozenset[str]],
    root_line: int,
    where: _Context,
) -> tuple[Entry | Granted, ...] | None:
    """Each candidate read at its line, if every one is a child of the root: by the depth
    pass, for the first and for each one with a tag between it and the entry before (the
    others have only blanks there).

    The loop runs once per grant (69,000 in the enterprise bench), so the grant as
    Salesforce writes it is matched here inline, and every other shape goes through
    ``_grant`` and ``_text``. Such a grant with a name can hold no problem: it is a
    ``Granted`` tuple, which the reader counts without looking at its fields again (an
    Entry, a NamedTuple, is built through a Python-level ``__new__``); one without a name
    (a problem) is an Entry."""
    first = found[0][0] if found else where.end
    depths = _depths(data, where.body, where.end, where.markup)
    if depths is None or depths.at(data, where.markup, first) != 1:
        return None
    entries: list[Entry | Granted] = []
    known: dict[tuple[bytes, bytes], Fields] = {}
    granted: dict[tuple[bytes, bytes], tuple[str, bool]] = {}  # each grant's, decoded once
    line, counted, after = root_line, where.root_at, where.body
    count, find, common = data.count, data.find, _GRANT.match
    plain_grant = "userPermissions" in grants
    for at, name in found:
        if at < after:
            return None  # inside the entry before: nested where the reader would not read it
        # The entry before is balanced and began at depth 1, so this one begins at depth 1
        # exactly when what lies between them is balanced; the depth here is counted from
        # its block's start, not across the gap (the elements not read, most of a profile,
        # were counted twice).
        if entries and find(b"<", after, at) >= 0 and depths.at(data, where.markup, at) != 1:
            return None
        line += count(b"\n", counted, at)
        counted = at
        m = common(data, at) if plain_grant and name == "userPermissions" else None
        if m is not None:
            raw: tuple[bytes, bytes] = m.group(1, 2)  # type: ignore[assignment]  # both match
            decoded = granted.get(raw)
            if decoded is None:
                # _decode, for a name that _GRANT has matched free of "&" and "\r".
                decoded = (raw[1].decode("utf-8").strip(_XML_SPACE), raw[0] == b"true")
                granted[raw] = decoded
            after = m.end()
            if decoded[0]:
                entries.append((line, *decoded))
                continue
            entries.append(
                Entry(name, line, "", (("enabled", raw[0].decode("ascii")), ("name", "")))
            )
            continue
        wanted = grants.get(name)
        read = (
            _grant(data, at, name, line, wanted, known)
            if wanted is not None
            else _text(data, at, name, line)
        )
        if read is None:
            return None
        entries.append(read[0])
        after = read[1]
    return tuple(entries)
