"""Evaluate rules on components and personas. Pure: values in, findings out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from sflint.access import Access, Index, Persona, type_word
from sflint.catalogue import Catalogue
from sflint.model import (
    AGGREGATE_KEY,
    PERSONA_TYPE,
    SHOWN_LINES,
    STANDARD_FIX,
    Component,
    ComponentType,
    Confidence,
    Finding,
    FixOption,
    Item,
    Location,
    ObjectAccess,
    Severity,
    Suppression,
)
from sflint.rules.matchers import ComponentSubject, Context, Hit, PersonaSubject, Subject
from sflint.rules.model import Aggregate, Case, FixTemplate, Rule, Variant
from sflint.rules.scope import SHARED_PLACEHOLDERS, Scope
from sflint.rules.template import fill, placeholders
from sflint.standard import describe as describe_standard


def _members_by_kind(accesses: Iterable[Access]) -> dict[str, frozenset[tuple[ComponentType, str]]]:
    out: dict[str, set[tuple[ComponentType, str]]] = {}
    for a in accesses:
        out.setdefault(a.persona.kind.value, set()).update(c.key_t for c in a.components)
    return {k: frozenset(v) for k, v in out.items()}


def _holds(case: Case | None, on: ComponentSubject | None) -> bool:
    """Whether a fix option's or step's condition holds for the finding's component; one
    with a condition is left out of a finding without a component."""
    if case is None:
        return True
    return on is not None and case.when.evaluate(on)[0]


def _fixes(
    templates: tuple[FixTemplate, ...],
    type_name: str,
    values: dict[str, str],
    on: ComponentSubject | None,
) -> tuple[FixOption, ...]:
    out = []
    for t in templates:
        if (t.applies_to and type_name not in t.applies_to) or not _holds(t.case, on):
            continue
        if t.through_group and "group" not in values:  # offered for a grant through a group
            continue
        cases = t.step_cases or (None,) * len(t.steps)
        steps = tuple(fill(s, values) for s, c in zip(t.steps, cases, strict=True) if _holds(c, on))
        out.append(FixOption(t.id, fill(t.title, values), steps, t.action, t.clone))
    return tuple(out)


def _standard(finding: Finding, hit: Hit, values: dict[str, str], catalogue: Catalogue) -> Finding:
    """A finding on what one of Salesforce's standard profiles grants, when an admin cannot
    change its permissions (sflint.standard): an error stays an error, anything else is at
    most a note; each says whose profile it is and what an admin can do instead, with no
    fix that edits the profile."""
    component = hit.component
    profile = catalogue.standard.locked(component) if component is not None else None
    # A user permission, or an object's access ("you can never edit the object permissions
    # on a standard profile", Force.com Fundamentals, Standard Profiles). Only a real
    # permission is Salesforce's doing; a name Salesforce does not know is an edit to the
    # file, which the file's owner can undo.
    if len(hit.items) == 1:  # an aggregated finding on one element: as a finding on it
        values = {**values, **dict(hit.items[0].values)}
    if len(hit.items) > 1:  # what its elements hold, together
        held = {p for i in hit.items for k, v in i.values if k == "access" for p in v.split(", ")}
        flags = " or ".join(a.label for a in ObjectAccess if a.label in held)
        permission = f"{flags} on {values['count']}" if flags else values.get("items", "")
        label = permission
    elif "object" in values and "access" in values:
        permission = f"{values['access']} on {values['object']}"
        label = permission
    else:
        permission = values.get("permission", "")
        label = values.get("label", permission)
        if not catalogue.known(permission):
            return finding
    if profile is None:
        return finding
    name = describe_standard(profile)
    # One element is named as Setup shows it; several are "each of them" (the items list them).
    unchecked = f'"{label}"' if len(hit.items) <= 1 else f"each of them ({label})"
    said = (
        f"Profile {name} is one of Salesforce's standard profiles: Salesforce does"
        " not let an admin change a standard profile's permissions (Salesforce Help,"
        f' "Standard Profiles"), and sets them itself. If a user of yours should not have'
        f" {permission}, move that user to a custom profile (a clone of {profile.setup_name},"
        " say) without it, and grant what else the user needs through permission sets."
    )
    refusal = None
    if any(o.action for o in finding.fixes):
        refusal = (
            f"profile {name} is Salesforce's standard profile, whose permissions no one can"
            " edit; --fix leaves it unchanged. Move the user to a custom profile (a clone of"
            f" it) without {permission}, or grant through permission sets."
        )
    option = FixOption(
        STANDARD_FIX,
        f"Move the user off Salesforce's standard profile {profile.setup_name}",
        (
            f"Salesforce does not let an admin edit the permissions of standard profile"
            f" {profile.setup_name}, so neither Setup nor `sflint check --fix` can uncheck"
            f" {label} in it.",
            f"In Setup, clone profile {profile.setup_name}, uncheck {unchecked} in the clone,"
            " and change the user's profile to the clone; or give the user a profile with"
            " fewer permissions and grant what it needs through permission sets.",
        ),
        refusal=refusal,
    )
    # An advisory (least privilege, a waiver) about what Salesforce set is at most a note: no
    # one can change it in the profile. An error stays one: what it says breaks (an
    # integration user's API login needs a second factor) breaks on a standard profile too,
    # and the user can be moved off it, as the message says.
    severity = finding.severity
    if severity is not Severity.ERROR:
        severity = Severity.NOTE
    return finding._replace(
        severity=severity,
        message=f"{finding.message} {said}",
        fixes=(option,),
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


def _values(hit: Hit, persona: Persona | None) -> dict[str, str]:
    """What a finding on ``hit`` fills its templates with: what
    rules.scope.SCOPE_PLACEHOLDERS promises the loader, and the hit's own values."""
    values = dict(hit.values)
    if hit.component is not None:
        values.setdefault("component", hit.component.name)
        values.setdefault("component_type", type_word(hit.component.type))
    if persona is not None:
        values["persona"] = persona.name
        values["signal"] = _signal(persona)
        values.setdefault("chain", persona.name)
    values["path"] = hit.location.path
    return values


