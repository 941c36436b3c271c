"""Load rule files: validate, compile matchers once, reject duplicates with ``file:line``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sflint.errors import UsageError
from sflint.kinds import component_types, kind_of
from sflint.model import (
    PERSONA_TYPE,
    CloneNaming,
    ComponentType,
    ObjectAccess,
    PersonaKind,
    ProblemKind,
    Severity,
)
from sflint.rules import builtin_rules_dir as builtin_rules_dir  # where it was first
from sflint.rules import matchers as m
from sflint.rules.model import (
    EXAMPLE_CONFIG,
    Aggregate,
    AggregateBy,
    Case,
    Docs,
    Example,
    ExampleFile,
    ExampleKind,
    Expected,
    FixTemplate,
    Fold,
    Note,
    Rule,
    Variant,
)
from sflint.rules.schema import SCHEMA
from sflint.rules.scope import (
    AGGREGATE_PLACEHOLDERS,
    COMPONENT_PLACEHOLDERS,
    SCOPE_PLACEHOLDERS,
    SHARED_PLACEHOLDERS,
    Scope,
)
from sflint.rules.template import placeholders
from sflint.yamlload import Document, JsonPath, load_checked


def compile_matcher(spec: dict[str, Any]) -> m.Matcher:
    ((kind, value),) = spec.items()
    if kind == "user_permission":

        def names(key: str) -> frozenset[str] | None:
            return frozenset(value[key]) if key in value else None

        tier = value.get("privileged_tier")
        if isinstance(tier, dict):
            tiers: frozenset[int] | None = frozenset([tier["exactly"]])
        else:  # tier 1 is the most privileged: N means tiers 1 to N
            tiers = None if tier is None else frozenset(range(1, tier + 1))
        return m.UserPermission(
            names=frozenset([value["name"]]) if "name" in value else names("names"),
            not_names=names("not_names"),
            misspelling_of=names("misspelling_of"),
            not_misspelling_of=names("not_misspelling_of"),
            unknown=value.get("unknown"),
            likely_typo=value.get("likely_typo"),
            tiers=tiers,
            enabled=value.get("enabled"),
        )
    if kind == "object_permission":
        objects = value.get("objects")
        return m.ObjectPermission(
            access=frozenset(ObjectAccess(a) for a in value["access"]),
            objects=None if objects is None else frozenset(objects),
        )
    if kind == "license":
        return m.License(frozenset([value] if isinstance(value, str) else value))
    if kind == "strict_permissions":
        return m.StrictPermissions(bool(value))
    if kind == "in_persona":
        return m.InPersona(PersonaKind(value["kind"]))
    if kind == "xpath":
        from lxml import etree

        from sflint.rules import xpath_subset

        # Only expressions that evaluate in linear time (xpath_subset); no EXSLT regular
        # expressions (lxml's regexp=True default), which would run Python's re on file text.
        xpath_subset.check(value)
        compiled = etree.XPath(value, regexp=False, smart_strings=False)
        # Variables, prefixes and unknown functions compile but fail when run: run it once
        # on an empty document so that the rule file is rejected now, with its line.
        compiled(etree.fromstring(b"<PermissionSet/>"))
        return m.XPath(value, compiled)
    if kind == "detected":
        return m.Detected(bool(value))
    if kind == "invalid_metadata":
        return m.Invalid(ProblemKind.INVALID)
    if kind == "ambiguous_metadata":
        return m.Invalid(ProblemKind.AMBIGUOUS)
    if kind == "incomplete_access":
        return m.Incomplete()
    if kind == "unresolved_reference":
        return m.Unresolved()
    if kind == "integration_signal":
        return m.IntegrationSignal(bool(value))
    if kind == "duplicate_component":
        return m.Duplicate()
    if kind == "standard_profile":
        if isinstance(value, dict):
            return m.StandardProfile(True, frozenset(value["names"]))
        return m.StandardProfile(bool(value))
    if kind == "via_group":
        return m.ViaGroup(bool(value))
    if kind == "profile_known":
        return m.ProfileKnown(bool(value))
    if kind == "all":
        return m.All(tuple(compile_matcher(v) for v in value))
    if kind == "any":
        return m.Any_(tuple(compile_matcher(v) for v in value))
    return m.Not(compile_matcher(value))


def _kinds(spec: Any) -> set[str]:
    """Every matcher kind used in a (validated) matcher tree."""
    if isinstance(spec, list):
        return {k for item in spec for k in _kinds(item)}
    if isinstance(spec, dict):
        return {k for key, value in spec.items() for k in ({key} | _kinds(value))}
    return set()


def _xpath_where(spec: Any, where: JsonPath) -> JsonPath:
    """The path of the first ``xpath`` key in a matcher tree, for the error's line."""
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "xpath":
                return (*where, key)
            found = _xpath_where(value, (*where, key))
            if found != (*where, key):
                return found
    if isinstance(spec, list):
        for i, item in enumerate(spec):
            found = _xpath_where(item, (*where, i))
            if found != (*where, i):
                return found
    return where


