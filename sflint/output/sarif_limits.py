"""Which findings a SARIF file carries, so that GitHub code scanning accepts and shows it.

GitHub Docs, "SARIF support for code scanning", *Validating your SARIF file*: "For each
gzip-compressed SARIF file, SARIF upload supports a maximum size of 10 MB. Any uploads over
this limit will be rejected." Its table of maximum values: 20 runs per file; 25,000 results
per run, of which "Only the top 5,000 results will be included, prioritized by severity";
25,000 rules per run; 1,000 locations per result (100 shown); 20 tags per rule (10 shown).
"If any of these objects exceeds its maximum value the SARIF file is rejected."

A hostile pull request can produce any number of findings (200,000 unknown permission names
made a 203 MB SARIF), so the SARIF keeps a bounded selection: at most ``MAX_PER_RULE_AND_FILE``
findings of one rule in one file, at most ``MAX_RESULTS`` results in all, and at most
``MAX_BYTES`` bytes, the most severe first. Every finding left out is counted in a summary
result (``LeftOut``) that GitHub shows like any other alert, pointing at where the findings
are and saying how many. The console and JSON outputs keep every finding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sflint.model import Finding, Severity

# GitHub shows the top 5,000 results of a run and rejects more than 25,000: 5,000 results,
# summaries included, are all shown.
MAX_RESULTS = 5_000
# More than 100 findings of one rule in one file is a generated or hostile file; 100 alerts
# on one file are already more than a reviewer reads, and 50 such files still fit the run.
MAX_PER_RULE_AND_FILE = 100
# The upload limit is 10 MB *compressed*; the SARIF is kept under 9,000,000 bytes
# *uncompressed*, which bounds the compressed size whatever the text (deflate adds at most 5
# bytes per 65,535-byte stored block, gzip 18 bytes of header and trailer), in either reading
# of "MB".
MAX_BYTES = 9_000_000
# GitHub's maximum of tags per rule; a rule's tags beyond it are left out of the SARIF.
MAX_TAGS = 20


@dataclass(frozen=True)
class LeftOut:
    """A summary result: ``count`` findings of ``rule`` are not in the SARIF.

    ``in_file``: they are in ``path`` (the per-rule-and-file cap); otherwise they are
    anywhere in the run (the run's caps), and ``path``/``line`` is where the first one is.
    """

    rule: str
    name: str
    severity: Severity
    path: str
    line: int
    count: int
    in_file: bool

    @property
    def message(self) -> str:
        findings = "1 more finding" if self.count == 1 else f"{self.count:,} more findings"
        were = "was" if self.count == 1 else "were"
        if self.in_file:
            where = "in this file "
            why = f"it keeps at most {MAX_PER_RULE_AND_FILE} per rule and file"
        else:
            where = ""
            why = (
                f"it keeps at most {MAX_RESULTS:,} results and {MAX_BYTES:,} bytes, "
                "the most severe first"
            )
        return (
            f"{findings} of {self.rule} ({self.name}) {where}{were} left out of the SARIF: "
            f"{why}. Run sflint locally, or use --format json, to see all of them."
        )

    @property
    def fingerprint(self) -> str:
        """Stable across runs as the count changes, so the summary stays one alert."""
        scope = self.path if self.in_file else ""
        ident = "\x1f".join(("left-out", self.rule, scope))
        return hashlib.sha256(ident.encode("utf-8", "surrogateescape")).hexdigest()[:32]


Entry = Finding | LeftOut


@dataclass(frozen=True)
class Selection:
    findings: tuple[Finding, ...]  # kept, in the findings' order (path, line, rule)
    left_out: tuple[LeftOut, ...]  # per-file summaries by (path, rule), then the run's by rule


def select(
    findings: Sequence[Finding],
    size: Callable[[Entry], int],
    budget: int,
    security: Mapping[str, float] | None = None,
    *,
    max_results: int = MAX_RESULTS,
    per_file: int = MAX_PER_RULE_AND_FILE,
) -> Selection:
    """The findings that fit, and summaries that count every one left out.

    ``size`` is an entry's serialized size in bytes, ``budget`` what all results together may
    take; ``security`` each rule's security severity, which ranks results of one level the
    way GitHub does. Every finding is either kept or counted in exactly one summary; the
    result count, summaries included, is at most ``max_results``.
    """
    rank = _Rank(security or {})
    candidates = _capped_per_file(findings, per_file, rank)
    candidates.sort(key=rank.key)
    # The largest n such that the first n candidates plus one summary per rule among the
    # rest fit max_results: n + rules(rest) grows with n, so one backward pass finds it.
    distinct_after = [0] * (len(candidates) + 1)
    seen: set[str] = set()
    for i in range(len(candidates) - 1, -1, -1):
        seen.add(candidates[i].rule)
        distinct_after[i] = len(seen)
    n = min(len(candidates), max_results)
    while n > 0 and n + distinct_after[n] > max_results:
        n -= 1
    prefix = [0]
    for entry in candidates[:n]:
        if prefix[-1] > budget:  # no more can fit: the rest need not be sized (or written)
            break
        prefix.append(prefix[-1] + size(entry))
    n = len(prefix) - 1

    def fits(k: int) -> bool:
        return prefix[k] + sum(size(s) for s in _run_summaries(candidates[k:])) <= budget

    if not fits(n):  # the bytes bind before the count does: the largest k that fits
        low, high = 0, n
        while low < high:
            mid = (low + high + 1) // 2
            low, high = (mid, high) if fits(mid) else (low, mid - 1)
        n = low
    kept = candidates[:n]
    return Selection(
        findings=tuple(sorted((e for e in kept if isinstance(e, Finding)), key=_finding_order)),
        left_out=tuple(sorted((e for e in kept if isinstance(e, LeftOut)), key=_file_order))
        + _run_summaries(candidates[n:]),
    )


@dataclass(frozen=True)
class _Rank:
    security: Mapping[str, float]

    def key(self, entry: Entry) -> tuple[int, float, str, int, str, int]:
        # Most severe first, as GitHub prioritises; then the findings' own order, a file's
        # summary right after the last of its findings that was kept.
        summary = isinstance(entry, LeftOut)
        return (
            -entry.severity.rank,
            -self.security.get(entry.rule, 0.0),
            entry.path,
            entry.line,
            entry.rule,
            int(summary),
        )


def _finding_order(f: Finding) -> tuple[str, int, str, str, str]:
    return f.sort_key


def _file_order(s: LeftOut) -> tuple[str, str]:
    return (s.path, s.rule)


def _capped_per_file(findings: Iterable[Finding], per_file: int, rank: _Rank) -> list[Entry]:
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.rule, f.path), []).append(f)
    out: list[Entry] = []
    for (rule, path), group in groups.items():
        if len(group) <= per_file:
            out += group
            continue
        group.sort(key=lambda f: (rank.key(f), f.sort_key))
        out += group[:per_file]
        rest = group[per_file:]
        first = min(rest, key=_finding_order)
        severity = max((f.severity for f in rest), key=lambda s: s.rank)
        out.append(LeftOut(rule, first.name, severity, path, first.line, len(rest), True))
    return out


def _run_summaries(rest: Sequence[Entry]) -> tuple[LeftOut, ...]:
    """One summary per rule for the candidates that did not fit, at the first of them."""
    by_rule: dict[str, list[Entry]] = {}
    for entry in rest:
        by_rule.setdefault(entry.rule, []).append(entry)
    out = []
    for rule in sorted(by_rule):
        entries = by_rule[rule]
        first = min(entries, key=lambda e: (e.path, e.line))
        count = sum(e.count if isinstance(e, LeftOut) else 1 for e in entries)
        severity = max((e.severity for e in entries), key=lambda s: s.rank)
        out.append(LeftOut(rule, first.name, severity, first.path, first.line, count, False))
    return tuple(out)
