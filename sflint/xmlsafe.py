"""The one lxml parser configuration sflint reads XML with.

Metadata files come from any repository, so the parser never loads a DTD, expands entities
or touches the network (``resolve_entities=False``, ``no_network=True``, ``load_dtd=False``):
entity expansion and external entities are the classic attacks on XML tools (OWASP, "XML
External Entity Prevention Cheat Sheet"), and Salesforce metadata never carries a DOCTYPE.
Huge-tree mode stays off, which keeps libxml2's limits on depth and text size.

The metadata reader and the xpath matcher drop comments and processing instructions (they
are not data); the fix engine's verification keeps them, because a fix must not change them.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from lxml import etree

__all__ = ["safe_iterparse", "safe_parser"]


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