def _compile(doc: Document, spec: dict[str, Any], where: JsonPath) -> m.Matcher:
    from sflint.rules.xpath_subset import UnsafeXPath

    try:
        return compile_matcher(spec)
    except Exception as exc:
        # lxml only once something failed: a pack without xpath never imports it.
        from lxml import etree

        if not isinstance(exc, (etree.XPathError, UnsafeXPath)):  # syntax, evaluation, cost
            raise
        raise doc.error(_xpath_where(spec, where), f"invalid xpath: {exc}") from None


class _Templates:
    """Checks each template of one rule against what every finding of the rule fills.

    A rule with ``aggregate`` fills, in its message, notes, variants and fixes, only what
    every element of a component has in common (``SHARED_PLACEHOLDERS``) and ``{count}``
    and ``{items}``; what differs between elements (``{object}``) only its item text."""

    def __init__(
        self,
        doc: Document,
        scope: tuple[Scope, ...],
        match: m.Matcher,
        aggregate: bool = False,
    ) -> None:
        self.doc = doc
        self.scope = scope
        self.filled = {s: match.yields(s).guaranteed(s) for s in scope}
        self.per_element = dict(self.filled)
        if aggregate:
            self.filled = {
                s: (f & (SCOPE_PLACEHOLDERS[s] | SHARED_PLACEHOLDERS)) | AGGREGATE_PLACEHOLDERS
                for s, f in self.filled.items()
            }

    def item(self, where: JsonPath, text: str) -> str:
        """An aggregated rule's item text: filled with each element's own values."""
        return self._checked(where, text, self.per_element, frozenset())

    def check(
        self,
        where: JsonPath,
        text: str,
        *,
        has_component: bool = False,
        extra: frozenset[str] = frozenset(),
    ) -> str:
        more = (COMPONENT_PLACEHOLDERS if has_component else frozenset()) | extra
        return self._checked(where, text, self.filled, more)

    def _checked(
        self,
        where: JsonPath,
        text: str,
        given: dict[Scope, frozenset[str]],
        more: frozenset[str],
    ) -> str:
        for name in placeholders(text):
            if name not in m.KNOWN_PLACEHOLDERS:
                known = ", ".join(sorted(m.KNOWN_PLACEHOLDERS))
                raise self.doc.error(where, f"unknown placeholder {{{name}}}; known: {known}")
            for scope in self.scope:
                filled = given[scope] | more
                if name not in filled and name in self.per_element[scope]:
                    raise self.doc.error(
                        where,
                        f"placeholder {{{name}}} differs between the elements one aggregated"
                        " finding stands for: name it in aggregate.item, and {count} and"
                        " {items} here",
                    )
                if name not in filled:
                    raise self.doc.error(
                        where,
                        f"placeholder {{{name}}} is not filled for every {scope.value}-scope "
                        f"finding of this rule (its match gives no {name} there); "
                        f"available: {', '.join(sorted(filled))}",
                    )
        return text


