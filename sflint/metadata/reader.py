"""Safe parsing of one permission metadata file into plain values.

The parser never loads a DTD, expands entities or touches the network (lxml's XMLParser with
``resolve_entities=False``, ``no_network=True``, ``load_dtd=False``; huge-tree mode stays off,
which bounds depth and text size). A document that declares a DOCTYPE is refused: Salesforce
never writes one, and refusing it closes the entity-expansion door entirely.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from lxml import etree

from sflint.kinds import Role, Root, kind_of
from sflint.model import ComponentType, Grant, Location, Member, Problem, Suppression
from sflint.xmlsafe import safe_parser

_TRUE = "true"
METADATA_NS = "http://soap.sforce.com/2006/04/metadata"


@dataclass(frozen=True)
class ParsedFile:
    """What one file says; a decomposed permission set is assembled from several of these."""

    root: str
    root_line: int
    label: str | None = None
    license: str | None = None
    user_license: str | None = None
    grants: tuple[Grant, ...] = ()
    members: tuple[Member, ...] = ()
    muting_members: tuple[Member, ...] = ()
    problems: tuple[Problem, ...] = ()
    suppressions: tuple[Suppression, ...] = ()


# <!-- sflint: ignore SFL002 --> or <!-- sflint: ignore-file integration-api-mfa, SFL005 -->,
# optionally followed by a reason in parentheses.
_DIRECTIVE = re.compile(rb"\s*sflint:\s*(ignore-file|ignore)(?![\w-])(.*)\Z", re.DOTALL)
_RULE_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
# Where markup that is not an element starts; each is skipped to its end with one find.
_MARKUP = re.compile(rb"<(!--|!\[CDATA\[|\?|!)?")
_ENDS = {b"!--": b"-->", b"![CDATA[": b"]]>", b"?": b"?>", b"!": b">"}


def markup_spans(data: bytes) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(comments, other) spans of a document, in order: comments as (start, end) of the
    whole ``<!-- ... -->``; CDATA sections, processing instructions and declarations in
    ``other``. One pass: every construct is skipped to its end marker with ``bytes.find``,
    so a file of a million comments costs the same as one of a million elements."""
    comments: list[tuple[int, int]] = []
    other: list[tuple[int, int]] = []
    pos = 0
    while True:
        m = _MARKUP.search(data, pos)
        if m is None:
            return comments, other
        kind = m.group(1)
        if kind is None:  # an element tag: nothing to skip
            pos = m.end()
            continue
        end = data.find(_ENDS[kind], m.end())
        end = len(data) if end < 0 else end + len(_ENDS[kind])
        (comments if kind == b"!--" else other).append((m.start(), end))
        pos = end


def _rules_and_reason(text: str) -> tuple[str, ...]:
    """Rule ids or names up to the first word that is not one (the reason starts there)."""
    rules: list[str] = []
    for word in text.replace(",", " ").split():
        if _RULE_TOKEN.fullmatch(word) is None:
            break
        rules.append(word)
    return tuple(rules)


def suppressions(data: bytes, path: str) -> tuple[Suppression, ...]:
    """Suppression comments: only real XML comments count, never the same text inside CDATA
    or a processing instruction. The parser drops comments, and a comment decides nothing
    about what the file grants, only which findings a person has accepted.

    Linear in the file size: the comments come from one pass, and each suppression is
    placed on the element that follows it (past blanks and other comments) by walking the
    comments in order with a running line count."""
    if b"sflint:" not in data:
        return ()
    comments, _ = markup_spans(data)
    out: list[Suppression] = []
    line, counted = 1, 0
    pending: list[tuple[tuple[str, ...], bool]] = []
    for i, (start, end) in enumerate(comments):
        m = _DIRECTIVE.match(data, start + 4, end - 3)
        if m is not None:
            words = m.group(2).decode("utf-8", "replace")
            pending.append((_rules_and_reason(words), m.group(1) == b"ignore-file"))
        if not pending:
            continue
        # The suppressions apply to what follows this comment, unless only blanks separate
        # it from the next comment, which then passes them on.
        following = comments[i + 1][0] if i + 1 < len(comments) else len(data)
        target = end
        while target < following and data[target] in b" \t\r\n":
            target += 1
        if target == following and following < len(data):
            continue
        line += data.count(b"\n", counted, target)
        counted = target
        out.extend(Suppression(rules, Location(path, line), whole) for rules, whole in pending)
        pending = []
    return tuple(out)


