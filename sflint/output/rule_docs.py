"""Rule documentation, rendered once for every reader: ``sflint rules`` (a table, or the whole
of docs/rules.md with ``--format markdown``), ``sflint explain`` and SARIF rule help.

The text body is what ``explain`` prints after its header and what SARIF puts in
``help.text``; the Markdown body is SARIF's ``help.markdown`` and each rule's section of
docs/rules.md, so the three never drift apart.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence

from sflint.rules.model import (
    EXAMPLE_CONFIG,
    Example,
    ExampleKind,
    FixTemplate,
    Fold,
    Rule,
    Variant,
)
from sflint.rules.scope import Scope

# The one command that writes docs/rules.md; the stale-docs tests name it.
REGENERATE = "regenerate it with `sflint rules --format markdown > docs/rules.md`"
_WIDTH = 88
# A GFM code span: a run of backticks, then anything up to a run of the same length.
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)


def scope_words(rule: Rule) -> str:
    """``file (PermissionSet, Profile)``, ``persona (integration)``: where the rule runs."""
    parts = []
    for scope in rule.scope:
        kinds = rule.component_types if scope is Scope.FILE else rule.persona_kinds
        parts.append(f"{scope.value} ({', '.join(k.value for k in kinds)})")
    return ", ".join(parts)


def rules_table(rules: Sequence[Rule]) -> str:
    """The plain table of ``sflint rules``."""
    width = max((len(r.name) for r in rules), default=0)
    lines = []
    for r in rules:
        scope = "/".join(s.value for s in r.scope)
        severity = r.severity.value
        lines.append(f"{r.id}  {r.name:<{width}}  {severity:<7}  {scope:<12}  {r.summary}\n")
    return "".join(lines)


def explain_text(rule: Rule) -> str:
    """What ``sflint explain`` prints."""
    head = [
        f"{rule.id} {rule.name} [{rule.severity.value}]",
        "",
        rule.summary,
        f"Scope: {scope_words(rule)}",
        *([f"One finding per {rule.aggregate.by.value}"] if rule.aggregate else []),
        "",
        "",
    ]
    return "\n".join(head) + help_text(rule) + "\n"


def help_text(rule: Rule) -> str:
    """The rule's documentation as plain text: why, how to fix, fix options, examples."""
    wrap = textwrap.TextWrapper(width=_WIDTH)
    lines = ["Why is this a problem?", *wrap.wrap(rule.docs.why.strip() or rule.summary)]
    if rule.docs.how_to_fix.strip():
        lines += ["", "How to fix it", *wrap.wrap(rule.docs.how_to_fix.strip())]
    if rule.variants or rule.folds:
        lines += ["", "Wording"]
        lines += [f"  {_variant(v)}" for v in rule.variants]
        lines += [f"  {_fold(rule, f)}" for f in rule.folds]
    if rule.fixes:
        lines += ["", "Fix options"]
        for fix in rule.fixes:
            auto = " [sflint --fix]" if fix.action else ""
            lines.append(f"  {fix.title}{_applies(fix)}{auto}")
            lines += [f"    {i}. {s}" for i, s in enumerate(_steps(fix), 1)]
    if rule.examples:
        lines += ["", "Examples"]
        for example in rule.examples:
            lines += _example_text(rule, example)
    if rule.docs.references:
        lines += ["", "References"] + [f"  {ref}" for ref in rule.docs.references]
    return "\n".join(lines)


def _example_text(rule: Rule, example: Example) -> list[str]:
    title = f": {example.title}" if example.title else ""
    lines = [f"  {example.kind.value.capitalize()}{title}", f"    {_outcome(rule, example, '')}"]
    for name, text in _files(example):
        marked = {e.line for e in example.expect if e.path == name}
        lines.append(f"    {name}")
        # Numbered, and the expected findings' lines marked, so "line 5" can be found.
        for n, line in enumerate(text.splitlines(), 1):
            lines.append(f"    {n:>4} {'>' if n in marked else ' '} {line}".rstrip())
    return lines


def _outcome(rule: Rule, example: Example, code: str) -> str:
    if example.kind is ExampleKind.GOOD:
        return f"Finds no {rule.id}."
    where = ", ".join(f"{code}{e.path}:{e.line}{code}" for e in example.expect)
    return f"Finds {rule.id} at {where}."


def _files(example: Example) -> list[tuple[str, str]]:
    files = [(f.name, f.text) for f in example.files]
    if example.config is not None:
        files.append((EXAMPLE_CONFIG, example.config))
    return files


def _applies(option: FixTemplate) -> str:
    where = [", ".join(option.applies_to)] if option.applies_to else []
    if option.through_group:
        where.append("through a group")
    if option.case is not None:
        where.append(f"when {option.case.text}")
    return f" ({'; '.join(where)})" if where else ""


def _steps(option: FixTemplate) -> list[str]:
    """The steps as the docs show them: each conditional one says when it is shown."""
    cases = option.step_cases or (None,) * len(option.steps)
    return [
        f"({case.text}) {step}" if case is not None else step
        for step, case in zip(option.steps, cases, strict=True)
    ]