def _scope(doc: Document) -> tuple[Scope, ...]:
    d = doc.data
    raw = [d["scope"]] if isinstance(d["scope"], str) else d["scope"]
    scope = tuple(s for s in Scope if s.value in raw)
    if "applies_to" in d:
        raise doc.error(
            ("applies_to",),
            "applies_to is split in two: component_types (file scope: "
            + ", ".join(t.value for t in component_types())
            + ") and persona_kinds (persona scope: "
            + ", ".join(k.value for k in PersonaKind)
            + ")",
        )
    if Scope.PERSONA in scope and "persona_kinds" not in d:
        raise doc.error(("scope",), "a persona-scope rule needs persona_kinds")
    if Scope.PERSONA not in scope and "persona_kinds" in d:
        raise doc.error(("persona_kinds",), "persona_kinds needs scope persona")
    if Scope.FILE not in scope and "component_types" in d:
        raise doc.error(("component_types",), "component_types needs scope file")
    return scope


def _component_types(d: dict[str, Any]) -> tuple[ComponentType, ...]:
    types = component_types()
    wanted = d.get("component_types") or [t.value for t in types]
    return tuple(t for t in types if t.value in wanted)


def _example(doc: Document, i: int, e: dict[str, Any]) -> Example:
    from sflint.project import classify

    where: JsonPath = ("examples", i)
    kinds = [k for k in ExampleKind if k.value in e]
    if len(kinds) != 1:
        raise doc.error(where, "an example has exactly one of bad and good")
    kind = kinds[0]
    body = e[kind.value]
    files: tuple[ExampleFile, ...]
    if isinstance(body, str):
        ctype = ComponentType(e.get("type", ComponentType.PERMISSION_SET.value))
        files = (ExampleFile(f"Example{kind_of(ctype).source_suffix}", body),)
    else:
        if "type" in e:
            raise doc.error((*where, "type"), "type is for a one-file example; name the files")
        files = tuple(ExampleFile(name, text) for name, text in body.items())
        for f in files:
            parts = f.name.split("/")
            if ".." in parts or classify(Path(f.name)) is None:
                raise doc.error(
                    (*where, kind.value, f.name),
                    f"{f.name!r} is not a permission metadata file name "
                    "(such as Sync.permissionset-meta.xml)",
                )
    names = [f.name for f in files]
    expect: list[Expected] = []
    for j, item in enumerate(e.get("expect", [])):
        if isinstance(item, int):
            if len(files) != 1:
                raise doc.error((*where, "expect", j), "with several files, give {path, line}")
            expect.append(Expected(files[0].name, item))
            continue
        if item["path"] not in (*names, EXAMPLE_CONFIG):
            raise doc.error(
                (*where, "expect", j, "path"),
                f"{item['path']!r} is none of the example's files: {', '.join(names)}"
                + (f", {EXAMPLE_CONFIG}" if "config" in e else ""),
            )
        expect.append(Expected(item["path"], item["line"]))
    if kind is ExampleKind.BAD and not expect:
        raise doc.error(where, "a bad example needs expect: the line of each finding")
    if kind is ExampleKind.GOOD and expect:
        raise doc.error((*where, "expect"), "a good example gives no finding; drop expect")
    expected = tuple(sorted(set(expect), key=_expected_key))
    return Example(kind, files, e.get("config"), expected, e.get("title"))


def _expected_key(e: Expected) -> tuple[str, int]:
    return (e.path, e.line)


def _case(doc: Document, spec: dict[str, Any], where: JsonPath) -> Case | None:
    """The condition of a fix option or step: a file-scope match on the finding's component
    (``engine._fixes``), so it must be able to hold in file scope."""
    if "when" not in spec:
        return None
    when = _compile(doc, spec["when"], (*where, "when"))
    if when.yields(Scope.FILE).never:
        raise doc.error((*where, "when"), "this condition can never hold for a component")
    return Case(when, spec["case"])


