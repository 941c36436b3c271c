"""One project's check: the loaded project's rules evaluated, the accepted findings split
off (``waivers``), those a revision already had left out (``--new-since``), and the rest
kept to what the user asked about. Pure: no I/O (``pipeline.load`` reads, ``batch``
writes)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

from sflint.model import Finding, Notice, Waiver
from sflint.pipeline import Loaded
from sflint.settings import FailOn, Under

if TYPE_CHECKING:
    from sflint.baseline import Baseline
    from sflint.metadata.memo import Hit


# NamedTuples, not dataclasses: frozen all the same, and created in a fifth of the time
# (a dataclass compiles six methods when its class is created, on every run).
class Checked(NamedTuple):
    """The result of a check before it is rendered."""

    loaded: Loaded
    findings: tuple[Finding, ...]
    suppressed: tuple[Finding, ...] = ()  # each with its waiver
    notices: tuple[Notice, ...] = ()
    # With --new-since: the findings left out because the revision has them too.
    preexisting: int = 0
    # Detected personas left unchecked by --min-confidence, for the summary to count.
    unchecked: int = 0
    # Every finding the rules gave, before anything was left out, and the targets they
    # were evaluated for (None: the whole project): what the memo of the run holds.
    evaluated: tuple[Finding, ...] = ()
    scope: tuple[str, ...] | None = None

    @property
    def exit_code(self) -> int:
        """1 when a finding is at or above the project's ``fail_on``, else 0."""
        return exit_code(self.findings, self.loaded.settings.fail_on)


class Triage(NamedTuple):
    """How a check treats accepted findings: ``ignores`` false (``--no-ignores``) reports
    every finding, whatever accepted it; ``baseline`` is the project's baseline file, read;
    ``previous`` the findings of the ``--new-since`` revision as (fingerprint, path,
    copies)."""

    ignores: bool = True
    baseline: Baseline | None = None
    previous: Sequence[tuple[str, str, int]] | None = None
    today: date | None = None  # for exceptions' expiry; None: the system's date


def evaluate_all(
    loaded: Loaded, wanted: Callable[[Iterable[str]], bool] | None = None
) -> list[Finding]:
    """Every finding of the project, in order, before anything is left out; with
    ``wanted``, at least every one located in or related to a path it accepts (the engine
    skips the subjects none of whose findings it would accept).

    A finding another finding on the same element already says is folded into it (SFL005
    into SFL001): one finding per element and cause, here, so that a baseline, an exception,
    a comment and ``--new-since`` all see the finding as shown, and a run on named files
    reads the same as the whole run."""
    from sflint.engine import evaluate, fold

    if loaded.catalogue is None or loaded.index is None:  # pragma: no cover - a memo's load
        raise RuntimeError("a load whose findings come from the memo cannot be evaluated")
    # Personas below --min-confidence are not checked at all (not checked and then hidden):
    # their components then count as no persona's, so file rules such as SFL002 still see
    # a TwoFactorApi there.
    found = evaluate(
        loaded.rules,
        loaded.components,
        loaded.checked_accesses,
        loaded.catalogue,
        loaded.sources,
        loaded.index,
        wanted,
    )
    return list(fold(found, loaded.rules))


def _wanted(loaded: Loaded, triage: Triage) -> Callable[[Iterable[str]], bool] | None:
    """What a run on named files evaluates: the subjects whose findings it can report
    (``Under`` the targets), unless exceptions, a baseline or ``--new-since`` are judged
    against the whole project's findings (then None: everything)."""
    targets = loaded.settings.targets
    whole = bool(triage.ignores and (loaded.settings.config.exceptions or triage.baseline))
    whole = whole or triage.previous is not None
    if loaded.focused and (targets is None or whole):
        # Light components (pipeline.load with focus) must never be evaluated: the caller
        # asked for focus where it judges findings against the whole project.
        raise RuntimeError("a focused load cannot give the whole project's findings")
    if targets is None or whole:
        return None
    return Under(_whole_components(targets, loaded))


