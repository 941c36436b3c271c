"""Safe parsing of one permission metadata file into plain values.

The parser never loads a DTD, expands entities or touches the network (lxml's parser with
``resolve_entities=False``, ``no_network=True``, ``load_dtd=False``; huge-tree mode stays off,
which bounds depth and text size). A document that declares a DOCTYPE is refused: Salesforce
never writes one, and refusing it closes the entity-expansion door entirely.

Two paths read a file, and give the same result for every file both can read:

- **plain** (``sflint.metadata.plain``), for files in the shape Salesforce writes: libxml2
  checks well-formedness without building anything (``xmlsafe.well_formed``), and one
  lexical pass over the bytes finds the elements the kind reads, at their exact lines. No
  tree, and about twice as fast as libxml2 building one (``bench/``);
- **general**, for everything else (a DOCTYPE, another encoding, a prefix, an attribute
  below the root, a CDATA name, a syntax error): the file is parsed incrementally
  (``iterparse``) and every element is dropped once it is read, so memory stays bounded by
  the largest element the reader keeps (a grant), not by the file: a 60 MB file of tiny
  elements took 2 GB as a tree (docs/security.md, "Limits").

What a file says ambiguously (an ``<enabled>`` that is not exactly ``true`` or ``false``, two
``<name>`` children, a grant outside the file's namespace) is a problem of its own, and it is
read the way that keeps the headline rule firing: if it could mean enabled, it is enabled.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, NamedTuple

from sflint.kinds import Role, Root, kind_of
from sflint.metadata import plain
from sflint.model import (
    SHOWN_LINES,
    ComponentType,
    Grant,
    Location,
    Member,
    ObjectAccess,
    ObjectGrant,
    Problem,
    ProblemKind,
    Suppression,
    object_access,
)

if TYPE_CHECKING:  # lxml is imported where a file is parsed: a cached run never needs it
    from lxml import etree

METADATA_NS = plain.METADATA_NS


@dataclass(frozen=True)
class ParsedFile:
    """What one file says; a decomposed permission set is assembled from several of these."""

    root: str
    root_line: int
    label: str | None = None
    license: str | None = None
    user_license: str | None = None
    custom: str | None = None  # a profile's <custom> text: "false" for a standard profile
    grants: tuple[Grant, ...] = ()
    members: tuple[Member, ...] = ()
    muting_members: tuple[Member, ...] = ()
    problems: tuple[Problem, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    object_grants: tuple[ObjectGrant, ...] = ()


# <!-- sflint: ignore SFL002 --> or <!-- sflint: ignore-file integration-api-mfa, SFL005 -->,
# optionally followed by a reason in parentheses.
_DIRECTIVE = re.compile(rb"\s*sflint:\s*(ignore-file|ignore)(?![\w-])(.*)\Z", re.DOTALL)
_RULE_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
# Where markup that is not an element starts; each is skipped to its end with one find.
# Element tags are never visited: in a well-formed document, ``<!`` and ``<?`` start only
# comments, CDATA, processing instructions and declarations.
_MARKUP = re.compile(rb"<(!--|!\[CDATA\[|\?|!)")
_ENDS = {b"!--": b"-->", b"![CDATA[": b"]]>", b"?": b"?>", b"!": b">"}


def iter_markup(data: bytes) -> Iterator[tuple[bool, int, int]]:
    """(is a comment, start, end) of every comment, CDATA section, processing instruction
    and declaration, in document order. One pass, constant memory: every construct is
    skipped to its end marker with ``bytes.find``."""
    pos = 0
    while True:
        m = _MARKUP.search(data, pos)
        if m is None:
            return
        kind = m.group(1)
        end = data.find(_ENDS[kind], m.end())
        end = len(data) if end < 0 else end + len(_ENDS[kind])
        yield kind == b"!--", m.start(), end
        pos = end


def markup_spans(data: bytes) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(comments, other) spans of a document, in order (see ``iter_markup``)."""
    comments: list[tuple[int, int]] = []
    other: list[tuple[int, int]] = []
    for is_comment, start, end in iter_markup(data):
        (comments if is_comment else other).append((start, end))
    return comments, other


