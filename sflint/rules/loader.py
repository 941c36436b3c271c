"""Load rule files: validate, compile matchers once, reject duplicates with ``file:line``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sflint.errors import UsageError
from sflint.kinds import component_types
from sflint.model import CloneNaming, Severity
from sflint.rules import matchers as m
from sflint.rules.model import Docs, Example, FixTemplate, Note, Rule
from sflint.rules.schema import SCHEMA
from sflint.rules.template import placeholders
from sflint.yamlload import Document, JsonPath, load_checked

# Values a message, note or fix step may use (see docs/writing-rules in the README).
PLACEHOLDERS = frozenset(
    {
        "persona",
        "signal",
        "permission",
        "label",
        "suggestion",
        "suggestion_label",
        "chain",
        "component",
        "component_type",
        "license",
        "detail",
        "path",
        "did_you_mean",
    }
)


def builtin_rules_dir() -> Path:
    """The built-in pack: ``sflint/builtin_rules`` in a wheel, ``rules/`` in a checkout."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "builtin_rules"
    return installed if installed.is_dir() else package.parent / "rules"


def compile_matcher(spec: dict[str, Any]) -> m.Matcher:
    ((kind, value),) = spec.items()
    if kind == "user_permission":

        def names(key: str) -> frozenset[str] | None:
            return frozenset(value[key]) if key in value else None

        return m.UserPermission(
            names=frozenset([value["name"]]) if "name" in value else names("names"),
            misspelling_of=names("misspelling_of"),
            not_misspelling_of=names("not_misspelling_of"),
            unknown=value.get("unknown"),
            privileged_tier=value.get("privileged_tier"),
            enabled=value.get("enabled"),
        )
    if kind == "license":
        return m.License(frozenset([value] if isinstance(value, str) else value))
    if kind == "in_persona":
        return m.InPersona(value["kind"])
    if kind == "xpath":
        from lxml import etree

        # XPath 1.0 string literals cannot contain their own quote, so removing them leaves
        # only the expression's syntax; a "$" there is a variable, which nothing binds.
        if "$" in re.sub(r"'[^']*'|\"[^\"]*\"", "", value):
            raise etree.XPathSyntaxError("variables ($name) are not supported")
        compiled = etree.XPath(value)
        # Variables, prefixes and unknown functions compile but fail when run: run it once
        # on an empty document so that the rule file is rejected now, with its line.
        compiled(etree.fromstring(b"<PermissionSet/>"))
        return m.XPath(value, compiled)
    if kind == "detected":
        return m.Detected(bool(value))
    if kind == "invalid_metadata":
        return m.Invalid()
    if kind == "incomplete_access":
        return m.Incomplete()
    if kind == "unresolved_reference":
        return m.Unresolved()
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
    from lxml import etree

    try:
        return compile_matcher(spec)
    except etree.XPathError as exc:  # syntax errors and evaluation errors alike
        raise doc.error(_xpath_where(spec, where), f"invalid xpath: {exc}") from None


def _check_template(doc: Document, where: JsonPath, text: str) -> str:
    for name in placeholders(text):
        if name not in PLACEHOLDERS:
            known = ", ".join(sorted(PLACEHOLDERS))
            raise doc.error(where, f"unknown placeholder {{{name}}}; known: {known}")
    return text


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
    scope = (d["scope"],) if isinstance(d["scope"], str) else tuple(d["scope"])
    if "persona" in scope and "applies_to" not in d:
        raise doc.error(("scope",), "a persona rule needs applies_to (persona kinds)")
    default_types = [t.value for t in component_types()]
    notes = tuple(
        Note(
            _compile(doc, n["when"], ("notes", i, "when")),
            _check_template(doc, ("notes", i, "text"), n["text"]),
        )
        for i, n in enumerate(d.get("notes", []))
    )
    fixes = tuple(
        FixTemplate(
            id=f["id"],
            title=_check_template(doc, ("fixes", i, "title"), f["title"]),
            steps=tuple(
                _check_template(doc, ("fixes", i, "steps", j), s) for j, s in enumerate(f["steps"])
            ),
            action=f.get("action"),
            applies_to=tuple(f.get("applies_to", ())),
            clone=CloneNaming(f["clone"]["name_suffix"], f["clone"]["label_suffix"])
            if "clone" in f
            else None,
        )
        for i, f in enumerate(d.get("fixes", []))
    )
    examples = tuple(
        Example(
            xml=e.get("bad") or e["good"],
            component_type=e.get("type", "PermissionSet"),
            expect=e.get("expect", 1 if "bad" in e else 0),
        )
        for e in d.get("examples", [])
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
        applies_to=tuple(d.get("applies_to", default_types)),
        match=_compile(doc, d["match"], ("match",)),
        message=_check_template(doc, ("message",), d["message"].strip()),
        notes=notes,
        fixes=fixes,
        docs=Docs(
            docs["why"].strip(), docs["how_to_fix"].strip(), tuple(docs.get("references", ()))
        ),
        examples=examples,
        source=doc.path,
        reads_files="xpath" in _kinds(d["match"]),
    )


def load_rules(
    folders: tuple[Path, ...], display_root: Path | None = None, cache: Path | None = None
) -> tuple[Rule, ...]:
    """Every ``*.yaml`` rule in ``folders``, sorted by id; ids and names must be unique."""
    rules: list[Rule] = []
    where: dict[str, Rule] = {}
    for folder in folders:
        if not folder.is_dir():
            raise UsageError(f"rule folder not found: {folder}")
        for file in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            shown = _display(file, display_root)
            # Each rule file must be a regular file inside its folder (no link out of it).
            doc = load_checked(file, shown, SCHEMA, cache, root=folder)
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


def _display(file: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return file.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(file)
