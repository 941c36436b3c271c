"""Hand-made Rule, Finding and Report values for formatter tests (no YAML, no parsing)."""

from __future__ import annotations

from typing import Any

from sflint.model import ComponentType, Finding, FixOption, Severity
from sflint.output import Report
from sflint.rules.model import Docs, FixTemplate, Rule
from sflint.rules.scope import Scope

# Formatters never evaluate a rule, so any object stands in for its compiled matcher.
_NO_MATCHER: Any = object()


def make_rule(
    id: str = "SFL001",
    name: str = "integration-api-mfa",
    *,
    severity: Severity = Severity.ERROR,
    tags: tuple[str, ...] = ("security", "mfa"),
    security_severity: float | None = 8.0,
    summary: str = "An integration user's access enables API MFA",
    why: str = "API logins of a user with TwoFactorApi need a second factor.",
    how_to_fix: str = "Remove TwoFactorApi from the integration user's access.",
    fixes: tuple[FixTemplate, ...] = (),
    references: tuple[str, ...] = (),
    precision: str = "high",
) -> Rule:
    return Rule(
        id=id,
        name=name,
        summary=summary,
        severity=severity,
        tags=tags,
        security_severity=security_severity,
        precision=precision,
        scope=(Scope.FILE,),
        component_types=tuple(ComponentType),
        persona_kinds=(),
        match=_NO_MATCHER,
        message="{permission} is enabled",
        notes=(),
        fixes=fixes,
        docs=Docs(why=why, how_to_fix=how_to_fix, references=references),
        examples=(),
        source=f"rules/{id}-{name}.yaml",
    )


def make_finding(
    rule: Rule,
    path: str,
    line: int,
    message: str,
    *,
    severity: Severity | None = None,
    component_type: ComponentType | None = ComponentType.PERMISSION_SET,
    component_name: str = "Integration",
    key: str = "TwoFactorApi",
    persona: str | None = None,
    fixes: tuple[FixOption, ...] = (),
) -> Finding:
    return Finding(
        rule=rule.id,
        name=rule.name,
        severity=severity or rule.severity,
        path=path,
        line=line,
        message=message,
        component_type=component_type,
        component_name=component_name,
        key=key,
        persona=persona,
        fixes=fixes,
    )


def make_report(
    findings: tuple[Finding, ...],
    rules: tuple[Rule, ...],
    **kwargs: Any,
) -> Report:
    return Report(findings=findings, rules=rules, version="0.1.0", **kwargs)


# The shared scenario of the formatter tests: three severities, a security rule with and
# rules without security_severity, Salesforce file names with a literal "%3A" and spaces, a
# multi-line message with ":", "," and "%", and user text full of Markdown/HTML specials.
API_MFA = make_rule(
    fixes=(
        FixTemplate(
            id="edit-existing",
            title="Disable TwoFactorApi in the permission set",
            steps=("Open {component}.", "Set TwoFactorApi to false."),
            action="disable-permission",
            applies_to=("PermissionSet",),
        ),
        FixTemplate(
            id="clone",
            title="Clone the set without TwoFactorApi",
            steps=("Clone {component}.", "Assign the clone to the integration user."),
            action="clone-without-permission",
        ),
    ),
    references=(
        "https://help.salesforce.com/s/articleView?id=sf.security_require_two-factor_authentication.htm",
        "Salesforce MFA FAQ https://help.salesforce.com/s/articleView?id=000388806",
    ),
)
PERMISSION_NAME = make_rule(
    "SFL003",
    "mfa-permission-name",
    severity=Severity.WARNING,
    tags=("correctness", "mfa"),
    security_severity=None,
    summary="A user permission name that looks like an MFA permission does not exist",
    why="The deploy fails on an unknown user permission.",
    how_to_fix="Use the real name, TwoFactorApi.",
    precision="very-high",
)
UNKNOWN_PERMISSION = make_rule(
    "SFL004",
    "unknown-user-permission",
    severity=Severity.NOTE,
    tags=("correctness",),
    security_severity=None,
    summary="A user permission not in the reference catalogue",
    why="A misspelt permission fails the deploy.",
    how_to_fix="",
    precision="medium",
)

PROFILE_PATH = "force-app/main/default/profiles/Custom%3A Sales Profile.profile-meta.xml"
SPACES_PATH = "force-app/main/default/permissionsets/Sales Ops.permissionset-meta.xml"
PLAIN_PATH = "force-app/main/default/permissionsets/Integration.permissionset-meta.xml"
MULTILINE_MESSAGE = (
    "ForceTwoFactorInApi is not a user permission: the deploy fails,\n"
    "use TwoFactorApi (100% of API logins need it)\r\n"
    "# not a heading, - not a list"
)


def scenario_report(**kwargs: Any) -> Report:
    findings = (
        make_finding(
            UNKNOWN_PERMISSION,
            PLAIN_PATH,
            9,
            "Unknown permission `Api|Only` <b>bold</b> & *stars*",
            key="Api|Only",
        ),
        make_finding(
            API_MFA,
            PROFILE_PATH,
            12,
            "Commission app connection: TwoFactorApi is enabled by Custom: Sales Profile",
            component_type=ComponentType.PROFILE,
            component_name="Custom: Sales Profile",
            persona="Commission app connection",
            fixes=(
                FixOption(
                    id="edit-existing",
                    title="Disable TwoFactorApi in Custom: Sales Profile",
                    steps=("Open Custom: Sales Profile.", "Set TwoFactorApi to false."),
                    action="disable-permission",
                ),
                FixOption(
                    id="clone",
                    title="Clone the profile without TwoFactorApi",
                    steps=("Clone Custom: Sales Profile.", "Assign the clone."),
                ),
            ),
        ),
        make_finding(
            PERMISSION_NAME,
            SPACES_PATH,
            7,
            MULTILINE_MESSAGE,
            component_name="Sales Ops",
            key="ForceTwoFactorInApi",
        ),
    )
    return make_report(
        findings,
        (API_MFA, PERMISSION_NAME, UNKNOWN_PERMISSION),
        files=3,
        components=3,
        **kwargs,
    )