@dataclass
class _Lines:
    """Exact start lines of elements.

    libxml2 records the line where a start tag *ends*, so a tag split over lines
    (``<userPermissions\n    >``, as prettier writes them) would point one line low. The n-th
    element named ``local`` in document order starts at the n-th ``<local`` tag outside
    comments, CDATA and processing instructions; the parser has already vouched for the
    structure, so this lexical pass only locates, it decides nothing.
    """

    data: bytes
    _skip: list[tuple[int, int]] | None = None
    _lines: dict[str, list[int]] = field(default_factory=dict)
    _seen: dict[str, int] = field(default_factory=dict)

    def _not_markup(self) -> list[tuple[int, int]]:
        if self._skip is None:
            self._skip = []
            if b"<!" in self.data or b"<?" in self.data:
                comments, other = markup_spans(self.data)
                self._skip = sorted(comments + other)
        return self._skip

    def _start_lines(self, local: str) -> list[int]:
        """Start line of every ``<local`` tag, in document order."""
        if local not in self._lines:
            skip = self._not_markup()
            pattern = re.compile(
                rb"<(?:[A-Za-z_][\w.-]*:)?" + re.escape(local.encode()) + rb"[\s/>]"
            )
            lines: list[int] = []
            line, prev, i = 1, 0, 0
            for m in pattern.finditer(self.data):
                pos = m.start()
                while i < len(skip) and skip[i][1] <= pos:
                    i += 1
                if i < len(skip) and skip[i][0] <= pos:
                    continue
                # Counting newlines between consecutive tags keeps this one pass in C.
                line += self.data.count(b"\n", prev, pos)
                prev = pos
                lines.append(line)
            self._lines[local] = lines
        return self._lines[local]

    def start(self, el: etree._Element, local: str) -> int:
        """Line of the next element named ``local``; call in document order."""
        n = self._seen.get(local, 0)
        self._seen[local] = n + 1
        lines = self._start_lines(local)
        reported = el.sourceline if isinstance(el.sourceline, int) else None
        # libxml2's line is where the start tag ends, so the start is never after it; if the
        # lexical count says otherwise, trust libxml2. (An element of the same name nested
        # deeper, which Salesforce never writes, can still shift a line; it cannot crash.)
        if n < len(lines) and (reported is None or lines[n] <= reported):
            return lines[n]
        return reported or 1


def _local(tag: object) -> str | None:
    if not isinstance(tag, str):  # comments, processing instructions, entities
        return None
    return tag.rpartition("}")[2]


# XML's own whitespace (XML 1.0 §2.3, S): what Salesforce trims; str.strip() would also eat
# no-break spaces, which are part of a name.
_XML_SPACE = " \t\r\n"


def _text(el: etree._Element) -> str:
    return (el.text or "").strip(_XML_SPACE)


def _children_text(el: etree._Element) -> dict[str, str]:
    out: dict[str, str] = {}
    for child in el:
        name = _local(child.tag)
        if name is not None:
            out[name] = _text(child)
    return out


def _grant(el: etree._Element, path: str, lines: _Lines, local: str) -> Grant | None:
    line = lines.start(el, local)  # always: keeps the n-th-element count in step
    fields = _children_text(el)
    name = fields.get("name")
    if not name:
        return None
    # Only the exact lexical value "true" enables (xsd:boolean also allows "1"; Salesforce
    # writes "true"/"false").
    enabled = fields.get("enabled", "") in (_TRUE, "1")
    return Grant(name, enabled, Location(path, line))


@dataclass
class _Found:
    """What the extractors collect from one file, in document order."""

    path: str
    lines: _Lines
    texts: dict[str, str] = field(default_factory=dict)
    grants: list[Grant] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    muting: list[Member] = field(default_factory=list)


def _add_grant(el: etree._Element, local: str, found: _Found) -> None:
    grant = _grant(el, found.path, found.lines, local)
    if grant is not None:
        found.grants.append(grant)


def _add_text(el: etree._Element, local: str, found: _Found) -> None:
    found.texts[local] = _text(el)