# A reason is shown in every output with the findings it accepts; a comment of megabytes
# cannot make each of them that long.
MAX_REASON = 1000


def _rules_and_reason(text: str) -> tuple[tuple[str, ...], str]:
    """Rule ids or names up to the first word that is not one; the rest is the reason,
    without the parentheses around it and with its blanks collapsed."""
    rules: list[str] = []
    words = text.replace(",", " ").split()
    for word in words:
        if _RULE_TOKEN.fullmatch(word) is None:
            break
        rules.append(word)
    reason = " ".join(words[len(rules) :])
    if reason.startswith("(") and reason.endswith(")"):
        reason = reason[1:-1].strip()
    if len(reason) > MAX_REASON:
        reason = reason[: MAX_REASON - 1] + "…"
    return tuple(rules), reason


def suppressions(data: bytes, path: str) -> tuple[Suppression, ...]:
    """Suppression comments: only real XML comments count, never the same text inside CDATA
    or a processing instruction. The parser drops comments, and a comment decides nothing
    about what the file grants, only which findings a person has accepted.

    Linear in the file size: the comments come from one pass, and each suppression is
    placed on the element that follows it (past blanks and other comments) by walking the
    comments in order with a running line count."""
    # A comment starts with "<!": a file without a "!" (most, and found by memchr) has
    # none, and the search for the directive, several times slower, is not needed.
    if b"!" not in data or b"sflint:" not in data:
        return ()
    comments = ((start, end) for is_comment, start, end in iter_markup(data) if is_comment)
    out: list[Suppression] = []
    line, counted = 1, 0
    pending: list[tuple[tuple[tuple[str, ...], str], bool]] = []
    current = next(comments, None)
    while current is not None:
        start, end = current
        current = next(comments, None)  # one comment of lookahead, never a list of them
        m = _DIRECTIVE.match(data, start + 4, end - 3)
        if m is not None:
            words = m.group(2).decode("utf-8", "replace")
            pending.append((_rules_and_reason(words), m.group(1) == b"ignore-file"))
        if not pending:
            continue
        # The suppressions apply to what follows this comment, unless only blanks separate
        # it from the next comment, which then passes them on.
        following = current[0] if current is not None else len(data)
        target = end
        while target < following and data[target] in b" \t\r\n":
            target += 1
        if target == following and following < len(data):
            continue
        line += data.count(b"\n", counted, target)
        counted = target
        out.extend(
            Suppression(rules, Location(path, line), whole, reason)
            for (rules, reason), whole in pending
        )
        pending = []
    return tuple(out)


# libxml2 keeps an element's line in 16 bits unless asked for more (XML_PARSE_BIG_LINES),
# and lxml's sourceline then says 65535 for every element from that line on.
_SATURATED = 65535


