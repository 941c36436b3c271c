"""``.sflint.yml``: personas and project settings, validated against a JSON schema."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from sflint.errors import UsageError
from sflint.kinds import kind_of, persona_keys
from sflint.model import Component, ComponentType, Confidence, Location, PersonaKind, Severity

if TYPE_CHECKING:
    from sflint.yamlload import Document

# A project declares a handful of integration users; a thousand personas is far past any real
# org, and bounds what a pull request's .sflint.yml can make every rule evaluate.
MAX_PERSONAS = 1000
# Exceptions are looked up by component, so their number costs little; the bound keeps a
# pull request's .sflint.yml from growing the report without limit.
MAX_EXCEPTIONS = 5000

_NAME = {"type": "string", "minLength": 1}
_NAMES = {"type": "array", "items": _NAME}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "personas": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "name": _NAME,
                    # A typo (``integraton``) would leave the persona outside every rule.
                    "kind": {"enum": [k.value for k in PersonaKind]},
                    # profile: one name (a user has exactly one); the others: lists.
                    **{p.key: _NAMES if p.many else _NAME for p, _ in persona_keys()},
                },
            },
        },
        "detect_integration": {"type": "boolean"},
        "rules": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"paths": _NAMES, "select": _NAMES, "ignore": _NAMES},
        },
        "fail_on": {"enum": ["error", "warning", "note", "never"]},
        "known_permissions": _NAMES,
        # Report every user permission name sflint does not know, not only likely slips.
        "strict_permissions": {"type": "boolean"},
        # Findings accepted on record (sflint.waivers): who accepted what, why, until when.
        "exceptions": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["rule", "component", "reason"],
                "properties": {
                    "rule": _NAME,  # id or name
                    "component": _NAME,  # API name, as the finding shows it
                    "permission": _NAME,  # the finding's key
                    "persona": _NAME,
                    "reason": {"type": "string", "pattern": "\\S"},
                    "owner": _NAME,
                    "expires": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
                },
            },
        },
        # Each rule's severity by id or name (``SFL008: note``): the tiers of privilege are
        # rules of their own (tier 1 SFL008, tier 2 SFL012), so this sets a tier's severity.
        "severity": {
            "type": "object",
            "propertyNames": {"minLength": 1},
            "additionalProperties": {"enum": [s.value for s in Severity]},
        },
        # Personas detected with less confidence than this are not checked (``--min-confidence``).
        "min_confidence": {"enum": [c.value for c in Confidence]},
    },
}


class Reference(NamedTuple):
    """A component named in the config, with the line that names it."""

    type: ComponentType
    name: str
    location: Location


class PersonaConfig(NamedTuple):
    name: str
    kind: PersonaKind
    references: tuple[Reference, ...]
    location: Location


class ExceptionEntry(NamedTuple):
    """One entry of ``exceptions:``: findings of ``rule`` on ``component`` (and, when given,
    of that permission and persona) are accepted for ``reason`` until ``expires``."""

    rule: str
    component: str
    reason: str
    location: Location
    permission: str | None = None
    persona: str | None = None
    owner: str | None = None
    expires: date | None = None  # the last day it applies

    @property
    def subject(self) -> str:
        """What it accepts, in words: ``SFL001 on Commission_App_API (TwoFactorApi)``."""
        extra = ", ".join(x for x in (self.permission, self.persona) if x)
        return f"{self.rule} on {self.component}" + (f" ({extra})" if extra else "")


class Config(NamedTuple):
    personas: tuple[PersonaConfig, ...] = ()
    detect_integration: bool | None = None
    rule_paths: tuple[Path, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: str | None = None
    known_permissions: tuple[str, ...] = ()
    strict_permissions: bool = False
    exceptions: tuple[ExceptionEntry, ...] = ()
    # Rule id or name -> the severity its findings get instead of the rule's own.
    severity: tuple[tuple[str, Severity], ...] = ()
    min_confidence: Confidence | None = None
    path: str | None = None
    # Line of each rule id or name in rules.select/ignore and severity, to point at an
    # unknown one.
    rule_lines: Mapping[str, int] = MappingProxyType({})


def load_config(root: Path, file: Path | None = None, cache: Path | None = None) -> Config:
    """Read ``.sflint.yml`` at the project root (or ``file``); absent means defaults."""
    # A config named on the command line is the user's own choice; the project's own
    # .sflint.yml comes with the pull request, so it must be a file inside the project.
    given = file is not None
    if file is not None and not file.exists():
        raise UsageError(f"{file}: config file not found")
    file = file or root / ".sflint.yml"
    if not file.exists() and not file.is_symlink():
        return Config()
    from sflint.yamlload import load_checked  # lazy: only a project with a config reads one

    try:
        # The name as written, links not resolved: a link is reported under its own name.
        display = file.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        display = str(file)
    doc = load_checked(file, display, SCHEMA, cache, root=None if given else root)
    data = doc.data if doc.data is not None else {}
    if len(data.get("personas", [])) > MAX_PERSONAS:
        raise doc.error(
            ("personas", MAX_PERSONAS),
            f"more than {MAX_PERSONAS} personas (the limit); this is persona {MAX_PERSONAS + 1}",
        )
    personas = _personas(doc, data.get("personas", []))
    rules = data.get("rules", {})
    _check_rule_paths(doc, rules.get("paths", []), file.parent, None if given else root)
    known_ids = {  # where each selected or ignored rule is named, for errors
        ident: doc.line(("rules", key, i))
        for key in ("select", "ignore")
        for i, ident in enumerate(rules.get(key, []))
    }
    severity = data.get("severity", {})
    for ident in severity:
        known_ids.setdefault(ident, doc.line(("severity", ident)))
    return Config(
        personas=personas,
        detect_integration=data.get("detect_integration"),
        rule_paths=tuple((file.parent / p) for p in rules.get("paths", [])),
        select=tuple(rules.get("select", [])),
        ignore=tuple(rules.get("ignore", [])),
        fail_on=data.get("fail_on"),
        known_permissions=tuple(data.get("known_permissions", [])),
        strict_permissions=bool(data.get("strict_permissions", False)),
        exceptions=_exceptions(doc, data.get("exceptions", [])),
        severity=tuple((ident, Severity(value)) for ident, value in severity.items()),
        min_confidence=Confidence(data["min_confidence"]) if "min_confidence" in data else None,
        path=display,
        rule_lines=known_ids,
    )


def _personas(doc: Document, entries: list[dict[str, Any]]) -> tuple[PersonaConfig, ...]:
    """The personas of a validated config, each reference with the line that names it."""
    out: list[PersonaConfig] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        if entry["name"] in seen:
            raise doc.error(("personas", i, "name"), f"duplicate persona name {entry['name']!r}")
        seen.add(entry["name"])
        refs: list[Reference] = []
        for persona_key, ctype in persona_keys():
            key = persona_key.key
            value = entry.get(key)
            names = [value] if isinstance(value, str) else (value or [])
            for j, name in enumerate(names):
                where = ("personas", i, key) if isinstance(value, str) else ("personas", i, key, j)
                refs.append(Reference(ctype, name, Location(doc.path, doc.line(where))))
        out.append(
            PersonaConfig(
                name=entry["name"],
                kind=PersonaKind(entry.get("kind", PersonaKind.INTEGRATION.value)),
                references=tuple(refs),
                location=Location(doc.path, doc.line(("personas", i))),
            )
        )
    return tuple(out)


def _exceptions(doc: Document, entries: list[dict[str, Any]]) -> tuple[ExceptionEntry, ...]:
    """The exceptions of a validated config; an impossible date is an error at its line."""
    if len(entries) > MAX_EXCEPTIONS:
        raise doc.error(
            ("exceptions", MAX_EXCEPTIONS),
            f"more than {MAX_EXCEPTIONS} exceptions (the limit); this is exception"
            f" {MAX_EXCEPTIONS + 1}",
        )
    out = []
    for i, entry in enumerate(entries):
        expires = None
        if "expires" in entry:
            try:
                expires = date.fromisoformat(entry["expires"])
            except ValueError:
                raise doc.error(
                    ("exceptions", i, "expires"),
                    f"exceptions.{i}.expires: {entry['expires']!r} is not a date (YYYY-MM-DD)",
                ) from None
        out.append(
            ExceptionEntry(
                rule=entry["rule"],
                component=entry["component"],
                reason=" ".join(entry["reason"].split()),
                location=Location(doc.path, doc.line(("exceptions", i))),
                permission=entry.get("permission"),
                persona=entry.get("persona"),
                owner=entry.get("owner"),
                expires=expires,
            )
        )
    return tuple(out)


def _check_rule_paths(doc: Document, paths: list[str], base: Path, root: Path | None) -> None:
    """Every rule folder exists; with ``root`` (the project's own config, which comes with
    the pull request) it also lies inside the project once links are resolved, like every
    other file sflint reads there."""
    for i, folder in enumerate(paths):
        if not (base / folder).is_dir():
            raise doc.error(("rules", "paths", i), f"rule folder not found: {folder}")
        real = (base / folder).resolve()
        if root is not None and real != root.resolve() and root.resolve() not in real.parents:
            raise doc.error(("rules", "paths", i), f"rule folder outside the project: {folder}")


def is_namespaced(name: str) -> bool:
    """A managed package's component (``force__ScaleCenterStandardPS``): installed in the
    org, not expected in the repository, so its absence leaves the access incomplete
    (SFL011) rather than being a mistake in the config."""
    return "__" in name.rstrip("_") and not name.endswith("__c")


# How close a name must be to be offered as "did you mean" (difflib's ratio).
SUGGEST_CUTOFF = 0.6


def check_references(
    config: Config,
    components: Iterable[Component],
    skipped: Iterable[tuple[ComponentType, str]] = (),
) -> None:
    """Every component a persona names is in the project, by API name or label: a name
    that matches nothing is ``.sflint.yml:LINE: message`` with a did-you-mean, exit 2.

    A mistyped name would otherwise leave the persona without that component's grants and
    turn its error into a note (issue 10). Names match exactly: the Metadata API documents
    names as unique in the org (PermissionSet.Name, Object Reference) but nowhere that they
    are unique without regard to case, so ``mfa`` is not taken for ``MFA``; it is suggested.
    Managed-package names (a namespace prefix) and components whose files .forceignore skips
    (they exist, but are never deployed from here) stay SFL011 findings.
    """
    ignored = set(skipped)
    known: dict[ComponentType, set[str]] = {}
    for c in components:
        names = known.setdefault(c.type, set())
        names.add(c.name)
        if c.label:
            names.add(c.label)
    for persona in config.personas:
        for ref in persona.references:
            names = known.get(ref.type, set())
            if ref.name in names or is_namespaced(ref.name) or (ref.type, ref.name) in ignored:
                continue
            word = kind_of(ref.type).word
            raise UsageError(
                f"persona {persona.name!r} names {word} {ref.name!r}, which is not in the"
                f" project (API name or label, matched exactly){_did_you_mean(ref.name, names)}",
                ref.location.path,
                ref.location.line,
            )


def _did_you_mean(name: str, names: set[str]) -> str:
    import difflib  # lazy: only a config mistake pays for it

    folded = sorted(n for n in names if n.casefold() == name.casefold())
    close = difflib.get_close_matches(name, sorted(names), n=3, cutoff=SUGGEST_CUTOFF)
    lowered = {n.casefold(): n for n in sorted(names)}
    close += [
        lowered[m]
        for m in difflib.get_close_matches(name.casefold(), sorted(lowered), n=3, cutoff=0.6)
    ]
    picks = list(dict.fromkeys([*folded, *close]))[:3]
    if not picks:
        return "; correct the name, or retrieve the component into the project"
    return "; did you mean " + " or ".join(repr(p) for p in picks) + "?"
