"""Which findings are accepted, by what and why: pure, values in and out.

Three ways to accept a finding, applied in this order, the first that covers a finding
wins: a ``<!-- sflint: ignore ... -->`` comment in the file, an entry of ``exceptions:`` in
``.sflint.yml``, an entry of the baseline file. Each suppressed finding keeps a ``Waiver``
with the reason, shown in every output (in SARIF as ``suppressions``).

What is wrong with the triage itself is a ``Notice`` (never a failure): an exception past
its ``expires`` date (it stops applying, so its findings count again), an exception that
matches no finding, a baseline entry that matches no finding (the debt is paid: remove it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

from sflint.config import ExceptionEntry
from sflint.model import Finding, Location, Notice, Suppression, Waiver, WaiverKind

if TYPE_CHECKING:
    from sflint.baseline import Baseline


class Waived(NamedTuple):
    """What ``waive`` decided (a NamedTuple: created at every run's import, in a fifth of a
    dataclass's time)."""

    waivers: tuple[Waiver | None, ...]  # for each finding, in order: None, it is kept
    notices: tuple[Notice, ...]


def waive(
    findings: Sequence[Finding],
    comments: Sequence[Suppression],
    exceptions: Sequence[ExceptionEntry],
    baseline: Baseline | None,
    today: date,
) -> Waived:
    """What accepts each of ``findings`` (every finding of the project, in order), and what
    in the exceptions and the baseline applies to nothing."""
    comment = _comments(comments)
    waivers: list[Waiver | None] = [comment(f) for f in findings]
    notices = _apply_exceptions(findings, waivers, exceptions, today)
    if baseline is not None:
        open_ = [i for i, w in enumerate(waivers) if w is None]
        from sflint.baseline import account

        known = [(e.fingerprint, e.path, e.count) for e in baseline.entries]
        found, used = account([findings[i] for i in open_], known)
        for i, (entry_index, taken) in zip(open_, found, strict=True):
            # A finding whose file repeats its grant is accepted only if every copy is.
            if entry_index is None or taken < findings[i].occurrences:
                continue
            entry = baseline.entries[entry_index]
            waivers[i] = Waiver(WaiverKind.BASELINE, "in the baseline", entry.location)
        for entry, n in zip(baseline.entries, used, strict=True):
            if n < entry.count:
                notices.append(_stale(entry.subject, entry.count, n, entry.location))
    return Waived(tuple(waivers), tuple(notices))


def _comments(comments: Sequence[Suppression]) -> Callable[[Finding], Waiver | None]:
    """The waiver of the first of ``comments`` that covers a finding, looked up by place:
    a file with 20,000 comments and as many findings took minutes comparing each with each."""
    by_place: dict[tuple[str, int], list[int]] = {}
    whole: dict[str, list[int]] = {}
    for i, s in enumerate(comments):
        if s.whole_file:
            whole.setdefault(s.location.path, []).append(i)
        else:
            by_place.setdefault((s.location.path, s.location.line), []).append(i)

    def waiver(finding: Finding) -> Waiver | None:
        near = by_place.get((finding.path, finding.line), []) + whole.get(finding.path, [])
        for i in sorted(near):
            s = comments[i]
            if s.covers(finding):
                reason = s.reason or "suppressed by a comment (no reason given)"
                return Waiver(WaiverKind.COMMENT, reason, s.location)
        return None

    return waiver


def _apply_exceptions(
    findings: Sequence[Finding],
    waivers: list[Waiver | None],
    exceptions: Sequence[ExceptionEntry],
    today: date,
) -> list[Notice]:
    """Set the waiver of each finding an exception in force covers; the notices about
    expired exceptions and exceptions that cover nothing. Looked up by component, so the
    cost is the findings plus the exceptions, not their product."""
    by_component: dict[str, list[int]] = {}
    for i, e in enumerate(exceptions):
        by_component.setdefault(e.component, []).append(i)
    hits = [0] * len(exceptions)
    for n, f in enumerate(findings):
        for i in by_component.get(f.component_name, ()):
            e = exceptions[i]
            if not _covers(e, f):
                continue
            hits[i] += 1
            if waivers[n] is None and not _expired(e, today):
                waivers[n] = Waiver(
                    WaiverKind.EXCEPTION,
                    e.reason,
                    e.location,
                    e.owner,
                    e.expires.isoformat() if e.expires else None,
                )
    notices = []
    for e, n in zip(exceptions, hits, strict=True):
        if _expired(e, today) and e.expires is not None:
            owner = f" (owner {e.owner})" if e.owner else ""
            again = ""
            if n:
                again = "; its finding counts" if n == 1 else f"; its {n} findings count"
                again += " again"
            notices.append(
                Notice(
                    f"exception for {e.subject} expired on {e.expires.isoformat()}{owner}:"
                    f" it no longer applies{again}",
                    e.location,
                )
            )
        elif n == 0:
            notices.append(
                Notice(
                    f"exception for {e.subject} matches no finding: remove it, or correct its"
                    " rule, component, permission or persona",
                    e.location,
                )
            )
    return notices


def _covers(e: ExceptionEntry, f: Finding) -> bool:
    return (
        e.component == f.component_name
        and e.rule in (f.rule, f.name)
        and (e.permission is None or e.permission == f.key)
        and (e.persona is None or e.persona == f.persona)
    )


def _expired(e: ExceptionEntry, today: date) -> bool:
    # ``expires`` is the last day the exception applies.
    return e.expires is not None and today > e.expires


def _stale(subject: str, count: int, used: int, where: Location) -> Notice:
    if used == 0:
        text = f"baseline entry for {subject} matches no finding"
    else:
        text = f"baseline entry for {subject} counts {count} findings; {used} remain"
    return Notice(f"{text}: run sflint baseline to update the file", where)