@dataclass
class _Lines:
    """Exact start lines of elements.

    libxml2 records the line where a start tag *ends*, so a tag split over lines
    (``<userPermissions\n    >``, as prettier writes them) would point one line low. The n-th
    element named ``local`` in document order starts at the n-th ``<local`` tag outside
    comments, CDATA and processing instructions; the parser vouches for the structure, so
    this lexical pass only locates, it decides nothing. One pass finds every name the file's
    kind reads, and keeps only their lines.
    """

    data: bytes
    names: frozenset[str]
    _lines: dict[str, list[int]] | None = None
    _seen: dict[str, int] = field(default_factory=dict)

    def _scan(self) -> dict[str, list[int]]:
        lines: dict[str, list[int]] = {n: [] for n in self.names}
        names = b"|".join(re.escape(n.encode()) for n in sorted(self.names, key=len, reverse=True))
        pattern = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(" + names + rb")[\s/>]")
        skip = iter_markup(self.data)
        span = next(skip, None)
        line, prev = 1, 0
        for m in pattern.finditer(self.data):
            pos = m.start()
            while span is not None and span[2] <= pos:
                span = next(skip, None)
            if span is not None and span[1] <= pos:
                continue
            # Counting newlines between consecutive tags keeps this one pass in C.
            line += self.data.count(b"\n", prev, pos)
            prev = pos
            lines[m.group(1).decode()].append(line)
        return lines

    def start(self, el: etree._Element, local: str) -> int:
        """Line of the next element named ``local``; call in document order."""
        if self._lines is None:
            self._lines = self._scan()
        n = self._seen.get(local, 0)
        self._seen[local] = n + 1
        lines = self._lines.get(local, [])
        reported = el.sourceline if isinstance(el.sourceline, int) else None
        if reported is not None and reported >= _SATURATED:
            reported = None  # not a line: where libxml2's count stops
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


def _namespace(tag: str) -> str | None:
    return tag[1:].partition("}")[0] if tag.startswith("{") else None


# XML's own whitespace (XML 1.0 §2.3, S): what Salesforce trims; str.strip() would also eat
# no-break spaces, which are part of a name.
_XML_SPACE = " \t\r\n"


def _text(el: etree._Element) -> str:
    return (el.text or "").strip(_XML_SPACE)


def _short(text: str, limit: int = 40) -> str:
    """A value as an error message may quote it: never more than a short excerpt."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The children the reader reads of each entry that has them: a user permission's name and
# enabled, an object permission's object and access flags (Metadata API Developer Guide,
# Profile: ObjectPermissions). An entry keeps at most _KEEP of each (more only says
# "repeated", and a hostile file could otherwise hold millions in memory).
FIELDS: dict[str, tuple[str, ...]] = {
    "userPermissions": ("name", "enabled"),
    "objectPermissions": ("object", *(a.value for a in ObjectAccess)),
}
_KEEP = 3


class Read(NamedTuple):
    """One element the kind reads, as either path found it: its local name and start line,
    its text, or the texts of its ``FIELDS`` children (at most ``_KEEP`` of each, in
    document order), the children outside its namespace, and whether it is itself outside
    the file's namespace."""

    local: str
    line: int
    text: str = ""
    fields: dict[str, list[str]] | None = None
    foreign: tuple[str, ...] = ()
    outside: bool = False


# What makes two grants of one permission with one value different findings: the
# suppression comments on their lines (by line; ``_marks``).
Marks = dict[int, tuple[tuple[str, ...], ...]]


def _marks(found: tuple[Suppression, ...]) -> Marks:
    """The rules suppressed on each line, by the comments before that line's element."""
    marks: dict[int, list[tuple[str, ...]]] = {}
    for s in found:
        if not s.whole_file:
            marks.setdefault(s.location.line, []).append(s.rules)
    return {line: tuple(rules) for line, rules in marks.items()}


