"""Standard output and standard error that never fail on the terminal's encoding.

A redirected Windows console writes cp1252, ``PYTHONIOENCODING=ascii`` and the C locale of
old Pythons write ASCII, and a file name with bytes that are not UTF-8 reaches sflint as lone
surrogates (PEP 383) that no encoding accepts. Any of them used to end a run in a
UnicodeEncodeError on the first ``→`` of a chain. So while a command runs, both streams
encode with an error handler that writes what the encoding lacks in ASCII: the typographic
characters sflint itself prints become their usual ASCII spellings (``→`` is ``->``, the tree's
``├─`` is ``|-``), anything else a ``\\uXXXX`` escape (the JSON spelling, so ``--format json``
on such a stream stays valid JSON). Files that sflint writes (``--output``, ``--sarif-file``)
are UTF-8 and never pass through here.
"""

from __future__ import annotations

import codecs
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress

HANDLER = "sflint-ascii"

# The non-ASCII characters sflint's own output uses, and their ASCII spellings; a few common
# typographic characters from names (quotes, dashes) read better this way than as escapes.
ASCII_SPELLING = {
    "→": "->",
    "←": "<-",
    "├": "|",
    "└": "`",
    "─": "-",
    "…": "...",
    "✅": "[ok]",
    "·": "-",
    "§": "S",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "–": "-",
    "—": "-",
    "\u00a0": " ",
}


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:  # a BMP character, or a lone surrogate from a non-UTF-8 file name
        return f"\\u{code:04x}"
    # Outside the BMP: a UTF-16 surrogate pair, as JSON spells it (RFC 8259, section 7).
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


# Lone surrogates: the bytes of a file name that is not UTF-8, as Python decodes them (PEP 383).
_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate spelt ``\\udcXX``: what a UTF-8 file can hold. A
    report or config naming such a file is written, instead of failing half-way through."""
    # Encoding is a C loop that stops at the first surrogate; a report of 300 KB with none
    # (nearly every one) is encoded in a third to a fiftieth of the time a search takes.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub(lambda m: _escape(m.group()), text)
    return text


def ascii_fallback(exc: UnicodeError) -> tuple[str, int]:
    """A codecs error handler (PEP 293): the ASCII spelling of what could not be encoded."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start : exc.end]
    return "".join(ASCII_SPELLING.get(c) or _escape(c) for c in text), exc.end


@contextmanager
def tolerant_streams() -> Iterator[None]:
    """``sys.stdout`` and ``sys.stderr`` with ``ascii_fallback`` for the duration; their own
    error handlers are restored afterwards (``main`` may be called in-process, by tests)."""
    # codecs has one process-wide registry of handlers, and a text stream can only name a
    # handler registered there; registering the same function under the same name again is
    # a no-op in effect.
    codecs.register_error(HANDLER, ascii_fallback)
    changed: list[tuple[object, str]] = []
    for stream in (sys.stdout, sys.stderr):
        errors = getattr(stream, "errors", None)
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None or not isinstance(errors, str) or errors == HANDLER:
            continue  # not a TextIOWrapper (None under pythonw, a StringIO), or done already
        try:
            reconfigure(errors=HANDLER)
        except (OSError, ValueError):  # closed or detached: nothing to protect
            continue
        changed.append((stream, errors))
    try:
        yield
    finally:
        for stream, errors in reversed(changed):
            with suppress(OSError, ValueError):
                stream.reconfigure(errors=errors)  # type: ignore[attr-defined]
