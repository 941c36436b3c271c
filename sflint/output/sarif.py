"""SARIF 2.1.0 output, shaped for GitHub code scanning.

The rule descriptors and the log around the results are built with sarif-om's object model
(imported when this format is chosen, never by ``sflint --help``). Its own serializer is not
used: it drops every value equal to a class default (a result's ``level: "warning"`` would
vanish and fall back to the rule's level, SARIF 2.1.0 §3.27.10), writes ``Suppression.state``
where the standard says ``status`` (§3.35.3) and stringifies unknown types silently.
``_to_json`` below does the conversion instead, from the ``schema_property_name`` that every
sarif-om field carries. Results, of which there can be thousands, are plain dicts in
sarif-om's property order: building sarif-om objects and converting them cost more than
everything else of a run with 2,000 findings.

What GitHub needs and the schema does not say (docs.github.com, "SARIF support for code
scanning"): ``message.text`` on every result, a location with a repository-relative,
percent-encoded URI and ``region.startLine``, ``security-severity`` as a *string* on rules
tagged ``security``, no ``automationDetails.id`` unless asked, because it overrides the
upload action's ``category``, and the limits that ``sarif_limits`` keeps to.
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import sarif_om as om

from sflint.fix.diff import byte_edit
from sflint.fix.values import MAX_PROPOSED_ELEMENTS, ByteEdit, ProposedFix
from sflint.model import Finding, Waiver
from sflint.output import rule_docs
from sflint.output.json_format import items_list
from sflint.output.jsontext import Raw, dumper
from sflint.output.sarif_limits import MAX_BYTES, MAX_RESULTS, MAX_TAGS, LeftOut, select

__all__ = ["ByteEdit", "FixProvider", "ProposedFix", "build_log", "byte_edit", "render"]

if TYPE_CHECKING:
    from sflint.output import Report
    from sflint.rules.model import Rule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "sflint"
# tool.driver.informationUri (§3.19.17): the Multitool warns without it (SARIF2005) but no
# public home page exists yet; set it here when one does, rather than invent one.
INFORMATION_URI: str | None = None
# partialFingerprints key (§3.27.17): versioned so that a future change of the fingerprint
# recipe is a new key, not a silent change of identity. primaryLocationLineHash is left to
# the upload action, which computes it from the file (GitHub, "Preventing duplicate alerts").
FINGERPRINT_KEY = "sflint/v1"
# GitHub truncates rule descriptions longer than this ("SARIF support", reportingDescriptor),
# and limits a rule's name to 255 characters.
_MAX_DESCRIPTION = 1024
_MAX_NAME = 255
# Text from the repository in a result (a permission or file name can be megabytes long) is
# clipped, so that one finding cannot take the whole size budget.
_MAX_MESSAGE = 2000
_MAX_PROPERTY = 1000
# The elements of an aggregated finding listed in its properties (the JSON lists all): past
# any real profile's objects (832 on the largest seen), and about 200 KB at most.
_MAX_ITEMS = 1000
# A result's fixes past this size (a clone's whole file) are left out: GitHub ignores fixes,
# and ``sflint check --diff`` shows them.
_MAX_FIXES_BYTES = 64 * 1024
# When the rule descriptors would take more than this, each is written short (its summary
# as every text, no Markdown), so that results still fit MAX_BYTES (1,000 rules at most).
_MAX_RULES_BYTES = 3_000_000
_SHORT = 200
# Values that must be written even when they equal sarif-om's class default: an absent
# result.level means "the rule's default level", not "warning" (§3.27.10), and GitHub reads
# defaultConfiguration.level for the alert's severity (§3.50.3).
_ALWAYS_WRITE = frozenset({"level"})
# Where a result sits in the log as json.dumps(indent=2) writes it: runs[0].results[i].
_RESULT_INDENT = " " * 8
_RESULT_SEPARATOR = ",\n" + _RESULT_INDENT


# Given a finding, the machine fixes it can apply (usually one per FixOption with an
# ``action``). Without one, ``report.proposed_fixes`` (computed by the check) is used.
FixProvider = Callable[["Finding"], Sequence[ProposedFix]]


def render(report: Report, fixes: FixProvider | None = None) -> str:
    dumps = dumper()
    log, results = _build(report, fixes, dumps)
    log["runs"][0]["results"] = [text for _, text in results]
    return dumps(log, "") + "\n"


def build_log(report: Report, fixes: FixProvider | None = None) -> dict[str, Any]:
    """The SARIF log as plain JSON values (for tests and for callers that merge runs)."""
    log, results = _build(report, fixes, dumper(), keep_values=True)
    log["runs"][0]["results"] = [value for value, _ in results]
    return log


# A result (when asked for: ``render`` needs only the text), and its text in the log.
Result = tuple[dict[str, Any], str]


def _build(
    report: Report,
    fixes: FixProvider | None,
    dumps: Callable[[Any, str], str],
    *,
    keep_values: bool = False,
) -> tuple[dict[str, Any], list[Result]]:
    """The log without its results, and the results that fit (sarif_limits), in order."""
    base = SRCROOT if report.base_uri else None
    rules = _rules_for(report)
    index = {rule_id: i for i, (rule_id, _) in enumerate(rules)}
    log = _envelope(report, [descriptor for _, descriptor in rules])
    if _size(dumps(log["runs"][0]["tool"], "")) > _MAX_RULES_BYTES:
        log = _envelope(report, [_short(descriptor) for _, descriptor in rules])
    # Each result is built and written once: a finding by identity (hashing one costs more,
    # and every finding lives as long as the report), a summary by value (select makes new
    # ones as it tries how many findings fit).
    done: dict[object, Result] = {}

    def result(entry: Finding | LeftOut) -> Result:
        key: object = entry if isinstance(entry, LeftOut) else id(entry)
        if key not in done:
            if isinstance(entry, LeftOut):
                value = _summary(entry, index[entry.rule], base)
            else:
                where = (entry.path, entry.line, entry.fingerprint)
                found = fixes(entry) if fixes else report.proposed_fixes.get(where, ())
                value = _result(entry, index[entry.rule], found, base)
            done[key] = (value if keep_values else {}, Raw(dumps(value, _RESULT_INDENT)))
        return done[key]

    def size(entry: Finding | LeftOut) -> int:
        return _size(result(entry)[1]) + len(_RESULT_SEPARATOR)

    security = {r.id: r.security_severity or 0.0 for r in report.rules}
    # 64 bytes to spare: the final newline, and the results' opening and closing lines.
    budget = MAX_BYTES - _size(dumps(log, "")) - 64
    chosen = select(report.findings, size, budget, security)
    results = [result(f) for f in chosen.findings] + [result(s) for s in chosen.left_out]
    if report.sarif_suppressed:
        used = sum(_size(text) + len(_RESULT_SEPARATOR) for _, text in results)
        results += _suppressed(report, result, budget - used, MAX_RESULTS - len(results))
    return log, results


def _suppressed(
    report: Report, result: Callable[[Finding], Result], budget: int, room: int
) -> list[Result]:
    """The suppressed findings as results with ``suppressions``, in the results and bytes
    the reported ones leave (never a summary of those left out: it would be an open alert
    about accepted findings); the JSON output keeps all of them."""
    out: list[Result] = []
    # The check gives every suppressed finding its waiver; one without (a report built by
    # hand) is left out rather than written as a result that would be an open alert.
    for f in [f for f in report.suppressed if f.waiver is not None][: max(room, 0)]:
        value = result(f)
        cost = _size(value[1]) + len(_RESULT_SEPARATOR)
        if cost > budget:
            break
        budget -= cost
        out.append(value)
    return out


def artifact_uri(path: str) -> str:
    """A project-relative path as a relative URI reference (RFC 3986 §4.2, SARIF §3.4.3).

    Everything but unreserved characters and "/" is percent-encoded, including "%" itself:
    Salesforce file names carry literal escapes (``Custom%3A Sales.profile-meta.xml``) that
    must reach the consumer as ``Custom%253A%20Sales...`` or it opens a different file. ":" is
    encoded too, so that a first segment such as ``a:b`` cannot be read as a scheme.
    """
    posix = path.replace("\\", "/")
    while posix.startswith("./"):
        posix = posix[2:]
    # A name that is not UTF-8 reached us as lone surrogates (PEP 383): encode the file's own
    # bytes, so the URI names the file that is on disk.
    return quote(posix.encode("utf-8", "surrogateescape"), safe="/")


def sarif_fixes(proposed: Iterable[ProposedFix], base: str | None = None) -> list[dict[str, Any]]:
    """SARIF ``fixes`` (§3.55) for a result, from the fix engine's byte edits.

    One artifactChange per file (§3.56), replacements in file order with a byte region
    (§3.57.3 deletedRegion, §3.57.4 insertedContent). Regions refer to the original file, so
    overlapping edits are a bug in the caller and raise ValueError. GitHub ignores fixes; VS
    Code's SARIF viewer and reviewdog apply them.
    """
    out: list[dict[str, Any]] = []
    for fix in proposed:
        changes = []
        by_path: dict[str, list[ByteEdit]] = {}
        for edit in fix.edits:
            by_path.setdefault(edit.path, []).append(edit)
        for path in sorted(by_path):
            edits = sorted(by_path[path], key=lambda e: (e.offset, e.length))
            for before, after in itertools.pairwise(edits):
                if before.offset + before.length > after.offset:
                    raise ValueError(f"overlapping edits in {path} at byte {after.offset}")
            replacements = [
                {
                    "deletedRegion": {"byteLength": e.length, "byteOffset": e.offset},
                    "insertedContent": _content(e.text),
                }
                for e in edits
                if e.offset >= 0 and e.length >= 0
            ]
            if replacements:
                changes.append(
                    {"artifactLocation": _artifact(path, base), "replacements": replacements}
                )
        if changes:
            out.append({"artifactChanges": changes, "description": _message(fix.description)})
    return out


def _content(text: str | bytes) -> dict[str, str]:
    if isinstance(text, str):
        return {"text": text}
    try:
        return {"text": text.decode("utf-8")}
    except UnicodeDecodeError:
        return {"binary": base64.b64encode(text).decode("ascii")}


def _envelope(report: Report, descriptors: list[Any]) -> dict[str, Any]:
    """The log with its one run and no results yet."""
    driver = om.ToolComponent(
        name=TOOL_NAME,
        information_uri=INFORMATION_URI,
        version=report.version,
        semantic_version=report.version,
        rules=descriptors,
    )
    run = om.Run(
        tool=om.Tool(driver=driver),
        results=[],
        # Lines are counted by the parser on Unicode text; GitHub only reads startLine.
        column_kind="unicodeCodePoints",
    )
    if report.sarif_category:
        # §3.17.4 / GitHub: the part of automationDetails.id up to the last "/" is the
        # category, the rest a run id; a trailing "/" makes the whole value the category.
        category = report.sarif_category
        run.automation_details = om.RunAutomationDetails(
            id=category if category.endswith("/") else category + "/"
        )
    log = om.SarifLog(version=SARIF_VERSION, schema_uri=SCHEMA_URI, runs=[run])
    doc: dict[str, Any] = _to_json(log)
    if report.base_uri:
        doc["runs"][0]["originalUriBaseIds"] = {SRCROOT: {"uri": report.base_uri}}
    if report.notices or report.suppressed or report.new_since is not None:
        doc["runs"][0]["invocations"] = [_invocation(report)]
    # $schema and version first, as every SARIF reader's examples show them.
    return {"$schema": doc.pop("$schema"), "version": doc.pop("version"), **doc}


def _invocation(report: Report) -> dict[str, Any]:
    """The run's invocation (§3.20): the notices about the triage (an expired exception, a
    baseline entry that matches nothing) as ``toolConfigurationNotifications`` (§3.20.22),
    and the counts every format shows in its properties."""
    base = SRCROOT if report.base_uri else None
    properties: dict[str, Any] = {
        "suppressed": {"total": len(report.suppressed), **report.suppressed_by()}
    }
    if report.new_since is not None:
        properties["newSince"] = {"revision": report.new_since, "preexisting": report.preexisting}
    out: dict[str, Any] = {"executionSuccessful": True}
    if report.notices:
        out["toolConfigurationNotifications"] = [
            {
                "level": n.level.value,
                "locations": [_location(n.location.path, n.location.line, base)],
                "message": _message(n.message),
            }
            for n in report.notices
        ]
    out["properties"] = properties
    return out


def _rules_for(report: Report) -> list[tuple[str, Any]]:
    """Descriptors for the enabled rules, plus a minimal one for any rule a finding names
    that is not among them, so that every result resolves (GitHub shows no metadata for an
    unknown ruleId). Duplicate ids are dropped: GitHub rejects them (ansible-lint #2667)."""
    seen: dict[str, Any] = {}
    for rule in report.rules:
        if rule.id not in seen:
            seen[rule.id] = _descriptor(rule)
    for finding in (*report.findings, *report.suppressed):
        if finding.rule not in seen:
            seen[finding.rule] = _bare_descriptor(finding)
    return sorted(seen.items())


def _descriptor(rule: Rule) -> Any:
    summary = rule.summary.strip() or rule.name
    why = rule.docs.why.strip() or summary
    properties: dict[str, Any] = {
        "tags": list(dict.fromkeys(rule.tags))[:MAX_TAGS],
        "precision": rule.precision,
    }
    if rule.security_severity is not None:
        properties["security-severity"] = _security_severity(rule.security_severity)
    return om.ReportingDescriptor(
        id=rule.id,
        name=_clip(rule.name, _MAX_NAME),
        short_description=om.MultiformatMessageString(text=_clip(summary)),
        full_description=om.MultiformatMessageString(text=_clip(why)),
        help=om.MultiformatMessageString(
            text=rule_docs.help_text(rule), markdown=rule_docs.help_markdown(rule)
        ),
        default_configuration=om.ReportingConfiguration(level=rule.severity.value),
        properties=properties,
    )


def _short(descriptor: Any) -> Any:
    """The descriptor with its summary, clipped short, as every text (see _MAX_RULES_BYTES)."""
    text = _clip(descriptor.short_description.text, _SHORT)
    return om.ReportingDescriptor(
        id=descriptor.id,
        name=descriptor.name,
        short_description=om.MultiformatMessageString(text=text),
        full_description=om.MultiformatMessageString(text=text),
        help=om.MultiformatMessageString(text=text),
        default_configuration=descriptor.default_configuration,
        properties=descriptor.properties,
    )


def _bare_descriptor(finding: Finding) -> Any:
    text = f"{finding.rule} {finding.name}"
    return om.ReportingDescriptor(
        id=finding.rule,
        name=finding.name,
        short_description=om.MultiformatMessageString(text=text),
        full_description=om.MultiformatMessageString(text=text),
        help=om.MultiformatMessageString(text=text),
        default_configuration=om.ReportingConfiguration(level=finding.severity.value),
    )


def _result(
    finding: Finding, rule_index: int, proposed: Sequence[ProposedFix], base: str | None
) -> dict[str, Any]:
    """One result, its properties in sarif-om's order (the order the snapshots show)."""
    properties: dict[str, Any] = {
        "component": {
            "type": finding.type_name,
            "name": _clip(finding.component_name, _MAX_PROPERTY),
        },
        "key": _clip(finding.key, _MAX_PROPERTY),
    }
    if finding.persona is not None:
        properties["persona"] = _clip(finding.persona, _MAX_PROPERTY)
    # Per result, in its property bag (SARIF 2.1.0 §3.8): GitHub reads
    # ``precision`` from the rule's property bag only (oasis-tcs/sarif-spec#611), and a
    # persona detected from a name makes one result less certain than its rule.
    properties["confidence"] = finding.confidence.value
    if finding.fixes:
        properties["fixOptions"] = [_clip(o.title, _MAX_PROPERTY) for o in finding.fixes]
    result: dict[str, Any] = {
        "message": _message(finding.message.strip() or f"{finding.rule} {finding.name}")
    }
    if finding.occurrences > 1:
        properties["occurrences"] = finding.occurrences
        properties["lines"] = list(finding.lines)
    if finding.items:
        # Every element an aggregated finding stands for, as in the JSON, up to a bound: a
        # hostile file's thousands of elements must not take the run's size budget.
        properties["items"] = [_clip_item(i) for i in items_list(finding, _MAX_ITEMS)]
        if len(finding.items) > _MAX_ITEMS:
            properties["itemsLeftOut"] = len(finding.items) - _MAX_ITEMS
    if finding.occurrences > MAX_PROPOSED_ELEMENTS and any(o.action for o in finding.fixes):
        properties["fixesLeftOut"] = (
            f"the file grants it {finding.occurrences:,} times; sflint check --diff shows the fix"
        )
    elif sum(len(e.text) for fix in proposed for e in fix.edits) > _MAX_FIXES_BYTES:
        properties["fixesLeftOut"] = "too large for SARIF; sflint check --diff shows them"
    elif fixes := sarif_fixes(proposed, base):
        result["fixes"] = fixes
    result["level"] = finding.severity.value
    result["locations"] = [_location(finding.path, finding.line, base)]
    result["partialFingerprints"] = {FINGERPRINT_KEY: finding.fingerprint}
    result["properties"] = properties
    result["ruleId"] = finding.rule
    result["ruleIndex"] = rule_index
    if finding.waiver is not None:
        result["suppressions"] = [_suppression(finding.waiver, base)]
    return result


def _clip_item(item: dict[str, Any]) -> dict[str, Any]:
    values = {k: _clip(v, _MAX_PROPERTY) for k, v in item["values"].items()}
    key, path = _clip(item["key"], _MAX_PROPERTY), _clip(item["path"], _MAX_PROPERTY)
    return {**item, "key": key, "path": path, "values": values}


def _suppression(waiver: Waiver, base: str | None) -> dict[str, Any]:
    """SARIF 2.1.0 §3.35: ``kind`` inSource for a comment in the file, external for the
    config or the baseline (§3.35.2), ``status`` accepted (§3.35.3), the reason as
    ``justification`` (§3.35.5) and where it is written as ``location`` (§3.35.6).
    GitHub's "SARIF support for code scanning" lists ``suppressions[].state``: a suppression
    whose state is ``accepted`` closes the alert; users report suppressed results arriving
    as open alerts all the same (github/codeql-action#1230), so ``--sarif-suppressed omit``
    leaves them out (docs/security.md)."""
    out: dict[str, Any] = {
        "kind": waiver.kind.sarif_kind,
        "status": "accepted",
        "justification": _clip(waiver.reason or waiver.kind.value, _MAX_MESSAGE),
        "location": _location(waiver.location.path, waiver.location.line, base),
    }
    properties: dict[str, Any] = {"acceptedBy": waiver.kind.value}
    if waiver.owner:
        properties["owner"] = _clip(waiver.owner, _MAX_PROPERTY)
    if waiver.expires:
        properties["expires"] = waiver.expires
    out["properties"] = properties
    return out


def _summary(left_out: LeftOut, rule_index: int, base: str | None) -> dict[str, Any]:
    """The result that says how many findings of a rule the SARIF leaves out (sarif_limits)."""
    return {
        "message": _message(left_out.message),
        "level": left_out.severity.value,
        "locations": [_location(left_out.path, left_out.line, base)],
        "partialFingerprints": {FINGERPRINT_KEY: left_out.fingerprint},
        "properties": {"leftOut": left_out.count},
        "ruleId": left_out.rule,
        "ruleIndex": rule_index,
    }


def _location(path: str, line: int, base: str | None) -> dict[str, Any]:
    line = max(line, 1)
    return {
        "physicalLocation": {
            "artifactLocation": _artifact(path, base),
            "region": {"endLine": line, "startLine": line},
        }
    }


# The uriBaseId of every artifact location (SARIF 2.1.0 §3.4.4, §3.14.14): URIs stay
# relative to the repository root, as GitHub requires ("SARIF support for code scanning":
# a relative uri is relative to the root of the repository), and originalUriBaseIds says
# where that root was on the machine that ran sflint, for viewers that open the files.
SRCROOT = "SRCROOT"


def _artifact(path: str, base: str | None) -> dict[str, str]:
    place = {"uri": artifact_uri(path)}
    if base is not None:
        place["uriBaseId"] = base
    return place


# A run of backslashes before a square bracket, or a bracket alone.
_LINK_SYNTAX = re.compile(r"(\\*)([\[\]])")


def _message(text: str) -> dict[str, str]:
    """A plain-text message (§3.11.3) whose text shows as written.

    SARIF 2.1.0 §3.11.6: in a plain text message, ``[text](destination)`` is an embedded
    link, and literal square brackets in link text "SHALL be escaped with a backslash".
    Messages carry names from the repository, so a permission named ``[click](https://x)``
    would become a link on the alert: every bracket is escaped instead, and the backslashes
    right before one are doubled (the grammar's escaped ``\\``), so nothing reads as a link.
    """
    text = _clip(text, _MAX_MESSAGE)
    if "[" in text or "]" in text:
        text = _LINK_SYNTAX.sub(lambda m: m.group(1) * 2 + "\\" + m.group(2), text)
    return {"text": text}


def _security_severity(value: float) -> str:
    # GitHub parses the string as a number 0.0-10.0; a JSON number fails the upload.
    return f"{value:.1f}" if round(value, 1) == value else repr(float(value))


def _clip(text: str, limit: int = _MAX_DESCRIPTION) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _size(text: str) -> int:
    """Bytes of ``text`` in the UTF-8 file (a lone surrogate of a non-UTF-8 file name is
    written as U+FFFD, three bytes too)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _to_json(value: Any) -> Any:
    """sarif-om objects to JSON values, by each field's SARIF property name."""
    fields = getattr(type(value), "__attrs_attrs__", None)
    if fields is not None:
        out: dict[str, Any] = {}
        for field in fields:
            item = getattr(value, field.name)
            if item is None:
                continue
            default = field.default
            if hasattr(default, "factory"):
                default = default.factory()
            if item == default and type(item) is type(default) and field.name not in _ALWAYS_WRITE:
                continue
            name = field.metadata["schema_property_name"]
            if isinstance(value, om.Suppression) and name == "state":
                name = "status"  # SARIF 2.1.0 §3.35.3; sarif-om predates the rename
            out[name] = _to_json(item)
        return out
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot write {type(value).__name__} to SARIF")