@dataclass
class _Found:
    """What the extractors collect from one file, in document order.

    The elements of one file that grant one permission with one value are one Grant, at the
    first of them, with their count (``model.Grant``): a file that repeats a grant 600,000
    times holds one Grant, not 600,000, from here to every output. Only elements whose
    suppression comments (``marks``) are the same are merged: a comment before the first
    of two copies must not silence the second.
    """

    path: str
    namespace: str | None  # the root element's
    marks: Marks = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    grants: list[Grant] = field(default_factory=list)
    objects: list[ObjectGrant] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    muting: list[Member] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # The index in ``grants`` of each (name, enabled, marks) first granted, and the count
    # and further lines (at most SHOWN_LINES - 1) of those granted again.
    _first: dict[tuple[str, bool, object], int] = field(default_factory=dict)
    _again: dict[int, tuple[list[int], list[int]]] = field(default_factory=dict)
    # Each (object, flags, marks) kept once: its repeats grant nothing more, and would cost
    # one finding each (600,000 in 64 MB) as repeated user permissions did.
    _objects_seen: set[tuple[str, tuple[ObjectAccess, ...], object]] = field(default_factory=set)

    def problem(self, message: str, line: int, kind: ProblemKind = ProblemKind.INVALID) -> None:
        self.problems.append(Problem(message, Location(self.path, line), kind))

    def grant(self, name: str, enabled: bool, line: int) -> None:
        key = (name, enabled, self.marks.get(line) if self.marks else None)
        at = self._first.get(key)
        if at is None:
            self._first[key] = len(self.grants)
            self.grants.append(Grant(name, enabled, Location(self.path, line)))
            return
        count, also = self._again.setdefault(at, ([1], []))
        count[0] += 1
        if len(also) < SHOWN_LINES - 1:
            also.append(line)

    def object_grant(self, grant: ObjectGrant) -> None:
        line = grant.location.line
        key = (grant.object, grant.access, self.marks.get(line) if self.marks else None)
        if key not in self._objects_seen:
            self._objects_seen.add(key)
            self.objects.append(grant)

    def _merged(self) -> tuple[Grant, ...]:
        grants = self.grants
        for at, (count, also) in self._again.items():
            grants[at] = grants[at]._replace(count=count[0], also=tuple(also))
        return tuple(grants)

    def _contradictions(self) -> None:
        """A permission granted both enabled and disabled in one file: Salesforce does not
        document which element a deploy keeps, so it is ambiguous (the enabled one is read,
        as everywhere: the headline rule must not go quiet)."""
        keys = self._first
        if len({name for name, _, _ in keys}) == len(keys):
            return  # no permission granted twice, so none both ways (nearly every file)
        first: dict[tuple[str, bool], int] = {}
        for (name, enabled, _), at in keys.items():  # in document order
            first.setdefault((name, enabled), self.grants[at].location.line)
        for (name, enabled), line in first.items():
            other = first.get((name, not enabled))
            if enabled and other is not None:
                self.problem(
                    f"<userPermissions> {_short(name)} is granted both enabled (line {line})"
                    f" and disabled (line {other}) in this file; sflint reads it as enabled",
                    max(line, other),
                    ProblemKind.AMBIGUOUS,
                )

    def entry_at(self, read: Read) -> None:
        """Report the entry just read if it is outside the file's namespace."""
        if read.outside:
            where = self.namespace or "no namespace"
            self.problem(
                f"<{read.local}> is not in the file's namespace ({where}); sflint reads it as"
                " if it were",
                read.line,
                ProblemKind.AMBIGUOUS,
            )

    def result(self, root: str, line: int) -> ParsedFile:
        self._contradictions()
        return ParsedFile(
            root,
            line,
            label=self.texts.get("label"),
            license=self.texts.get("license"),
            user_license=self.texts.get("userLicense"),
            custom=self.texts.get("custom"),
            grants=self._merged(),
            members=tuple(self.members),
            muting_members=tuple(self.muting),
            problems=tuple(self.problems),
            object_grants=tuple(self.objects),
        )


# xsd:boolean allows true, false, 1 and 0 (XML Schema Part 2, 3.2.2); Salesforce writes
# exactly "true" and "false", and reads "True" as true too (real deployed profiles use it,
# e.g. SalesforceFoundation/EDA's Admin.profile). So any other spelling is reported, and read
# as enabled when some reader could take it as true: the headline rule must not go quiet
# because of a capital letter.
_MAY_MEAN_TRUE = frozenset({"true", "1"})


def _enabled(values: list[str], where: str, found: _Found, line: int) -> bool:
    """Whether a grant's ``<enabled>`` children enable it; each ambiguity is a problem."""
    if not values:
        found.problem(f"{where} has no <enabled>; sflint reads it as disabled", line)
        return False
    return _boolean(values, "enabled", where, found, line)