def _add_member(el: etree._Element, local: str, found: _Found) -> None:
    member = Member(_text(el), Location(found.path, found.lines.start(el, local)))
    (found.members if local == "permissionSets" else found.muting).append(member)


# How each child element that a kind reads (``Root.reads`` in sflint/kinds.py) is extracted;
# ``local`` is the element's own name, which its line is counted by.
EXTRACTORS: dict[str, Callable[[etree._Element, str, _Found], None]] = {
    "userPermissions": _add_grant,
    "label": _add_text,
    "license": _add_text,
    "userLicense": _add_text,
    "permissionSets": _add_member,
    "mutingPermissionSets": _add_member,
}


def parse_bytes(data: bytes, path: str, ctype: ComponentType, role: Role = Role.MAIN) -> ParsedFile:
    """Parse ``data`` (the bytes of ``path``), a file of ``role`` of a ``ctype`` component."""
    parsed = _parse(data, path, kind_of(ctype).roots(role))
    found = suppressions(data, path)
    return replace(parsed, suppressions=found) if found else parsed


def _parse(data: bytes, path: str, roots: tuple[Root, ...]) -> ParsedFile:
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 1
        msg = exc.msg or str(exc)
        if "XML_PARSE_HUGE" in msg:
            # libxml2's limits on depth and text size stay on by design (hostile input).
            msg = "nested too deeply or text too large for a metadata file"
        return ParsedFile(
            "", line, problems=(Problem(f"not well-formed XML: {msg}", Location(path, line)),)
        )
    except ValueError as exc:  # e.g. an encoding declaration lxml cannot honour
        return ParsedFile(
            "", 1, problems=(Problem(f"cannot read as XML: {exc}", Location(path, 1)),)
        )
    lines = _Lines(data)
    line = lines.start(root, _local(root.tag) or "")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype:  # type: ignore[union-attr]
        where = Location(path, data.count(b"\n", 0, max(data.find(b"<!DOCTYPE"), 0)) + 1)
        problem = Problem("a DOCTYPE is not allowed in metadata files", where)
        return ParsedFile("", line, problems=(problem,))
    encoding = (docinfo.encoding or "UTF-8").upper().replace("_", "-")
    problems: list[Problem] = []
    if encoding not in ("UTF-8", "UTF8"):
        # Salesforce reads and writes metadata as UTF-8 only (Metadata API Developer Guide).
        problems.append(
            Problem(f"encoding is {encoding}; Salesforce metadata must be UTF-8", Location(path, 1))
        )
    namespace = etree.QName(root).namespace
    if namespace not in (None, METADATA_NS):
        problems.append(
            Problem(
                f"namespace {namespace} is not the Metadata API namespace {METADATA_NS}",
                Location(path, line),
            )
        )
    local = _local(root.tag) or ""
    spec = next((r for r in roots if r.local == local), None)
    if spec is None:
        wanted = " or ".join(f"<{r.local}>" for r in roots)
        problems.append(
            Problem(f"unexpected root element <{local}>; expected {wanted}", Location(path, line))
        )
        return ParsedFile(local, line, problems=tuple(problems))

    return _extract(root, line, spec, _Found(path, lines), tuple(problems))


def _extract(
    root: etree._Element, line: int, spec: Root, found: _Found, problems: tuple[Problem, ...]
) -> ParsedFile:
    """The values of a file whose root element is ``spec``, as the kinds table says to read."""
    local = _local(root.tag) or ""
    if spec.entry is not None:
        EXTRACTORS[spec.entry](root, local, found)
    else:
        # Only the children the kind reads: lxml filters by tag in C, which matters for
        # profiles with tens of thousands of field permissions.
        ns = etree.QName(root).namespace
        for child in root.iterchildren(*(f"{{{ns}}}{t}" if ns else t for t in spec.reads)):
            name = _local(child.tag) or ""
            EXTRACTORS[name](child, name, found)
    return ParsedFile(
        local,
        line,
        label=found.texts.get("label"),
        license=found.texts.get("license"),
        user_license=found.texts.get("userLicense"),
        grants=tuple(found.grants),
        members=tuple(found.members),
        muting_members=tuple(found.muting),
        problems=problems,
    )
