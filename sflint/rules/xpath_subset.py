"""The XPath 1.0 that a rule may use: expressions whose cost grows linearly with the file.

An ``xpath`` rule can come from a repository's rule folder, that is, from the pull request,
and libxml2 has no time limit: ``count(//*[count(//*[count(//*)>0])>0])`` rescans the whole
document for every element, for every element (cubic), and never finishes on a large
profile. lxml offers no way to interrupt an evaluation, so the expression is checked when
the rule loads, on its tokens (XPath 1.0 §3.7, "Lexical Structure"), and refused unless:

- inside a predicate (``[...]``, at any depth, function arguments included) every path is
  relative and steps only to children, attributes, the node itself or its parent: no ``/``
  or ``//`` at the start of a path, no ``//`` at all, no other axis. A predicate is
  evaluated once per node, so a path there that can reach the whole document makes the
  expression quadratic or worse;
- no ``following``, ``preceding``, ``following-sibling`` or ``preceding-sibling`` axis
  anywhere: from every node of a set they reach every other node (quadratic);
- at most ``MAX_SCANS`` steps that descend (``//``, ``descendant``,
  ``descendant-or-self``), at most ``MAX_NESTING`` brackets deep, at most ``MAX_LENGTH``
  characters, and no variables (nothing binds them).

What stays costs at most (number of steps) x (elements) x (depth) node visits, and libxml2
bounds depth (256 levels without huge-tree mode, which sflint never turns on).
"""

from __future__ import annotations

import re

MAX_LENGTH = 1000
MAX_NESTING = 16
MAX_SCANS = 4
# Where a predicate may step (abbreviations: "@" is attribute, "." self, ".." parent).
PREDICATE_AXES = frozenset({"child", "attribute", "self", "parent"})
QUADRATIC_AXES = frozenset({"following", "preceding", "following-sibling", "preceding-sibling"})
DESCENDING_AXES = frozenset({"descendant", "descendant-or-self"})

# One token at a time (XPath 1.0 §3.7 ExprToken); each alternative is a plain character
# class or a fixed string, so the scan is linear in the expression.
_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<literal>"[^"]*"|'[^']*')
    |(?P<number>\d+(?:\.\d*)?|\.\d+)
    |(?P<symbol>//|::|\.\.|!=|<=|>=|[/()\[\]@,|+=<>*.$-])
    |(?P<name>[^\W\d][\w.-]*(?::(?:[^\W\d][\w.-]*|\*))?)""",
    re.VERBOSE,
)
# Tokens after which "*" multiplies and a name is an operator (§3.7 disambiguation rule).
_OPERAND_END = frozenset({")", "]", ".", "..", "literal", "number", "nametest"})


class UnsafeXPath(ValueError):
    """The expression is outside the subset that evaluates in linear time."""


def check(expression: str) -> None:
    """Raise UnsafeXPath unless ``expression`` is in the subset described above."""
    if len(expression) > MAX_LENGTH:
        raise UnsafeXPath(f"longer than {MAX_LENGTH} characters")
    tokens = _tokens(expression)
    brackets: list[str] = []  # "[" and "(" still open
    scans = 0
    previous = ""  # the kind of the previous token ("" at the start)
    for i, (kind, text) in enumerate(tokens):
        following = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        in_predicate = "[" in brackets
        if text == "$":
            raise UnsafeXPath("variables ($name) are not supported")
        if text in ("[", "("):
            brackets.append(text)
            if len(brackets) > MAX_NESTING:
                raise UnsafeXPath(f"nested more than {MAX_NESTING} brackets deep")
        elif text in ("]", ")"):
            if brackets:
                brackets.pop()
        elif text in ("/", "//"):
            absolute = previous not in _OPERAND_END
            if in_predicate and (text == "//" or absolute):
                raise UnsafeXPath(
                    f"{'a path that starts with ' + text if absolute else '//'} inside a "
                    "predicate ([...]) is not supported: it scans the document once per node"
                )
            scans += text == "//"
        elif kind == "name" and following == "::":
            _check_axis(text, in_predicate)
            scans += text in DESCENDING_AXES
        if scans > MAX_SCANS:
            raise UnsafeXPath(f"more than {MAX_SCANS} steps that descend (//, descendant::)")
        previous = _kind_after(kind, text, previous, following)


def _check_axis(axis: str, in_predicate: bool) -> None:
    if axis in QUADRATIC_AXES:
        raise UnsafeXPath(f"the {axis} axis is not supported: from each node it reaches all")
    if in_predicate and axis not in PREDICATE_AXES:
        allowed = ", ".join(sorted(PREDICATE_AXES))
        raise UnsafeXPath(f"the {axis} axis inside a predicate ([...]); allowed there: {allowed}")


def _kind_after(kind: str, text: str, previous: str, following: str) -> str:
    """What the token is for the next one's disambiguation (``_OPERAND_END``)."""
    if kind in ("literal", "number"):
        return kind
    if kind == "name":
        if previous in _OPERAND_END:
            return "operator"  # and, or, mod, div
        return "nametest" if following not in ("(", "::") else "name"
    if text == "*":
        return "operator" if previous in _OPERAND_END else "nametest"
    return text


def _tokens(expression: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(expression):
        m = _TOKEN.match(expression, pos)
        if m is None:
            raise UnsafeXPath(f"cannot read the expression at character {pos + 1}")
        kind = m.lastgroup or ""
        if kind != "space":
            out.append((kind, m.group()))
        pos = m.end()
    return out