def check(loaded: Loaded, triage: Triage | None = None) -> Checked:
    from sflint.waivers import waive

    triage = triage or Triage()
    # A stale memo's load gives the whole project's findings, whatever the targets.
    wanted = None if loaded.stale is not None else _wanted(loaded, triage)
    scope = None if wanted is None else loaded.settings.targets
    if loaded.memo is not None:
        if loaded.memo.scope not in (None, scope):  # pragma: no cover - load matches them
            raise RuntimeError("the memo was made for other targets")
        findings = list(loaded.memo.findings)
    elif loaded.stale is not None:
        findings = _again(loaded, loaded.stale)
    else:
        findings = evaluate_all(loaded, wanted)
    # Exceptions and baseline entries are judged against the whole project, so that one
    # that matches nothing is found on a pre-commit run of a few files too.
    waivers: Sequence[Waiver | None] = [None] * len(findings)
    notices: tuple[Notice, ...] = ()
    if triage.ignores:
        marks = [s for c in loaded.components for s in c.suppressions]
        exceptions = loaded.settings.config.exceptions
        today = triage.today or date.today()
        waived = waive(findings, marks, exceptions, triage.baseline, today)
        waivers, notices = waived.waivers, waived.notices
    new = [True] * len(findings)
    if triage.previous is not None:
        from sflint.baseline import match

        known = list(triage.previous)
        new = [hit is None for hit in match(findings, known)]
    rows = list(zip(findings, waivers, new, strict=True))
    kept = tuple(f for f, w, n in rows if w is None and n)
    suppressed = tuple(f._replace(waiver=w) for f, w, n in rows if w is not None and n)
    preexisting = sum(1 for _, w, n in rows if w is None and not n)
    targets = loaded.settings.targets
    if targets is not None:
        targets = _whole_components(targets, loaded)
        kept = tuple(f for f in kept if _in_targets(f, targets))
        suppressed = tuple(f for f in suppressed if _in_targets(f, targets))
    if loaded.memo is not None:
        unchecked = loaded.memo.unchecked
    else:
        checked = {a.persona.name for a in loaded.checked_accesses}
        unchecked = len({a.persona.name for a in loaded.accesses} - checked)
    return Checked(
        loaded, kept, suppressed, notices, preexisting, unchecked, tuple(findings), scope
    )


def _again(loaded: Loaded, stale: Hit) -> list[Finding]:
    """The whole project's findings from a stale memo: the components with a changed file
    and the personas built from one are evaluated again, and replace what the memo said of
    them; every other subject's findings are the memo's (its context is unchanged:
    ``pipeline._load_components``)."""
    from sflint.metadata.memo import merged

    wanted = Under(_whole_components(stale.changed, loaded))
    fresh = evaluate_all(loaded, wanted)
    paths = frozenset(p for c in loaded.components if wanted(c.files) for p in c.files)
    personas = frozenset(a.persona.name for a in loaded.checked_accesses if wanted(a.paths))
    # A rule that another folds (SFL005 into SFL001) was evaluated again on every component
    # of those personas (engine.evaluate): its findings there are the fresh ones.
    folded = {f.rule for r in loaded.rules for f in r.folds}
    near = {
        p
        for a in loaded.checked_accesses
        if a.persona.name in personas
        for c in a.components
        for p in c.files
    }
    old = [
        f for f in stale.findings if not (f.rule in folded and f.persona is None and f.path in near)
    ]
    return merged(old, fresh, paths, personas)


def _whole_components(targets: tuple[str, ...], loaded: Loaded) -> tuple[str, ...]:
    """The targets and every file of a component one of them belongs to: a decomposed set
    is one component, so a change to its main file (its license, say) reports what its
    child files grant."""
    named = set(targets)
    more = [p for c in loaded.components if named.intersection(c.files) for p in c.files]
    return tuple(dict.fromkeys((*targets, *more)))


def _in_targets(f: Finding, targets: tuple[str, ...]) -> bool:
    return Under(targets)((f.path, *f.related_paths))


def exit_code(findings: tuple[Finding, ...], fail_on: FailOn) -> int:
    threshold = fail_on.threshold
    if threshold is None:
        return 0
    return 1 if any(f.severity.rank >= threshold.rank for f in findings) else 0
