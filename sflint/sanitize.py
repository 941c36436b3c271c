"""The one output sanitiser: text that came from the scanned repository, made inert.

File names, component labels, persona names and permission names are chosen by whoever wrote
the pull request. Printed raw, a carriage return rewrites what a reviewer sees on the line, an
ESC sequence drives their terminal (OSC 8 links, window titles, colours), a newline starts a
line of its own in a CI log (where a line beginning ``::`` is a GitHub workflow command:
"Workflow commands for GitHub Actions"), and the bidirectional controls of Unicode reorder
what is displayed (CVE-2021-42574, "Trojan Source"). Every such character is shown as a
visible escape instead (``\\n``, ``\\x1b``, ``\\u202e``): the text stays readable and exact,
and nothing in it is interpreted.
"""

from __future__ import annotations

import re

# C0 controls and DEL, C1 controls, the line and paragraph separators, and the Unicode
# bidirectional formatting characters (Unicode Standard Annex #9, "Explicit Directional
# Formatting Characters": U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str) -> str:
    """``text`` with every control, line-breaking and bidi character shown as an escape."""
    if _UNSAFE.search(text) is None:  # the common case costs one scan
        return text
    return _UNSAFE.sub(_escape, text)


def line_start(text: str) -> str:
    """``inert`` text that is safe at the start of a log line: a line that starts with
    ``::`` (after blanks) is read by the GitHub Actions runner as a workflow command, so such
    a name is shown as ``./::...``, which names the same file."""
    text = inert(text)
    return f"./{text}" if text.lstrip(" ").startswith("::") else text