def _fixes(doc: Document, d: dict[str, Any], templates: _Templates) -> tuple[FixTemplate, ...]:
    fixes = []
    for i, f in enumerate(d.get("fixes", [])):
        applies = tuple(f.get("applies_to", ()))
        case = _case(doc, f, ("fixes", i))
        # An option offered only for component types, or under a condition on the component,
        # is never shown on a finding without one.
        has_component = (bool(applies) and PERSONA_TYPE not in applies) or case is not None
        # An option for grants through a group is shown only on findings that have one.
        through_group = bool(f.get("through_group", False))
        if through_group and Scope.PERSONA not in templates.scope:
            where = ("fixes", i, "through_group")
            raise templates.doc.error(where, "through_group needs scope persona")
        if f.get("action") == "mute-permission" and not through_group:
            raise templates.doc.error(
                ("fixes", i, "action"), "action mute-permission needs through_group: true"
            )
        extra = frozenset({"group"}) if through_group else frozenset()
        steps = [s if isinstance(s, dict) else {"text": s} for s in f["steps"]]
        texts: list[tuple[JsonPath, str]] = [(("fixes", i, "title"), f["title"])]
        texts += [(("fixes", i, "steps", j), step["text"]) for j, step in enumerate(steps)]
        title, *checked = (
            templates.check(where, text, has_component=has_component, extra=extra)
            for where, text in texts
        )
        fixes.append(
            FixTemplate(
                id=f["id"],
                title=title,
                steps=tuple(checked),
                action=f.get("action"),
                applies_to=applies,
                clone=CloneNaming(f["clone"]["name_suffix"], f["clone"]["label_suffix"])
                if "clone" in f
                else None,
                through_group=through_group,
                case=case,
                step_cases=tuple(
                    _case(doc, s, ("fixes", i, "steps", j)) for j, s in enumerate(steps)
                )
                if any("when" in s for s in steps)
                else (),
            )
        )
    return tuple(fixes)


def _variants(doc: Document, d: dict[str, Any], templates: _Templates) -> tuple[Variant, ...]:
    out = []
    for i, v in enumerate(d.get("variants", [])):
        where: JsonPath = ("variants", i)
        when = _compile(doc, v["when"], (*where, "when"))
        for s in templates.scope:
            if when.yields(s).never:
                raise doc.error(
                    (*where, "when"), f"this condition can never hold in scope {s.value}"
                )
        severity = Severity(v["severity"]) if "severity" in v else None
        message = templates.check((*where, "message"), v["message"].strip())
        out.append(Variant(when, v["case"], message, severity))
    return tuple(out)


def parse_rule(doc: Document) -> Rule:
    """Build a rule from a document that already passed the schema."""
    d = doc.data
    stem = Path(doc.path).name.removesuffix(".yaml").removesuffix(".yml")
    if stem != f"{d['id']}-{d['name']}":
        raise doc.error(("id",), f"file name must be {d['id']}-{d['name']}.yaml")
    if "security_severity" in d and "security" not in d.get("tags", ()):
        # GitHub only reads security-severity on rules tagged "security" (SARIF support for
        # code scanning, reportingDescriptor properties).
        raise doc.error(("security_severity",), "security_severity needs the tag 'security'")
    scope = _scope(doc)
    match = _compile(doc, d["match"], ("match",))
    for s in scope:
        if match.yields(s).never:
            raise doc.error(("match",), f"this match can never match in scope {s.value}")
    aggregate = _aggregate(doc, scope, match)
    templates = _Templates(doc, scope, match, aggregate is not None)
    if aggregate is not None:
        item = templates.item(("aggregate", "item"), aggregate.item.strip())
        aggregate = Aggregate(aggregate.by, item, aggregate.one, aggregate.other)
    notes = tuple(
        Note(
            _compile(doc, n["when"], ("notes", i, "when")),
            templates.check(("notes", i, "text"), n["text"]),
        )
        for i, n in enumerate(d.get("notes", []))
    )
    docs = d["docs"]
    return Rule(
        id=d["id"],
        name=d["name"],
        summary=d["summary"],
        severity=Severity(d["severity"]),
        tags=tuple(d.get("tags", ())),
        security_severity=d.get("security_severity"),
        precision=d.get("precision", "high"),
        scope=scope,
        component_types=_component_types(d) if Scope.FILE in scope else (),
        persona_kinds=tuple(k for k in PersonaKind if k.value in d.get("persona_kinds", ())),
        match=match,
        message=templates.check(("message",), d["message"].strip()),
        notes=notes,
        fixes=_fixes(doc, d, templates),
        docs=Docs(
            docs["why"].strip(), docs["how_to_fix"].strip(), tuple(docs.get("references", ()))
        ),
        examples=tuple(_example(doc, i, e) for i, e in enumerate(d.get("examples", []))),
        source=doc.path,
        reads_files="xpath" in _kinds(d["match"]),
        variants=_variants(doc, d, templates),
        folds=tuple(Fold(f["rule"], f["text"].strip()) for f in d.get("folds", ())),
        aggregate=aggregate,
    )