# How many elements an aggregated finding's message names before "and N more".
SHOWN_ITEMS = 3


def _aggregated(
    rule: Rule, how: Aggregate, hits: tuple[Hit, ...], persona: Persona | None
) -> list[Hit]:
    """``hits`` of one subject as ``rule.aggregate`` asks: one per component, at its first
    element, standing for every element of it. An element that a comment suppresses for the
    rule is left out of that hit, so that the comment accepts only what it is written for:
    the elements under one comment are a hit of their own (its finding is then suppressed,
    with that comment's reason), and the hit of the rest is suppressed only if every element
    is, each by its comment."""
    groups: dict[object, list[Hit]] = {}
    for h in hits:
        c = h.component
        groups.setdefault(None if c is None else (c.type, c.name, c.files), []).append(h)
    out: list[Hit] = []
    for members in groups.values():
        members.sort(key=lambda h: (h.location.path, h.location.line))
        marks = members[0].component.suppressions if members[0].component else ()
        covering = _covering(rule, marks)
        open_: list[Hit] = []
        covered: dict[int, list[Hit]] = {}  # by the comment (its index) that suppresses them
        for h in members:
            at = covering(h.location)
            if at is None:
                open_.append(h)
            else:
                covered.setdefault(at, []).append(h)
        if open_:
            out.append(_merge(how, open_, persona, AGGREGATE_KEY))
        for under in covered.values():
            # One element under its own comment keeps the identity a finding on it alone has.
            out.append(
                _merge(how, under, persona, under[0].key if len(under) == 1 else AGGREGATE_KEY)
            )
    return out