def _boolean(values: list[str], element: str, where: str, found: _Found, line: int) -> bool:
    """Whether the ``<element>`` children of an entry (one or more) say true; each
    ambiguity is a problem."""
    enabled = any(v.lower() in _MAY_MEAN_TRUE for v in values)
    reading = "enabled" if enabled else "disabled"
    if len(values) > 1:
        found.problem(
            f"{where} has {len(values)} <{element}> elements; sflint reads it as {reading}",
            line,
            ProblemKind.AMBIGUOUS,
        )
    for v in values:
        if v not in ("true", "false"):
            # A spelling some reader takes as a boolean deploys (Salesforce reads "True");
            # anything else does not.
            boolean = v.lower() in ("true", "false", "1", "0")
            found.problem(
                f"{where} has <{element}>{_short(v)}</{element}>, which is neither true nor"
                f" false; sflint reads it as {reading}",
                line,
                ProblemKind.AMBIGUOUS if boolean else ProblemKind.INVALID,
            )
    return enabled


def _add_grant(found: _Found, read: Read) -> None:
    local, line = read.local, read.line
    found.entry_at(read)
    fields = read.fields or {}
    names = list(dict.fromkeys(n for n in fields.get("name", []) if n))
    where = f"<{local}> {names[0]}" if names else f"<{local}>"
    for name in read.foreign:
        found.problem(
            f"{where}: <{name}> is not in the file's namespace; sflint reads it as if it were",
            line,
            ProblemKind.AMBIGUOUS,
        )
    if not names:
        found.problem(f"{where} has no <name>; sflint cannot tell what it grants", line)
        return
    enabled = _enabled(fields.get("enabled", []), where, found, line)
    if len(fields["name"]) > 1:
        listed = ", ".join(_short(n) for n in names)
        found.problem(
            f"<{local}> has {len(fields['name'])} <name> elements ({listed});"
            " sflint reads it as a grant of each",
            line,
            ProblemKind.AMBIGUOUS,
        )
    for name in names:
        found.grant(name, enabled, line)


def _add_object(found: _Found, read: Read) -> None:
    """An ``<objectPermissions>`` entry: the flags it sets true on its object. A flag it
    leaves out grants nothing (Salesforce writes all six; absent reads as false)."""
    local, line = read.local, read.line
    found.entry_at(read)
    fields = read.fields or {}
    objects = list(dict.fromkeys(n for n in fields.get("object", []) if n))
    where = f"<{local}> {objects[0]}" if objects else f"<{local}>"
    for name in read.foreign:
        found.problem(
            f"{where}: <{name}> is not in the file's namespace; sflint reads it as if it were",
            line,
            ProblemKind.AMBIGUOUS,
        )
    if not objects:
        found.problem(f"{where} has no <object>; sflint cannot tell what it grants", line)
        return
    flags = [
        a
        for a in ObjectAccess
        if a.value in fields and _boolean(fields[a.value], a.value, where, found, line)
    ]
    if len(fields["object"]) > 1:
        listed = ", ".join(_short(n) for n in objects)
        found.problem(
            f"<{local}> has {len(fields['object'])} <object> elements ({listed});"
            " sflint reads it as a grant on each",
            line,
            ProblemKind.AMBIGUOUS,
        )
    access = object_access(flags)
    for o in objects:
        found.object_grant(ObjectGrant(o, access, Location(found.path, line)))


def _add_text(found: _Found, read: Read) -> None:
    found.entry_at(read)
    found.texts[read.local] = read.text


def _add_member(found: _Found, read: Read) -> None:
    found.entry_at(read)
    member = Member(read.text, Location(found.path, read.line))
    (found.members if read.local == "permissionSets" else found.muting).append(member)


