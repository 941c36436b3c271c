"""The one lxml parser configuration sflint reads XML with.

Metadata files come from any repository, so the parser never loads a DTD, expands entities
or touches the network (``resolve_entities=False``, ``no_network=True``, ``load_dtd=False``):
entity expansion and external entities are the classic attacks on XML tools (OWASP, "XML
External Entity Prevention Cheat Sheet"), and Salesforce metadata never carries a DOCTYPE.
Huge-tree mode stays off, which keeps libxml2's limits on depth and text size.

The metadata reader and the xpath matcher drop comments and processing instructions (they
are not data); the fix engine's verification keeps them, because a fix must not change them.

``well_formed`` asks libxml2 whether a document is well-formed without building anything: a
parser whose target has no callbacks, so libxml2 runs its SAX parser with no element, text
or tree work at all (about three times faster than building the tree it would throw away).
Such a target parser makes lxml turn entity replacement on, so it is only ever given a
document that cannot declare an entity: UTF-8 (as libxml2 decodes it) with no DOCTYPE.
"""

from __future__ import annotations

import re
from typing import Any, BinaryIO

from lxml import etree

__all__ = ["safe_iterparse", "safe_parser", "well_formed"]


def _options(keep_comments: bool) -> dict[str, Any]:
    return {
        "resolve_entities": False,
        "no_network": True,
        "load_dtd": False,
        "dtd_validation": False,
        "huge_tree": False,
        "remove_comments": not keep_comments,
        "remove_pis": not keep_comments,
    }


def safe_parser(*, keep_comments: bool = False) -> etree.XMLParser:
    """A new parser on each call: no state at module level, and an lxml parser must not be
    shared between threads. With ``keep_comments``, comments and processing instructions
    stay in the tree."""
    return etree.XMLParser(**_options(keep_comments))


def safe_iterparse(source: BinaryIO, events: tuple[str, ...]) -> etree.iterparse:
    """``lxml.etree.iterparse`` with the same configuration (comments dropped), for the
    metadata reader, which reads a file element by element to keep memory bounded."""
    return etree.iterparse(source, events=events, **_options(False))


class _Nothing:
    """A parser target with no callbacks: libxml2 reports nothing back but errors."""

    def close(self) -> None:
        return None


_S = rb"[ \t\r\n]"
# The XML declaration (XML 1.0, 2.8 and 4.3.3), strictly: a declaration that is anything
# else, or names an encoding other than UTF-8, is left to the tree parser.
_DECLARATION = re.compile(
    rb"<\?xml" + _S + rb"+version" + _S + rb"*=" + _S + rb"*(?:\"1\.[0-9]+\"|'1\.[0-9]+')"
    rb"(?:" + _S + rb"+encoding" + _S + rb"*=" + _S + rb"*(?:\"(?i:utf-?8)\"|'(?i:utf-?8)'))?"
    rb"(?:"
    + _S
    + rb"+standalone"
    + _S
    + rb"*="
    + _S
    + rb"*(?:\"(?:yes|no)\"|'(?:yes|no)'))?"
    + _S
    + rb"*\?>"
)
_BLANKS = re.compile(_S + rb"*")


def _no_entities_possible(data: bytes) -> bool:
    """Whether ``data`` is UTF-8 as libxml2 would decode it and its prolog has no DOCTYPE:
    then no entity can be declared, and replacing entities means only the five predefined
    ones and character references.

    A NUL byte is never in a UTF-8 XML document, and every wider encoding (UTF-16, UTF-32)
    has one in ``<``; EBCDIC and a byte order mark other than UTF-8's do not start with
    ``<`` or a blank; a declared encoding must be UTF-8. libxml2 reads a DOCTYPE only in
    the prolog, before the root element, so the prolog is walked (comments, processing
    instructions, blanks) up to the first start tag; a ``<!`` there that is not a comment
    is a DOCTYPE or an error, either way not for this parser."""
    if b"\x00" in data:
        return False
    pos = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if data.startswith(b"<?xml", pos) and data[pos + 5 : pos + 6] in (b" ", b"\t", b"\r", b"\n"):
        declaration = _DECLARATION.match(data, pos)
        if declaration is None:
            return False
        pos = declaration.end()
    while True:
        pos = _BLANKS.match(data, pos).end()  # type: ignore[union-attr]  # matches empty
        if data.startswith(b"<!--", pos):
            end, size = data.find(b"-->", pos + 4), 3
        elif data.startswith(b"<?", pos):
            end, size = data.find(b"?>", pos + 2), 2
        else:
            return data[pos : pos + 1] == b"<" and data[pos + 1 : pos + 2] not in (b"!", b"?", b"")
        if end < 0:
            return False
        pos = end + size


# Bytes per piece fed to the push parser: a whole real file in one piece (a slice of bytes
# is a copy, and libxml2 does about 5% less work on one piece of 2.4 MB than on three),
# and a piece still far enough below libxml2's 10 MB buffer limit.
_FEED = 1 << 22


def well_formed(data: bytes) -> bool:
    """Whether libxml2 reads ``data`` as a well-formed UTF-8 document without a DOCTYPE,
    with no error and no warning, building no tree. False says only "not known to be":
    the caller then parses the document with the tree parser, which says what is wrong.

    What libxml2 checks only while building elements is not checked here: namespace
    well-formedness (an undeclared prefix) and the nesting limit of 256 elements
    (``sflint.metadata.plain`` checks both before it trusts a document)."""
    if not _no_entities_possible(data):
        return False
    # The stubs' ParserTarget lists every callback; having none is the point (lxml installs
    # only the SAX handlers a target defines).
    parser = etree.XMLParser(target=_Nothing(), **_options(False))  # type: ignore[arg-type]
    try:
        # In pieces: fed at once, libxml2's input buffer passes its 10 MB limit without
        # XML_PARSE_HUGE ("Buffer size limit exceeded"), and every file over about 10 MB was
        # left to the tree parser (a 64 MB one took 60 s instead of 15 s).
        if len(data) <= _FEED:
            parser.feed(data)
        else:
            for start in range(0, len(data), _FEED):
                parser.feed(data[start : start + _FEED])
        parser.close()
    except etree.XMLSyntaxError:
        return False
    # The feed parser's own log: ``error_log`` is another parser context's, which after a
    # feed is always empty (so a warning went unseen), and creating it cost a new libxml2
    # parser context per file.
    return len(parser.feed_error_log) == 0
