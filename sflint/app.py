"""One project's check: the loaded project's rules evaluated, kept to what the user asked
about, suppressions applied. Pure: no I/O (``pipeline.load`` reads, ``batch`` writes)."""

from __future__ import annotations

from dataclasses import dataclass

from sflint.model import Finding
from sflint.pipeline import Loaded
from sflint.settings import FailOn


@dataclass(frozen=True)
class Checked:
    """The result of a check before it is rendered."""

    loaded: Loaded
    findings: tuple[Finding, ...]
    suppressed: tuple[Finding, ...] = ()

    @property
    def exit_code(self) -> int:
        """1 when a finding is at or above the project's ``fail_on``, else 0."""
        return exit_code(self.findings, self.loaded.settings.fail_on)


def check(loaded: Loaded) -> Checked:
    from sflint.engine import evaluate

    findings = evaluate(
        loaded.rules,
        loaded.components,
        loaded.accesses,
        loaded.catalogue,
        loaded.sources,
        loaded.index,
    )
    targets = loaded.settings.targets
    if targets is not None:
        targets = _whole_components(targets, loaded)
        findings = [f for f in findings if _in_targets(f, targets)]
    marks = [s for c in loaded.components for s in c.suppressions]
    suppressed = tuple(f for f in findings if any(s.covers(f) for s in marks))
    kept = tuple(f for f in findings if f not in suppressed)
    return Checked(loaded, kept, suppressed)


def _whole_components(targets: tuple[str, ...], loaded: Loaded) -> tuple[str, ...]:
    """The targets and every file of a component one of them belongs to: a decomposed set
    is one component, so a change to its main file (its license, say) reports what its
    child files grant."""
    named = set(targets)
    more = [p for c in loaded.components if named.intersection(c.files) for p in c.files]
    return tuple(dict.fromkeys((*targets, *more)))


def _in_targets(f: Finding, targets: tuple[str, ...]) -> bool:
    def under(path: str) -> bool:
        return any(path == t or path.startswith(t.rstrip("/") + "/") for t in targets)

    return under(f.path) or any(under(p) for p in f.related_paths)


def exit_code(findings: tuple[Finding, ...], fail_on: FailOn) -> int:
    threshold = fail_on.threshold
    if threshold is None:
        return 0
    return 1 if any(f.severity.rank >= threshold.rank for f in findings) else 0
