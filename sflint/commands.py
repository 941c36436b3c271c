"""The informational commands: ``rules``, ``explain`` and ``access``."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sflint.errors import UsageError
from sflint.rules.model import Rule

if TYPE_CHECKING:
    from sflint.access import Persona


def _rules(rule_dirs: tuple[Path, ...]) -> tuple[Rule, ...]:
    from sflint.rules.loader import builtin_rules_dir, load_rules

    return load_rules((builtin_rules_dir(), *rule_dirs))


def _fail(exc: UsageError, err: TextIO) -> int:
    err.write(f"sflint: error: {exc}\n")
    return 2


def list_rules(
    rule_dirs: tuple[Path, ...], out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        rules = _rules(rule_dirs)
    except UsageError as exc:
        return _fail(exc, err)
    width = max(len(r.name) for r in rules)
    for r in rules:
        scope = "/".join(r.scope)
        out.write(f"{r.id}  {r.name:<{width}}  {r.severity.value:<7}  {scope:<12}  {r.summary}\n")
    return 0


def explain_rule(
    ident: str, rule_dirs: tuple[Path, ...], out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        rules = _rules(rule_dirs)
    except UsageError as exc:
        return _fail(exc, err)
    rule = next((r for r in rules if ident in (r.id, r.name)), None)
    if rule is None:
        err.write(f"sflint: error: unknown rule {ident!r} (see `sflint rules`)\n")
        return 2
    wrap = textwrap.TextWrapper(width=88)
    lines = [
        f"{rule.id} {rule.name} [{rule.severity.value}]",
        "",
        rule.summary,
        "",
        "Why is this a problem?",
    ]
    lines += [*wrap.wrap(rule.docs.why), "", "How to fix it", *wrap.wrap(rule.docs.how_to_fix)]
    if rule.fixes:
        lines += ["", "Fix options"]
        for fix in rule.fixes:
            kinds = f" ({', '.join(fix.applies_to)})" if fix.applies_to else ""
            auto = " [sflint --fix]" if fix.action else ""
            lines.append(f"  {fix.title}{kinds}{auto}")
            lines += [f"    {i}. {s}" for i, s in enumerate(fix.steps, 1)]
    if rule.docs.references:
        lines += ["", "References"] + [f"  {ref}" for ref in rule.docs.references]
    out.write("\n".join(lines) + "\n")
    return 0


def show_access(
    root: Path, persona: str | None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    from sflint.access import Index, personas_for, resolve
    from sflint.config import load_config
    from sflint.metadata.loader import load_components
    from sflint.project import find_root, load_project

    try:
        top = find_root(root.resolve())
        config = load_config(top)
        project = load_project(top)
    except UsageError as exc:
        return _fail(exc, err)
    components = load_components(project.files)
    personas = personas_for(config, components)
    if persona is not None:
        personas = tuple(p for p in personas if persona == p.name)
        if not personas:
            err.write(f"sflint: error: no persona named {persona!r}\n")
            return 2
    index = Index.build(components)
    for p in personas:
        access = resolve(p, index)
        how = (
            f"detected: {p.signal}"
            if p.signal
            else f"declared in {p.location.path}:{p.location.line}"
        )
        out.write(f"{p.name} [{p.kind}] ({how})\n")
        enabled = sorted(
            (g for g in access.grants if g.grant.enabled),
            key=lambda g: (g.grant.name, g.chain),
        )
        for g in enabled:
            muted = f"  [muted by {g.muted_by.name}]" if g.muted_by else ""
            loc = g.grant.location
            out.write(f"  ├─ {g.grant.name}  ← {g.chain}  ({loc.path}:{loc.line}){muted}\n")
        for r in (*access.unresolved, *access.missing_members):
            out.write(
                f"  └─ ? {r.type} {r.name} is not in the project"
                f" ({r.location.path}:{r.location.line})\n"
            )
        if not enabled and not access.incomplete:
            out.write("  (no enabled user permissions)\n")
    if not personas:
        out.write(
            "No personas: declare them in .sflint.yml (see README) or add integration signals.\n"
        )
    return 0


def _yaml_str(value: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar: safe for any component name.
    return json.dumps(value, ensure_ascii=False)


def starter_config(candidates: tuple[Persona, ...]) -> str:
    """The text of a starter ``.sflint.yml``: one persona per detected integration signal."""
    lines = [
        "# sflint settings for this project (see sflint's README, `.sflint.yml` reference).",
        "#",
        "# Which user holds which permission set is org data that a repository cannot show:",
        "# declare each integration user here, with the profile, permission sets and permission",
        "# set groups assigned to it in Setup (Users > the user > Permission Set Assignments).",
    ]
    if not candidates:
        lines += [
            "# No integration signal was found in the metadata. An example:",
            "#",
            "# personas:",
            "#   - name: Commission app connection",
            "#     kind: integration",
            "#     profile: Minimum Access - API Only Integrations",
            "#     permission_sets: [Commission_App_API]",
            "#     permission_set_groups: [Integration_Base]",
            "personas: []",
        ]
        return "\n".join(lines) + "\n"
    lines += [
        "# The personas below were detected from signals in the metadata; check each one",
        "# against the org and add what the user is assigned besides.",
        "personas:",
    ]
    keys = {
        "Profile": "profile",
        "PermissionSet": "permission_sets",
        "PermissionSetGroup": "permission_set_groups",
    }
    for p in candidates:
        lines += [
            f"  - name: {_yaml_str(p.name)}",
            f"    # detected: {p.signal}",
            "    kind: integration",
        ]
        for ref in p.references:
            key = keys[ref.type]
            value = _yaml_str(ref.name)
            lines.append(f"    {key}: {value}" if key == "profile" else f"    {key}: [{value}]")
    return "\n".join(lines) + "\n"


def init(root: Path, force: bool, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from sflint.access import detect
    from sflint.config import SCHEMA
    from sflint.metadata.loader import load_components
    from sflint.project import CONFIG_FILE, find_root, load_project
    from sflint.yamlload import parse_yaml, validate

    out = out or sys.stdout
    err = err or sys.stderr
    top = find_root(root.resolve())
    target = top / CONFIG_FILE
    if target.exists() and not force:
        err.write(f"sflint: error: {target} exists; --force overwrites it\n")
        return 2
    try:
        project = load_project(top)
    except UsageError as exc:
        return _fail(exc, err)
    candidates = detect(load_components(project.files))
    text = starter_config(candidates)
    # What init writes must load: check it before the file exists.
    validate(parse_yaml(text, CONFIG_FILE), SCHEMA)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        return _fail(UsageError(f"cannot write {target}: {exc.strerror}"), err)
    out.write(f"Wrote {target} with {len(candidates)} detected integration persona(s).\n")
    for p in candidates:
        out.write(f"  {p.name}: {p.signal}\n")
    return 0