def _covering(rule: Rule, marks: tuple[Suppression, ...]) -> Callable[[Location], int | None]:
    """The index of the first of ``marks`` that suppresses ``rule`` at a location, looked up
    by place: a hostile file's thousands of comments and elements must not cost their
    product."""
    at_line: dict[tuple[str, int], int] = {}
    whole: dict[str, int] = {}
    for i, m in enumerate(marks):
        where = m.location
        if not m.covers_at(rule.id, rule.name, where.path, where.line):  # it names the rule
            continue
        if m.whole_file:
            whole.setdefault(m.location.path, i)
        else:
            at_line.setdefault((m.location.path, m.location.line), i)

    def first(where: Location) -> int | None:
        found = [at_line.get((where.path, where.line)), whole.get(where.path)]
        return min((i for i in found if i is not None), default=None)

    return first


def _merge(how: Aggregate, hits: list[Hit], persona: Persona | None, key: str) -> Hit:
    """One hit for ``hits`` (one component's, in order), at the first."""
    first = hits[0]
    names = tuple(dict.fromkeys(placeholders(how.item)))
    items: list[Item] = []
    texts: list[str] = []
    for h in hits:
        values = _values(h, persona)
        items.append(
            Item(h.key, h.location, tuple((n, values.get(n, "")) for n in names), h.occurrences)
        )
        # "and 1 more" would take the room of the one it stands for.
        if len(texts) < SHOWN_ITEMS or len(hits) == SHOWN_ITEMS + 1:
            texts.append(fill(how.item, values))
    more = len(items) - len(texts)
    if more:
        listed = f"{', '.join(texts)} and {more:,} more"
    else:
        listed = texts[0] if len(texts) == 1 else f"{', '.join(texts[:-1])} and {texts[-1]}"
    count = f"{len(items):,} {how.one if len(items) == 1 else how.other}"
    shared = [(k, v) for k, v in first.values if k in SHARED_PLACEHOLDERS or k == "chain"]
    occurrences = sum(i.count for i in items)
    here = first.location.path
    related = (p for h in hits for p in (h.location.path, *h.related) if p != here)
    return Hit(
        first.location,
        key,
        first.component,
        (*shared, ("count", count), ("items", listed)),
        tuple(dict.fromkeys(related)),
        occurrences=occurrences,
        lines=tuple(i.location.line for i in items[:SHOWN_LINES]) if occurrences > 1 else (),
        via=first.via,
        items=tuple(items),
    )


def _finding(
    rule: Rule,
    hit: Hit,
    persona: Persona | None,
    notes: tuple[str, ...],
    ctx: Context,
    variant: Variant | None = None,
) -> Finding:
    component: Component | None = hit.component
    values = _values(hit, persona)
    ctype: ComponentType | None = None  # a finding about the persona as a whole
    cname = persona.name if persona else ""
    if component is not None:
        ctype, cname = component.type, component.name
    message = fill(variant.message if variant else rule.message, values)
    for note in notes:
        message = f"{message} {fill(note, values)}"
    if hit.occurrences > 1 and not hit.items:
        # One finding for every element of the file that grants the same (model.Grant).
        message = f"{message} {repeated(hit.occurrences, hit.lines)}"
    # A fix option names the types it is for, "Persona" among them (rules/schema.py).
    type_name = PERSONA_TYPE if ctype is None else ctype.value
    # Fix options and steps with a condition are chosen on the component that holds the
    # grant, as the persona holds it (through a group, or not).
    on = ComponentSubject(component, ctx, hit.via) if component is not None else None
    severity = variant.severity if variant and variant.severity else rule.severity
    finding = Finding(
        rule=rule.id,
        name=rule.name,
        severity=severity,
        path=hit.location.path,
        line=hit.location.line,
        message=_sentence(message),
        component_type=ctype,
        component_name=cname,
        key=hit.key,
        persona=persona.name if persona else None,
        fixes=_fixes(rule.fixes, type_name, values, on),
        related_paths=hit.related,
        confidence=persona.confidence if persona else Confidence.HIGH,
        occurrences=hit.occurrences,
        lines=hit.lines,
        items=hit.items,
    )
    return _standard(finding, hit, values, ctx.catalogue)


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
    # A rule that another folds (SFL005 into SFL001) runs also on every component of the
    # personas evaluated, so that a persona finding reads the same (folded) in a run on
    # named files as in the whole run; what is not about the named files is left out later.
    rules = tuple(rules)
    folded = {f.rule for r in rules for f in r.folds}
    wider = components
    if wanted is not None:
        names = {a.persona.name for a in accesses if wanted(a.paths)}
        accesses = tuple(a for a in accesses if a.persona.name in names)
        near = {c.key_t for a in accesses for c in a.components} if folded else set()
        wider = tuple(c for c in components if wanted(c.files) or c.key_t in near)
        components = tuple(c for c in components if wanted(c.files))
    findings: dict[tuple[str, str, int, str, str], Finding] = {}
    for rule in rules:
        scope = wider if rule.id in folded else components
        for subject, persona in _subjects(rule, scope, accesses, ctx):
            matched, hits = rule.match.evaluate(subject)
            if not matched:
                continue
            # A note depends on the subject only: evaluated once, not once per hit (a
            # persona's note matcher reads all its grants, for each of thousands of hits).
            notes = tuple(n.text for n in rule.notes if n.when.evaluate(subject)[0])
            variant = next((v for v in rule.variants if v.when.evaluate(subject)[0]), None)
            if rule.aggregate is not None:  # the loader allows it only where there are hits
                hits = tuple(_aggregated(rule, rule.aggregate, hits, persona))
            for hit in hits or (_anchor(subject),):
                f = _finding(rule, hit, persona, notes, ctx, variant)
                findings.setdefault((f.rule, f.path, f.line, f.key, f.persona or ""), f)
    return sorted(findings.values(), key=lambda f: f.sort_key)


