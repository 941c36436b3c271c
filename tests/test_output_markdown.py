from __future__ import annotations

from typing import Any

from sflint.output import Format, markdown
from sflint.output import render as render_format
from tests.factories import API_MFA, make_finding, make_report, scenario_report


def test_snapshot(snapshot: Any) -> None:
    assert render_format(Format.MARKDOWN, scenario_report()) == snapshot


def test_title_counts_by_severity() -> None:
    text = markdown.render(scenario_report())
    assert text.splitlines()[0] == "## sflint: 3 findings (1 error, 1 warning, 1 note)"


def test_grouped_by_persona_then_files() -> None:
    text = markdown.render(scenario_report())
    persona = text.index("### Persona: Commission app connection")
    files = text.index("### Files")
    assert persona < text.index("#### SFL001") < files < text.index("#### SFL003")


def test_fix_options_in_details() -> None:
    text = markdown.render(scenario_report())
    block = text[text.index("<details>") : text.index("</details>")]
    assert "<summary>How to fix (2 options)</summary>" in block
    assert "**Disable TwoFactorApi in Custom: Sales Profile**" in block
    assert "1. Open Custom: Sales Profile.\n2. Set TwoFactorApi to false." in block
    assert text.count("<details>") == 1  # findings without fix options get none


def test_user_text_is_escaped() -> None:
    text = markdown.render(scenario_report())
    assert r"Unknown permission \`Api\|Only\` &lt;b&gt;bold&lt;/b&gt; &amp; \*stars\*" in text
    # A message line that starts like a heading stays text.
    assert "<br>\n\\# not a heading, - not a list" in text
    assert "<b>" not in text


def test_escape_helpers() -> None:
    assert markdown.escape("a|b<c>`d`\n# h\n1. x\n- y") == (
        "a\\|b&lt;c&gt;\\`d\\`<br>\n\\# h<br>\n1\\. x<br>\n\\- y"
    )
    assert markdown.code("a`b") == "``a`b``"
    assert markdown.code("`x`") == "`` `x` ``"


def test_path_with_backticks_stays_one_code_span() -> None:
    finding = make_finding(API_MFA, "odd`name.profile-meta.xml", 4, "m")
    text = markdown.render(make_report((finding,), (API_MFA,)))
    assert "``odd`name.profile-meta.xml:4``" in text


def test_no_findings_is_a_clear_positive_line(snapshot: Any) -> None:
    report = scenario_report()._replace(findings=())
    text = markdown.render(report)
    assert text == snapshot
    assert "✅ No findings in 3 files and 3 components." in text
    assert markdown.render(make_report((), ())) == "## sflint: no findings\n\n✅ No findings.\n"


def test_suppressed_are_counted_not_shown() -> None:
    report = scenario_report()
    text = markdown.render(
        report._replace(findings=report.findings[:1], suppressed=report.findings[1:])
    )
    assert "2 suppressed findings not shown." in text
    assert "#### SFL001" not in text