def _aggregate(doc: Document, scope: tuple[Scope, ...], match: m.Matcher) -> Aggregate | None:
    """The rule's ``aggregate``, unchecked templates; None without one. Only a match whose
    every finding points at an element it found can be aggregated: a finding about the
    subject as a whole has no elements to count."""
    spec = doc.data.get("aggregate")
    if spec is None:
        return None
    for s in scope:
        if match.yields(s).hitless:
            raise doc.error(
                ("aggregate",),
                f"aggregate needs a match that always finds elements; in scope {s.value}"
                " this one can match without any (a not, or a condition on the whole subject)",
            )
    count = spec["count"]
    return Aggregate(AggregateBy(spec["by"]), spec["item"], count["one"], count["other"])


# Rule files loaded from all rule folders together, the built-in pack included: a rule folder
# can come with a pull request, each rule runs on every component or persona, and SARIF
# describes every rule (GitHub accepts at most 25,000 per run, "SARIF support for code
# scanning"). Real packs hold tens of rules.
MAX_RULES = 1000


def load_rules(
    folders: tuple[Path, ...], display_root: Path | None = None, cache: Path | None = None
) -> tuple[Rule, ...]:
    """Every ``*.yaml`` rule in ``folders``, sorted by id; ids and names must be unique."""
    rules: list[Rule] = []
    where: dict[str, Rule] = {}
    builtin = builtin_rules_dir()
    for folder in folders:
        if not folder.is_dir():
            raise UsageError(f"rule folder not found: {folder}")
        # sflint's own rules come validated with it (rules/validated.json, keyed by their
        # bytes); no other folder is looked up there.
        validated = _validated(folder) if folder == builtin else None
        files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
        if len(rules) + len(files) > MAX_RULES:
            raise UsageError(
                f"{_display(folder, display_root)}: {len(files)} rule files; at most {MAX_RULES}"
                " are loaded from all rule folders together"
            )
        for file in files:
            shown = _display(file, display_root)
            # Each rule file must be a regular file inside its folder (no link out of it).
            doc = load_checked(file, shown, SCHEMA, cache, root=folder, validated=validated)
            if not isinstance(doc.data, dict):
                raise UsageError("a rule file must be a mapping", shown, 1)
            rule = parse_rule(doc)
            for ident in (rule.id, rule.name):
                if ident in where:
                    raise doc.error(
                        ("id",) if ident == rule.id else ("name",),
                        f"duplicate rule {ident!r}; first defined in {where[ident].source}",
                    )
                where[ident] = rule
            rules.append(rule)
    return tuple(sorted(rules, key=lambda r: r.id))


def _validated(folder: Path) -> dict[str, Any]:
    from sflint.rules import validated

    return validated.load(folder)


def _display(file: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return file.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(file)