def _subjects(
    rule: Rule, components: tuple[Component, ...], accesses: tuple[Access, ...], ctx: Context
) -> list[tuple[Subject, Persona | None]]:
    """What ``rule`` is evaluated on, each with its persona (None for a component)."""
    subjects: list[tuple[Subject, Persona | None]] = []
    if Scope.FILE in rule.scope:
        for c in components:
            if c.type in rule.component_types:
                subjects.append((ComponentSubject(c, ctx), None))
    if Scope.PERSONA in rule.scope:
        for a in accesses:
            if a.persona.kind in rule.persona_kinds:
                subjects.append((PersonaSubject(a, ctx), a.persona))
    return subjects


def _anchor(subject: Subject) -> Hit:
    """The hit a finding without hits points at: the component's root element, or the
    persona's entry. Made only for such a finding (for every rule and subject, it was a
    fifth of the evaluation)."""
    if isinstance(subject, ComponentSubject):
        c = subject.component
        return Hit(c.location, c.name, c)
    # A finding about the persona as a whole (no API access, say) can be caused by a
    # change to any file its access is built from.
    a = subject.access
    related = tuple(p for c in a.components for p in c.files)
    return Hit(a.persona.location, a.persona.name, None, (), related)


def fold(findings: Iterable[Finding], rules: Iterable[Rule]) -> tuple[Finding, ...]:
    """Findings with every one that another rule's finding on the same element already says
    (the rule's ``folds``) dropped, and that rule's fold text added to the finding that says
    it, in order. A comment, exception or baseline entry that accepts the finding accepts
    what was folded into it (its message says so)."""
    findings = tuple(findings)
    folds = {r.id: r.folds for r in rules if r.folds}
    if not folds:
        return findings
    at: dict[tuple[str, str, int, str], Finding] = {}
    for f in findings:
        at.setdefault((f.rule, f.path, f.line, f.key), f)
    folded: set[tuple[str, str, int, str]] = set()
    out: list[Finding] = []
    for f in findings:
        texts = []
        for spec in folds.get(f.rule, ()):
            key = (spec.rule, f.path, f.line, f.key)
            if key in at:
                folded.add(key)
                texts.append(spec.text)
        out.append(f._replace(message=" ".join((f.message, *texts))) if texts else f)
    return tuple(f for f in out if (f.rule, f.path, f.line, f.key) not in folded)