# How each child element that a kind reads (``Root.reads`` in sflint/kinds.py) is extracted,
# whichever path read it.
EXTRACTORS: dict[str, Callable[[_Found, Read], None]] = {
    "userPermissions": _add_grant,
    "objectPermissions": _add_object,
    "label": _add_text,
    "license": _add_text,
    "userLicense": _add_text,
    "custom": _add_text,
    "permissionSets": _add_member,
    "mutingPermissionSets": _add_member,
}
# The entries whose children are read, with the children read (the others are read from
# their own text): what the plain path is asked to find.
_WITH_FIELDS = {entry: frozenset(names) for entry, names in FIELDS.items()}


def parse_bytes(data: bytes, path: str, ctype: ComponentType, role: Role = Role.MAIN) -> ParsedFile:
    """Parse ``data`` (the bytes of ``path``), a file of ``role`` of a ``ctype`` component."""
    from sflint.xmlsafe import well_formed  # lazy: lxml

    roots = kind_of(ctype).roots(role)
    # The suppressions first: repeated grants are merged only where they agree (_Found).
    # Only a comment can suppress, and ``suppressions`` finds none in a file without one.
    found = suppressions(data, path)
    marks = _marks(found)
    scanned = plain.scan(data, roots, _WITH_FIELDS) if well_formed(data) else None
    if scanned is None:
        parsed = _parse(data, path, roots, marks)
    else:
        parsed = _from_scan(scanned, path, marks)
    return replace(parsed, suppressions=found) if found else parsed


