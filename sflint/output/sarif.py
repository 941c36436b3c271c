"""SARIF 2.1.0 output, shaped for GitHub code scanning.

sarif-om is used for the object model only and stays behind this module (it is imported
when this format is chosen, never by ``sflint --help``). Its own serializer is not used: it
drops every value equal to a class default (a result's ``level: "warning"`` would vanish and
fall back to the rule's level, SARIF 2.1.0 §3.27.10), writes ``Suppression.state`` where the
standard says ``status`` (§3.35.3) and stringifies unknown types silently. ``_to_json`` below
does the conversion instead, from the ``schema_property_name`` that every sarif-om field
carries.

What GitHub needs and the schema does not say (docs.github.com, "SARIF support for code
scanning"): ``message.text`` on every result, a location with a repository-relative,
percent-encoded URI and ``region.startLine``, ``security-severity`` as a *string* on rules
tagged ``security``, and no ``automationDetails.id`` unless asked, because it overrides the
upload action's ``category``.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import sarif_om as om

from sflint.fix.diff import byte_edit
from sflint.fix.values import ByteEdit, ProposedFix
from sflint.output import rule_docs

__all__ = ["ByteEdit", "FixProvider", "ProposedFix", "build_log", "byte_edit", "render"]

if TYPE_CHECKING:
    from sflint.model import Finding
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
# GitHub truncates rule descriptions longer than this ("SARIF support", reportingDescriptor).
_MAX_DESCRIPTION = 1024
# Values that must be written even when they equal sarif-om's class default: an absent
# result.level means "the rule's default level", not "warning" (§3.27.10), and GitHub reads
# defaultConfiguration.level for the alert's severity (§3.50.3).
_ALWAYS_WRITE = frozenset({"level"})


# Given a finding, the machine fixes it can apply (usually one per FixOption with an
# ``action``). Without one, ``report.proposed_fixes`` (computed by the check) is used.
FixProvider = Callable[["Finding"], Sequence[ProposedFix]]


def render(report: Report, fixes: FixProvider | None = None) -> str:
    log = build_log(report, fixes)
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def build_log(report: Report, fixes: FixProvider | None = None) -> dict[str, Any]:
    """The SARIF log as plain JSON values (for tests and for callers that merge runs)."""
    rules = _rules_for(report)
    index = {rule_id: i for i, (rule_id, _) in enumerate(rules)}
    driver = om.ToolComponent(
        name=TOOL_NAME,
        information_uri=INFORMATION_URI,
        version=report.version,
        semantic_version=report.version,
        rules=[descriptor for _, descriptor in rules],
    )
    results = [
        _result(
            finding,
            index[finding.rule],
            fixes(finding)
            if fixes
            else report.proposed_fixes.get((finding.path, finding.fingerprint), ()),
        )
        for finding in sorted(report.findings, key=lambda f: f.sort_key)
    ]
    run = om.Run(
        tool=om.Tool(driver=driver),
        results=results,
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
        _with_base(doc["runs"][0], report.base_uri)
    # $schema and version first, as every SARIF reader's examples show them.
    return {"$schema": doc.pop("$schema"), "version": doc.pop("version"), **doc}


# The uriBaseId of every artifact location (SARIF 2.1.0 §3.4.4, §3.14.14): URIs stay
# relative to the repository root, as GitHub requires ("SARIF support for code scanning":
# a relative uri is relative to the root of the repository), and originalUriBaseIds says
# where that root was on the machine that ran sflint, for viewers that open the files.
SRCROOT = "SRCROOT"


def _with_base(run: dict[str, Any], base_uri: str) -> None:
    run["originalUriBaseIds"] = {SRCROOT: {"uri": base_uri}}
    for result in run.get("results", []):
        places = [loc["physicalLocation"]["artifactLocation"] for loc in result["locations"]]
        places += [
            c["artifactLocation"] for f in result.get("fixes", []) for c in f["artifactChanges"]
        ]
        for place in places:
            place["uriBaseId"] = SRCROOT


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


def sarif_fixes(proposed: Iterable[ProposedFix]) -> list[dict[str, Any]]:
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
                om.Replacement(
                    deleted_region=om.Region(byte_offset=e.offset, byte_length=e.length),
                    inserted_content=_content(e.text),
                )
                for e in edits
                if e.offset >= 0 and e.length >= 0
            ]
            if replacements:
                changes.append(
                    om.ArtifactChange(
                        artifact_location=om.ArtifactLocation(uri=artifact_uri(path)),
                        replacements=replacements,
                    )
                )
        if changes:
            fix_obj = om.Fix(artifact_changes=changes, description=om.Message(text=fix.description))
            out.append(_to_json(fix_obj))
    return out


def _content(text: str | bytes) -> Any:
    if isinstance(text, str):
        return om.ArtifactContent(text=text)
    try:
        return om.ArtifactContent(text=text.decode("utf-8"))
    except UnicodeDecodeError:
        return om.ArtifactContent(binary=base64.b64encode(text).decode("ascii"))


def _rules_for(report: Report) -> list[tuple[str, Any]]:
    """Descriptors for the enabled rules, plus a minimal one for any rule a finding names
    that is not among them, so that every result resolves (GitHub shows no metadata for an
    unknown ruleId). Duplicate ids are dropped: GitHub rejects them (ansible-lint #2667)."""
    seen: dict[str, Any] = {}
    for rule in report.rules:
        if rule.id not in seen:
            seen[rule.id] = _descriptor(rule)
    for finding in report.findings:
        if finding.rule not in seen:
            seen[finding.rule] = _bare_descriptor(finding)
    return sorted(seen.items())


def _descriptor(rule: Rule) -> Any:
    summary = rule.summary.strip() or rule.name
    why = rule.docs.why.strip() or summary
    properties: dict[str, Any] = {
        "tags": list(dict.fromkeys(rule.tags)),
        "precision": rule.precision,
    }
    if rule.security_severity is not None:
        properties["security-severity"] = _security_severity(rule.security_severity)
    return om.ReportingDescriptor(
        id=rule.id,
        name=rule.name,
        short_description=om.MultiformatMessageString(text=_clip(summary)),
        full_description=om.MultiformatMessageString(text=_clip(why)),
        help=om.MultiformatMessageString(
            text=rule_docs.help_text(rule), markdown=rule_docs.help_markdown(rule)
        ),
        default_configuration=om.ReportingConfiguration(level=rule.severity.value),
        properties=properties,
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


def _result(finding: Finding, rule_index: int, proposed: Sequence[ProposedFix]) -> Any:
    line = max(finding.line, 1)
    properties: dict[str, Any] = {
        "component": {"type": finding.type_name, "name": finding.component_name},
        "key": finding.key,
    }
    if finding.persona is not None:
        properties["persona"] = finding.persona
    if finding.fixes:
        properties["fixOptions"] = [option.title for option in finding.fixes]
    result = om.Result(
        rule_id=finding.rule,
        rule_index=rule_index,
        level=finding.severity.value,
        message=om.Message(text=finding.message.strip() or f"{finding.rule} {finding.name}"),
        locations=[
            om.Location(
                physical_location=om.PhysicalLocation(
                    artifact_location=om.ArtifactLocation(uri=artifact_uri(finding.path)),
                    region=om.Region(start_line=line, end_line=line),
                )
            )
        ],
        partial_fingerprints={FINGERPRINT_KEY: finding.fingerprint},
        properties=properties,
    )
    fixes = sarif_fixes(proposed)
    if fixes:
        result.fixes = fixes
    return result


def _security_severity(value: float) -> str:
    # GitHub parses the string as a number 0.0-10.0; a JSON number fails the upload.
    return f"{value:.1f}" if round(value, 1) == value else repr(float(value))


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_DESCRIPTION else text[: _MAX_DESCRIPTION - 1] + "…"


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