def _variant(variant: Variant) -> str:
    severity = f" a {variant.severity.value}," if variant.severity else ""
    return f"When {variant.case}, the finding is{severity} worded: {variant.message}"


def _fold(rule: Rule, fold: Fold) -> str:
    return (
        f"Where {fold.rule} would report the same element, its finding is folded into"
        f" {rule.id}'s, which then adds: {fold.text}"
    )


def help_markdown(rule: Rule, level: int = 2) -> str:
    """The rule's documentation as GitHub Flavored Markdown, its sections at ``level``."""
    # GitHub renders help.markdown on the alert page. Rule docs use code spans but also name
    # XML elements in plain text ("<userPermissions>"), which GitHub's sanitiser would drop as
    # unknown HTML: escape HTML outside code spans only.
    h2, h3 = "#" * level, "#" * (level + 1)
    parts = [md_text(rule.docs.why.strip() or rule.summary)]
    if rule.docs.how_to_fix.strip():
        parts.append(f"{h2} How to fix\n\n" + md_text(rule.docs.how_to_fix.strip()))
    if rule.variants or rule.folds:
        items = [_variant(v) for v in rule.variants] + [_fold(rule, f) for f in rule.folds]
        parts.append(f"{h2} Wording\n\n" + "\n".join(f"- {md_text(i)}" for i in items))
    for option in rule.fixes:
        steps = "\n".join(f"{i}. {md_text(step)}" for i, step in enumerate(_steps(option), 1))
        parts.append(f"{h3} {md_text(option.title)}{_applies(option)}\n\n{steps}".rstrip())
    if rule.examples:
        parts.append(f"{h2} Examples")
        parts += [_example_markdown(rule, e) for e in rule.examples]
    if rule.docs.references:
        refs = "\n".join(_md_reference(r) for r in rule.docs.references)
        parts.append(f"{h2} References\n\n{refs}")
    return "\n\n".join(p for p in parts if p)


def _example_markdown(rule: Rule, example: Example) -> str:
    title = f": {md_text(example.title)}" if example.title else ""
    out = [f"**{example.kind.value.capitalize()}**{title}. {_outcome(rule, example, '`')}"]
    for name, text in _files(example):
        fence = "```"
        while fence in text:
            fence += "`"
        lang = "yaml" if name == EXAMPLE_CONFIG else "xml"
        out.append(f"`{name}`\n\n{fence}{lang}\n{text.rstrip()}\n{fence}")
    return "\n\n".join(out)


def rules_markdown(rules: Iterable[Rule]) -> str:
    """docs/rules.md: a table of every rule, then each rule's documentation."""
    rules = list(rules)
    out = [
        "# Rules",
        f"<!-- Generated from the rule files; do not edit: {REGENERATE}. -->",
        "Each rule is one YAML file in `rules/` (see the README, *Writing a rule*). "
        "`sflint explain RULE` prints a rule's section in the terminal.",
        "| id | name | severity | scope | summary |\n|---|---|---|---|---|\n"
        + "\n".join(
            f"| [{r.id}](#{_anchor(r)}) | `{r.name}` | {r.severity.value} "
            f"| {'/'.join(s.value for s in r.scope)} | {_cell(r.summary)} |"
            for r in rules
        ),
    ]
    for r in rules:
        meta = [f"**{r.severity.value}**", f"scope: {scope_words(r)}"]
        if r.aggregate is not None:
            meta.append(f"one finding per {r.aggregate.by.value}")
        if r.tags:
            meta.append("tags: " + ", ".join(f"`{t}`" for t in r.tags))
        if r.security_severity is not None:
            meta.append(f"security severity: {r.security_severity}")
        out += [
            f"## {r.id} {r.name}",
            f"{md_text(r.summary)}\n\n" + " · ".join(meta),
            help_markdown(r, level=3),
        ]
    return "\n\n".join(out) + "\n"


def _anchor(rule: Rule) -> str:
    # GitHub's heading ids: lower case, spaces to hyphens ("## SFL001 integration-api-mfa").
    return f"{rule.id.lower()}-{rule.name}"


def _cell(text: str) -> str:
    return md_text(text).replace("|", "\\|")


def md_text(text: str) -> str:
    """Text as Markdown: HTML escaped outside code spans, so it shows as written."""
    out, pos = [], 0
    for span in _CODE_SPAN.finditer(text):
        out += [_html_escape(text[pos : span.start()]), span.group(0)]
        pos = span.end()
    out.append(_html_escape(text[pos:]))
    return "".join(out)


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _is_url(text: str) -> bool:
    return text.startswith(("https://", "http://")) and " " not in text


def _md_reference(ref: str) -> str:
    if _is_url(ref):
        return f"- <{ref}>"
    head, sep, url = ref.rpartition(" ")
    if sep and _is_url(url):
        return f"- [{head.rstrip(' :-')}]({url})"
    return f"- {md_text(ref)}"
