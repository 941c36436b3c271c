"""Evaluate rules on components and personas. Pure: values in, findings out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from sflint.access import Access, Index, Persona, type_word
from sflint.catalogue import Catalogue
from sflint.model import PERSONA_TYPE, Component, ComponentType, Confidence, Finding, FixOption
from sflint.rules.matchers import ComponentSubject, Context, Hit, PersonaSubject, Subject
from sflint.rules.model import FixTemplate, Rule
from sflint.rules.scope import Scope
from sflint.rules.template import fill


def _members_by_kind(accesses: Iterable[Access]) -> dict[str, frozenset[tuple[ComponentType, str]]]:
    out: dict[str, set[tuple[ComponentType, str]]] = {}
    for a in accesses:
        out.setdefault(a.persona.kind.value, set()).update(c.key_t for c in a.components)
    return {k: frozenset(v) for k, v in out.items()}


def _fixes(
    templates: tuple[FixTemplate, ...], type_name: str, values: dict[str, str]
) -> tuple[FixOption, ...]:
    return tuple(
        FixOption(
            t.id, fill(t.title, values), tuple(fill(s, values) for s in t.steps), t.action, t.clone
        )
        for t in templates
        if (not t.applies_to or type_name in t.applies_to)
        and (not t.through_group or "group" in values)
    )


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text[:1].upper() + text[1:]


def _signal(persona: Persona) -> str:
    """Why a detected persona is one, for ``{signal}``; empty for a declared persona."""
    if not persona.signal:
        return ""
    if persona.confidence is Confidence.HIGH:
        return f" (detected: {persona.signal})"
    return f" (detected with {persona.confidence.value} confidence: {persona.signal})"


def repeated(occurrences: int, lines: tuple[int, ...]) -> str:
    """The sentence a finding on a repeated grant ends with: how many elements of its file
    grant it, and where the first ones are."""
    shown = [str(n) for n in lines]
    more = occurrences - len(shown)
    where = ", ".join(shown) if more else f"{', '.join(shown[:-1])} and {shown[-1]}"
    if more:
        where += f" and {more:,} more"
    return f"Granted {occurrences:,} times in this file (lines {where})."


def _finding(rule: Rule, hit: Hit, persona: Persona | None, notes: tuple[str, ...]) -> Finding:
    # The values filled here are what rules.scope.SCOPE_PLACEHOLDERS promises the loader.
    component: Component | None = hit.component
    values = dict(hit.values)
    ctype: ComponentType | None = None  # a finding about the persona as a whole
    cname = persona.name if persona else ""
    if component is not None:
        values.setdefault("component", component.name)
        values.setdefault("component_type", type_word(component.type))
        ctype, cname = component.type, component.name
    if persona is not None:
        values["persona"] = persona.name
        values["signal"] = _signal(persona)
        values.setdefault("chain", persona.name)
    values["path"] = hit.location.path
    message = fill(rule.message, values)
    for note in notes:
        message = f"{message} {fill(note, values)}"
    if hit.occurrences > 1:
        # One finding for every element of the file that grants the same (model.Grant).
        message = f"{message} {repeated(hit.occurrences, hit.lines)}"
    # A fix option names the types it is for, "Persona" among them (rules/schema.py).
    type_name = PERSONA_TYPE if ctype is None else ctype.value
    return Finding(
        rule=rule.id,
        name=rule.name,
        severity=rule.severity,
        path=hit.location.path,
        line=hit.location.line,
        message=_sentence(message),
        component_type=ctype,
        component_name=cname,
        key=hit.key,
        persona=persona.name if persona else None,
        fixes=_fixes(rule.fixes, type_name, values),
        related_paths=hit.related,
        confidence=persona.confidence if persona else Confidence.HIGH,
        occurrences=hit.occurrences,
        lines=hit.lines,
    )


def evaluate(
    rules: Iterable[Rule],
    components: tuple[Component, ...],
    accesses: tuple[Access, ...],
    catalogue: Catalogue,
    sources: Mapping[str, bytes] | None = None,
    index: Index | None = None,
    wanted: Callable[[Iterable[str]], bool] | None = None,
) -> list[Finding]:
    """``accesses`` are the personas' resolved access (``access.accesses_for``), ``index``
    the one they were resolved with; ``sources`` (file bytes by path) are needed only by
    rules with ``xpath`` matchers.

    ``wanted`` (a run on named files) says whether a finding located in or related to any of
    the given paths is kept; a subject none of whose findings can be kept is not evaluated.
    A file-scope finding lies in its component's files and names no related path; a persona
    finding lies in, or names, only ``Access.paths``. All accesses of one persona (one per
    copy of a component defined twice) are evaluated together, because their findings share
    keys and the first one evaluated is the one kept."""
    index = index or Index.build(components)
    ctx = Context(catalogue, index, _members_by_kind(accesses), sources or {})
    if wanted is not None:
        components = tuple(c for c in components if wanted(c.files))
        names = {a.persona.name for a in accesses if wanted(a.paths)}
        accesses = tuple(a for a in accesses if a.persona.name in names)
    findings: dict[tuple[str, str, int, str, str], Finding] = {}
    for rule in rules:
        for subject, persona, anchor in _subjects(rule, components, accesses, ctx):
            matched, hits = rule.match.evaluate(subject)
            if not matched:
                continue
            # A note depends on the subject only: evaluated once, not once per hit (a
            # persona's note matcher reads all its grants, for each of thousands of hits).
            notes = tuple(n.text for n in rule.notes if n.when.evaluate(subject)[0])
            for hit in hits or (anchor,):
                f = _finding(rule, hit, persona, notes)
                findings.setdefault((f.rule, f.path, f.line, f.key, f.persona or ""), f)
    return sorted(findings.values(), key=lambda f: f.sort_key)


def _subjects(
    rule: Rule, components: tuple[Component, ...], accesses: tuple[Access, ...], ctx: Context
) -> list[tuple[Subject, Persona | None, Hit]]:
    """What ``rule`` is evaluated on, each with the hit a finding without hits points at."""
    subjects: list[tuple[Subject, Persona | None, Hit]] = []
    if Scope.FILE in rule.scope:
        for c in components:
            if c.type in rule.component_types:
                subjects.append((ComponentSubject(c, ctx), None, Hit(c.location, c.name, c)))
    if Scope.PERSONA in rule.scope:
        for a in accesses:
            if a.persona.kind in rule.persona_kinds:
                # A finding about the persona as a whole (no API access, say) can be
                # caused by a change to any file its access is built from.
                related = tuple(p for c in a.components for p in c.files)
                anchor = Hit(a.persona.location, a.persona.name, None, (), related)
                subjects.append((PersonaSubject(a, ctx), a.persona, anchor))
    return subjects