def _fields(pairs: tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        values = fields.setdefault(name, [])
        if len(values) < _KEEP:
            values.append(value)
    return fields


def _from_scan(scanned: plain.Scan, path: str, marks: Marks) -> ParsedFile:
    """What the plain path read, through the same extractors as the general path. A grant
    that says exactly one name and ``true`` or ``false`` (nearly all of them) can hold no
    problem, so it is counted directly: the plain path's ``Granted`` tuples, the first of
    each permission, value and marks made a Grant right here (``_Found.grant``, inline:
    this loop runs once per grant)."""
    spec = scanned.root
    found = _Found(path, scanned.namespace, marks)  # the plain path reads no other namespace
    grant, first, grants = found.grant, found._first, found.grants
    # Grant and Location made from their fields in order (Grant's count 1 and no further
    # lines, its defaults) in one C call each: a NamedTuple's own __new__ is Python.
    new = tuple.__new__
    for entry in scanned.entries:
        if not isinstance(entry, plain.Entry):
            line, name, enabled = entry
            key = (name, enabled, marks.get(line) if marks else None)
            if key in first:
                grant(name, enabled, line)  # a copy: counted on the first
            else:
                first[key] = len(grants)
                grants.append(new(Grant, (name, enabled, new(Location, (path, line)), 1, ())))
            continue
        kind = spec.entry or entry.local
        extract = EXTRACTORS[kind]
        if extract is _add_grant:
            pairs = entry.fields
            if len(pairs) == 2 and pairs[0][0] == "enabled" and pairs[1][0] == "name":
                value, name = pairs[0][1], pairs[1][1]
                if name and value in ("true", "false"):
                    grant(name, value == "true", entry.line)
                    continue
        elif extract is _add_object:
            direct = _plain_object(entry.fields, Location(path, entry.line))
            if direct is not None:
                found.object_grant(direct)
                continue
        if kind in FIELDS:
            extract(found, Read(entry.local, entry.line, fields=_fields(entry.fields)))
        else:
            extract(found, Read(entry.local, entry.line, text=entry.text))
    return found.result(spec.local, scanned.line)


_OBJECT_FIELDS = frozenset(FIELDS["objectPermissions"])


def _plain_object(pairs: tuple[tuple[str, str], ...], where: Location) -> ObjectGrant | None:
    """An object permission that names one object once and each flag once as exactly
    ``true`` or ``false`` (every one Salesforce writes) can hold no problem: its grant, made
    directly; None for any other, which the extractor reads."""
    if len(pairs) != len(_OBJECT_FIELDS) or {k for k, _ in pairs} != _OBJECT_FIELDS:
        return None
    values = dict(pairs)
    name = values.pop("object")
    if not name or any(v not in ("true", "false") for v in values.values()):
        return None
    return ObjectGrant(name, tuple(a for a in ObjectAccess if values[a.value] == "true"), where)


# Byte patterns that say a document is not UTF-8 before any declaration is read (XML 1.0,
# Appendix F.1): a byte order mark, or "<?" in a wider encoding. libxml2 decodes such a file
# but reports no encoding when it has no declaration, so the bytes are looked at here.
_SNIFF = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\x00<", "UTF-32"),
    (b"<\x00\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
    (b"\x00<\x00?", "UTF-16"),
    (b"<\x00?\x00", "UTF-16"),
    (b"\x4c\x6f\xa7\x94", "EBCDIC"),
)


def _encoding(data: bytes, declared: str | None) -> str:
    sniffed = next((name for prefix, name in _SNIFF if data.startswith(prefix)), None)
    return (sniffed or declared or "UTF-8").upper().replace("_", "-")


def _parse(
    data: bytes, path: str, roots: tuple[Root, ...], marks: Marks | None = None
) -> ParsedFile:
    """The general path: any file, read with lxml's iterparse; ``marks`` as in _Found."""
    from lxml import etree

    try:
        return _read(data, path, roots, marks or {})
    except etree.XMLSyntaxError as exc:
        encoding = _encoding(data, None)
        if encoding != "UTF-8":  # the real cause: libxml2 cannot decode it (UTF-32, EBCDIC)
            message = f"encoding is {encoding}; Salesforce metadata must be UTF-8"
            return ParsedFile("", 1, problems=(Problem(message, Location(path, 1)),))
        line = exc.lineno or 1
        msg = exc.msg or str(exc)
        if "XML_PARSE_HUGE" in msg:
            # libxml2's limits on depth and text size stay on by design (hostile input).
            msg = "nested too deeply or text too large for a metadata file"
        return ParsedFile(
            "", line, problems=(Problem(f"not well-formed XML: {msg}", Location(path, line)),)
        )
    except (ValueError, LookupError) as exc:  # e.g. an encoding lxml cannot honour
        return ParsedFile(
            "", 1, problems=(Problem(f"cannot read as XML: {exc}", Location(path, 1)),)
        )


def _read(data: bytes, path: str, roots: tuple[Root, ...], marks: Marks) -> ParsedFile:
    """Parse ``data`` incrementally: the root is judged at the first event, each element
    is read at its end and then dropped."""
    from sflint.xmlsafe import safe_iterparse

    events = safe_iterparse(io.BytesIO(data), events=("end",))
    reading: _Reading | None = None
    for _, el in events:
        if reading is None:
            start = _start(el.getroottree().getroot(), data, path, roots, marks)
            if isinstance(start, ParsedFile):
                return start
            reading = start
        reading.end(el)
    if reading is None:  # pragma: no cover - a well-formed document has a root
        return ParsedFile("", 1, problems=(Problem("no root element", Location(path, 1)),))
    return reading.result()


def _start(
    root: etree._Element, data: bytes, path: str, roots: tuple[Root, ...], marks: Marks
) -> _Reading | ParsedFile:
    """The reading of a file whose root element is ``root``, or what refuses the file."""
    from lxml import etree

    local = _local(root.tag) or ""
    spec = next((r for r in roots if r.local == local), None)
    names = {local, *(spec.reads if spec else ()), *((spec.entry,) if spec and spec.entry else ())}
    lines = _Lines(data, frozenset(names))
    line = lines.start(root, local)
    docinfo = root.getroottree().docinfo
    if docinfo.doctype:  # type: ignore[attr-defined]
        where = Location(path, data.count(b"\n", 0, max(data.find(b"<!DOCTYPE"), 0)) + 1)
        problem = Problem("a DOCTYPE is not allowed in metadata files", where)
        return ParsedFile("", line, problems=(problem,))
    namespace = etree.QName(root).namespace
    found = _Found(path, namespace, marks)
    if namespace not in (None, METADATA_NS):
        found.problem(
            f"namespace {namespace} is not the Metadata API namespace {METADATA_NS}", line
        )
    if spec is None:
        wanted = " or ".join(f"<{r.local}>" for r in roots)
        found.problem(f"unexpected root element <{local}>; expected {wanted}", line)
        return ParsedFile(local, line, problems=tuple(found.problems))
    return _Reading(root, data, local, line, spec, found, lines)


@dataclass
class _Reading:
    """One file being read, element by element as each ends (``_read``)."""

    root: etree._Element
    data: bytes
    local: str
    line: int
    spec: Root
    found: _Found
    lines: _Lines
    # The children of the grant being read, by name, as they end; and those outside the
    # grant's namespace.
    fields: dict[str, list[str]] = field(default_factory=dict)
    foreign: list[str] = field(default_factory=list)

    def field_ended(self, el: etree._Element, local: str, entry: etree._Element) -> None:
        values = self.fields.setdefault(local, [])
        if len(values) < _KEEP:
            values.append(_text(el))
        if _namespace(el.tag) != _namespace(entry.tag) and local not in self.foreign:
            self.foreign.append(local)

    def _entry(self, local: str, line: int, el: etree._Element, outside: bool) -> Read:
        fields, foreign = self.fields, tuple(self.foreign)
        self.fields, self.foreign = {}, []
        return Read(local, line, _text(el), fields, foreign, outside)

    def end(self, el: etree._Element) -> None:
        parent = el.getparent()
        if parent is None:  # the root, last
            if self.spec.entry is not None:
                read = self._entry(self.local, self.line, el, outside=False)
                EXTRACTORS[self.spec.entry](self.found, read)
            return
        local = _local(el.tag)
        if self.spec.entry is not None:
            # The root is itself the entry (a beta1 child file): its children are the fields.
            if parent is self.root and local in FIELDS[self.spec.entry]:
                self.field_ended(el, local, parent)
        elif parent is self.root:
            if local in self.spec.reads:
                # Read by local name: a grant written with xmlns="" is still a grant.
                outside = el.tag != self._tag(local)
                read = self._entry(local, self.lines.start(el, local), el, outside)
                EXTRACTORS[local](self.found, read)
        elif (
            parent.getparent() is self.root
            and (entry := _local(parent.tag)) in FIELDS
            and entry in self.spec.reads
            and local in FIELDS[entry]
        ):
            self.field_ended(el, local, parent)
        _drop(el)

    def _tag(self, local: str) -> str:
        ns = self.found.namespace
        return f"{{{ns}}}{local}" if ns else local

    def result(self) -> ParsedFile:
        found = self.found
        # libxml2 knows the declared encoding once the document is parsed.
        encoding = _encoding(self.data, self.root.getroottree().docinfo.encoding)
        if encoding not in ("UTF-8", "UTF8"):
            # Salesforce reads and writes metadata as UTF-8 only (Metadata API Developer Guide).
            message = f"encoding is {encoding}; Salesforce metadata must be UTF-8"
            found.problems.insert(0, Problem(message, Location(found.path, 1)))
        return found.result(self.local, self.line)


def _drop(el: etree._Element) -> None:
    """Free an element that has been read, and the sibling before it (lxml's documented
    iterparse idiom: an element may be changed at its end event, never its ancestors).
    Every element drops the one before it, so at most one ever remains per level."""
    el.clear(keep_tail=True)  # type: ignore[call-arg]
    previous = el.getprevious()
    if previous is not None:
        parent = el.getparent()
        if parent is not None:
            parent.remove(previous)
