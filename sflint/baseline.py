"""The baseline file: findings a team accepted when it adopted sflint, by fingerprint.

``sflint baseline`` writes it; ``check`` then reports only findings it does not hold and
lists its entries that match nothing any more, so the file shrinks as the debt is paid.

JSON, not YAML: the file is written by sflint and reviewed as a diff, so it needs no
comments, and JSON is read by the standard library in milliseconds (YAML with lines took
1.7 s for 5,000 entries, on every pre-commit run) with no YAML 1.1 surprises in names such
as ``on`` or ``True``. One entry per line, sorted by path, rule and component, with no
version or date in the file: a paid-off finding is one deleted line, a new one one added
line, and upgrading sflint changes nothing.

The file comes with the pull request, so it is read as hostile input: through the
file-access policy (a regular file inside the project, at most ``MAX_BYTES``), strict JSON
without duplicate keys, every entry checked for its exact shape, and every fingerprint
checked against the entry's own rule, component, permission and persona, so that a line
that reads "SFL014 on Old_Set" cannot hide a TwoFactorApi finding behind someone else's
fingerprint. A problem is ``file:line: message`` and exit 2.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sflint.errors import UsageError
from sflint.model import Finding, Location, fingerprint

SCHEMA_ID = "sflint/baseline/v1"
DEFAULT_NAME = ".sflint-baseline.json"
# About 60,000 entries: far past any backlog a team reviews, and read in well under a second.
MAX_BYTES = 16 * 1024 * 1024

_FINGERPRINT = re.compile(r"[0-9a-f]{32}")
_FIELDS = ("fingerprint", "rule", "component", "permission", "persona", "path", "count")


@dataclass(frozen=True)
class Entry:
    """One accepted finding (``count`` identical ones), as the file states it."""

    fingerprint: str
    rule: str
    component_type: str
    component: str
    permission: str
    persona: str | None
    path: str
    count: int
    location: Location  # the entry's line in the baseline file

    @property
    def subject(self) -> str:
        extra = ", ".join(x for x in (self.permission, self.persona) if x)
        return f"{self.rule} on {self.component}" + (f" ({extra})" if extra else "")


@dataclass(frozen=True)
class Baseline:
    path: str  # as shown in messages
    entries: tuple[Entry, ...]


# --- matching ---------------------------------------------------------------------------------


def match(findings: Sequence[Finding], known: Sequence[tuple[str, str, int]]) -> list[int | None]:
    """For each finding, the index in ``known`` (fingerprint, path, count) that accounts
    for it, or None: it is new (``account`` says more)."""
    return [
        at if taken == f.occurrences else None
        for f, (at, taken) in zip(findings, account(findings, known)[0], strict=True)
    ]


def account(
    findings: Sequence[Finding], known: Sequence[tuple[str, str, int]]
) -> tuple[list[tuple[int | None, int]], list[int]]:
    """For each finding, the first index in ``known`` (fingerprint, path, count) that
    accounts for it and how many of its copies are accounted for; and for each entry, how
    many copies it accounts for.

    Count-aware, as the baseline threads of ruff and phpmd ask: an entry of count N accounts
    for at most N copies, so a second copy of an accepted grant (one finding, its
    ``occurrences`` one more) is new, and an updated baseline never hides one. An entry is
    used first by findings in its own file, then by findings with its fingerprint anywhere
    (the file moved); ``findings`` in their order (path, line) decide which of two identical
    ones in a file is new: the later one.
    """
    left = [count for _, _, count in known]
    by_place: dict[tuple[str, str], list[int]] = {}
    by_print: dict[str, list[int]] = {}
    for i, (fp, path, _) in enumerate(known):
        by_place.setdefault((fp, path), []).append(i)
        by_print.setdefault(fp, []).append(i)
    out: list[tuple[int | None, int]] = [(None, 0)] * len(findings)

    def take(
        candidates: list[int] | None, want: int, found: tuple[int | None, int]
    ) -> tuple[int | None, int]:
        at, taken = found
        while candidates and taken < want:
            i = candidates[0]
            n = min(left[i], want - taken)
            left[i] -= n
            taken += n
            at = i if at is None and n else at
            if not left[i]:
                candidates.pop(0)  # used up: never looked at again (linear overall)
        return at, taken

    # What is counted is each finding's units (``Finding.units``): the finding, or each
    # element of an aggregated one, so that an entry for one element never accepts another.
    units = [(i, unit) for i, f in enumerate(findings) for unit in f.units]
    got = [0] * len(units)
    for n, (i, (fp, path, want)) in enumerate(units):
        at, got[n] = take(by_place.get((fp, path)), want, (None, 0))
        out[i] = (out[i][0] if out[i][0] is not None else at, out[i][1] + got[n])
    for n, (i, (fp, _, want)) in enumerate(units):
        if got[n] < want:
            at, more = take(by_print.get(fp), want - got[n], (None, 0))
            out[i] = (out[i][0] if out[i][0] is not None else at, out[i][1] + more)
    used = [count - n for (_, _, count), n in zip(known, left, strict=True)]
    return out, used


# --- writing ----------------------------------------------------------------------------------


def render(findings: Iterable[Finding]) -> str:
    """The baseline file for ``findings``: one entry per line, sorted, identical findings
    counted in one entry."""
    counts: dict[tuple[str, ...], int] = {}
    shown: dict[tuple[str, ...], dict[str, Any]] = {}
    for f in findings:
        # An aggregated finding is one entry per element (what ``account`` counts): each is
        # accepted, and paid off, on its own.
        keys = [i.key for i in f.items] if f.items else [f.key]
        for permission, (fp, path, copies) in zip(keys, f.units, strict=True):
            entry: dict[str, Any] = {
                "fingerprint": fp,
                "rule": f.rule,
                "component": {"type": f.type_name, "name": f.component_name},
                "permission": permission,
                "persona": f.persona,
                "path": path,
            }
            order = (path, f.rule, f.type_name, f.component_name, permission, f.persona or "")
            key: tuple[str, ...] = (*order, fp)
            # Each copy of a grant its file repeats counts (one finding, ``occurrences``).
            counts[key] = counts.get(key, 0) + copies
            shown[key] = entry
    lines = []
    for place in sorted(shown):
        entry = shown[place]
        if counts[place] > 1:
            entry["count"] = counts[place]
        lines.append(json.dumps(entry, ensure_ascii=False))
    body = ",\n    ".join(lines)
    findings_text = f"[\n    {body}\n  ]" if lines else "[]"
    return f'{{\n  "schema": "{SCHEMA_ID}",\n  "findings": {findings_text}\n}}\n'


# --- reading ----------------------------------------------------------------------------------


def read(file: Path, display: str, root: Path | None) -> Baseline:
    """The baseline in ``file`` (``root``: the project, when the file comes with it)."""
    from sflint.safeio import Refused, read_bytes

    try:
        raw = read_bytes(file, root, MAX_BYTES)
    except Refused as exc:
        raise UsageError(f"not read: it {exc.reason}", display) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"not UTF-8: {exc.reason} at byte {exc.start}", display) from None
    return parse(text, display)


def parse(text: str, display: str) -> Baseline:
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise UsageError(f"invalid JSON: {exc.msg}", display, exc.lineno) from None
    except _Duplicate as exc:
        line = _line_of_key(text, exc.key)
        raise UsageError(f"duplicate key {exc.key!r}", display, line) from None
    except RecursionError:
        raise UsageError("invalid JSON: nested too deeply", display) from None
    lines = _Lines(text)

    def fail(message: str, index: int | None = None) -> UsageError:
        return UsageError(message, display, 1 if index is None else lines.entry(index))

    if not isinstance(data, dict):
        raise fail(f"expected an object with schema {SCHEMA_ID!r} and findings")
    for key in data:
        if key not in ("schema", "findings"):
            raise UsageError(f"unknown key {key!r}", display, _line_of_key(text, key))
    if data.get("schema") != SCHEMA_ID:
        raise fail(f"schema must be {SCHEMA_ID!r} (a baseline written by sflint baseline)")
    items = data.get("findings")
    if not isinstance(items, list):
        raise fail("findings must be a list")
    entries = []
    seen: dict[tuple[str, str], int] = {}
    for i, item in enumerate(items):
        entry = _entry(item, i, display, lines, fail)
        place = (entry.fingerprint, entry.path)
        if place in seen:
            raise fail(
                f"findings.{i}: the same finding as the entry at line {seen[place]}; write"
                " one entry with a count (sflint baseline does)",
                i,
            )
        seen[place] = entry.location.line
        entries.append(entry)
    return Baseline(display, tuple(entries))


def _entry(item: object, i: int, display: str, lines: _Lines, fail: Any) -> Entry:
    """One entry, its exact shape checked, its fingerprint checked against its fields."""
    where = f"findings.{i}"
    if not isinstance(item, dict):
        raise fail(f"{where}: expected an object", i)
    unknown = [k for k in item if k not in _FIELDS]
    if unknown:
        raise fail(f"{where}: unknown key {unknown[0]!r}", i)
    for key in ("fingerprint", "rule", "permission", "path"):
        if not isinstance(item.get(key), str):
            raise fail(f"{where}.{key}: expected a string", i)
    component = item.get("component")
    if (
        not isinstance(component, dict)
        or set(component) != {"type", "name"}
        or not all(isinstance(v, str) for v in component.values())
    ):
        raise fail(f'{where}.component: expected {{"type": ..., "name": ...}}', i)
    persona = item.get("persona")
    if persona is not None and not isinstance(persona, str):
        raise fail(f"{where}.persona: expected a string or null", i)
    count = item.get("count", 1)
    if type(count) is not int or count < 1 or count > 1_000_000:
        raise fail(f"{where}.count: expected a whole number from 1 to 1,000,000", i)
    if not _FINGERPRINT.fullmatch(item["fingerprint"]):
        raise fail(f"{where}.fingerprint: expected 32 lower-case hexadecimal digits", i)
    expected = fingerprint(
        item["rule"], component["type"], component["name"], item["permission"], persona
    )
    if item["fingerprint"] != expected:
        raise fail(
            f"{where}: the fingerprint is not that of its rule, component, permission and"
            " persona; regenerate the file with sflint baseline",
            i,
        )
    return Entry(
        fingerprint=item["fingerprint"],
        rule=item["rule"],
        component_type=component["type"],
        component=component["name"],
        permission=item["permission"],
        persona=persona,
        path=item["path"],
        count=count,
        location=Location(display, lines.entry(i)),
    )


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    # NaN and Infinity are not JSON (RFC 8259 §6); Python's reader accepts them by default.
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def _line_of_key(text: str, key: str) -> int:
    at = text.find(json.dumps(key, ensure_ascii=False) + ":")
    at = at if at >= 0 else text.find(json.dumps(key))
    return text.count("\n", 0, max(at, 0)) + 1


# JSON tokens: a string, a structural character, a newline, or a run of anything else (a
# number, true, false, null; blanks are skipped by the pattern's alternatives failing).
_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{}\[\],:]|\n|[^\s"{}\[\],:]+')


class _Lines:
    """The line where each element of the top-level ``findings`` array starts, found by one
    pass over the tokens of text that ``json.loads`` accepted, only when a line is needed
    (an error, an entry that matches nothing): most runs never pay for it."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts: list[int] | None = None

    def entry(self, index: int) -> int:
        if self._starts is None:
            self._starts = _element_lines(self._text, "findings")
        return self._starts[index] if index < len(self._starts) else 1


def _element_lines(text: str, name: str) -> list[int]:
    line, depth, key, last = 1, 0, None, None
    inside = False  # in the top-level object's array ``name``
    expecting = False
    out: list[int] = []
    for m in _TOKEN.finditer(text):
        token = m.group()
        if token == "\n":
            line += 1
            continue
        if inside and depth == 2 and expecting and token not in ",]":
            out.append(line)
            expecting = False
        if token in "{[":
            if depth == 1 and token == "[" and key == name:
                inside, expecting = True, True
            depth += 1
        elif token in "}]":
            depth -= 1
            if depth == 1:
                inside = False
        elif token == ",":
            expecting = inside and depth == 2
        elif token == ":" and depth == 1 and last is not None:
            key = json.loads(last)
        last = token if token.startswith('"') else None
    return out
