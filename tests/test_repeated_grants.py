"""A permission granted again and again in one file (issue 9: "300,000 duplicate grants give
600,000 findings and a 621 MB JSON"): one Grant from the reader, one finding per rule at the
first element with the count in its message, JSON and SARIF, and ``--fix`` disabling every
element. The worst case the size limit allows runs in a fresh process in every format."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sflint.kinds import Role, kind_of
from sflint.metadata import cache, reader
from sflint.metadata.reader import parse_bytes, suppressions
from sflint.model import (
    ComponentType,
    Grant,
    Location,
    ObjectAccess,
    ObjectGrant,
    Problem,
    ProblemKind,
)
from sflint.safeio import METADATA_LIMIT
from tests.conftest import run_check, run_cli
from tests.sarif_validation import assert_valid_sarif
from tests.test_attacks_combined import RUNNER

PS = ComponentType.PERMISSION_SET
NS = "http://soap.sforce.com/2006/04/metadata"
SETS = "force-app/main/default/permissionsets"
BIG = f"{SETS}/Big.permissionset-meta.xml"
HEAD = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<PermissionSet xmlns="{NS}">\n'
    "    <label>Big</label>\n    <license>SalesforceAPIIntegrationPsl</license>\n"
)
# 111 bytes, 4 lines: the first grant is at line 5, the n-th at 5 + 4 (n - 1).
GRANT = (
    "    <userPermissions>\n        <enabled>true</enabled>\n"
    "        <name>TwoFactorApi</name>\n    </userPermissions>\n"
)


def _grant(name: str, enabled: str = "true") -> str:
    return GRANT.replace("true", enabled).replace("TwoFactorApi", name)


def _set(body: str) -> bytes:
    return (HEAD + body + "</PermissionSet>\n").encode()


def _project(root: Path, data: bytes) -> Path:
    (root / SETS).mkdir(parents=True)
    (root / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "force-app"}]}')
    (root / BIG).write_bytes(data)
    return root


def _general(data: bytes) -> reader.ParsedFile:
    """The general reader (lxml's iterparse) on ``data``, as parse_bytes would call it."""
    found = suppressions(data, BIG)
    roots = kind_of(PS).roots(Role.MAIN)
    parsed = reader._parse(data, BIG, roots, reader._marks(found))
    return replace(parsed, suppressions=found) if found else parsed


# --- the reader -----------------------------------------------------------------------------


def test_copies_of_a_grant_are_one_grant_with_their_count_and_first_lines() -> None:
    data = _set(GRANT * 25 + _grant("ApiEnabled") + GRANT)
    parsed = parse_bytes(data, BIG, PS)
    assert parsed.grants == (
        Grant(
            "TwoFactorApi",
            True,
            Location(BIG, 5),
            count=26,
            also=(9, 13, 17, 21, 25, 29, 33, 37, 41),
        ),
        Grant("ApiEnabled", True, Location(BIG, 105)),
    )
    assert parsed.grants[0].lines == (5, 9, 13, 17, 21, 25, 29, 33, 37, 41)
    assert parsed.problems == ()
    # The general reader (a CDATA name is not plain) reads the same.
    cdata = data.replace(b"<name>ApiEnabled</name>", b"<name><![CDATA[ApiEnabled]]></name>")
    assert parse_bytes(cdata, BIG, PS) == _general(cdata) == parsed


def test_repeats_of_an_object_permission_are_kept_once_on_both_paths() -> None:
    # 1,000 copies of one <objectPermissions> grant nothing more than the first; kept, they
    # would be one SFL016 finding each.
    obj = (
        "    <objectPermissions>\n        <allowRead>true</allowRead>\n"
        "        <modifyAllRecords>true</modifyAllRecords>\n"
        "        <object>Account</object>\n    </objectPermissions>\n"
    )
    other = obj.replace("Account", "Case")
    data = _set(obj * 1000 + other + obj)
    first = ObjectGrant("Account", (ObjectAccess.READ, ObjectAccess.MODIFY_ALL), Location(BIG, 5))
    case = ObjectGrant("Case", first.access, Location(BIG, 5 + 5 * 1000))
    assert parse_bytes(data, BIG, PS).object_grants == (first, case)
    assert _general(data).object_grants == (first, case)


def test_a_grant_both_enabled_and_disabled_is_ambiguous_and_read_as_enabled() -> None:
    data = _set(_grant("TwoFactorApi", "false") + GRANT + GRANT)
    parsed = parse_bytes(data, BIG, PS)
    assert parsed.grants == (
        Grant("TwoFactorApi", False, Location(BIG, 5)),
        Grant("TwoFactorApi", True, Location(BIG, 9), count=2, also=(13,)),
    )
    assert parsed.problems == (
        Problem(
            "<userPermissions> TwoFactorApi is granted both enabled (line 9) and disabled"
            " (line 5) in this file; sflint reads it as enabled",
            Location(BIG, 9),
            ProblemKind.AMBIGUOUS,
        ),
    )
    assert _general(data) == parsed


def test_only_a_permission_granted_both_ways_is_a_contradiction() -> None:
    """Copies split by a comment are two grants of one value, not a contradiction; a
    permission granted both ways is one, wherever the comments are."""
    split = _set("    <!-- sflint: ignore SFL001 -->\n" + GRANT + GRANT)
    assert len(parse_bytes(split, BIG, PS).grants) == 2
    assert parse_bytes(split, BIG, PS).problems == ()
    both = _set(
        "    <!-- sflint: ignore SFL001 -->\n" + GRANT + GRANT + _grant("TwoFactorApi", "false")
    )
    assert [p.message for p in parse_bytes(both, BIG, PS).problems] == [
        "<userPermissions> TwoFactorApi is granted both enabled (line 6) and disabled"
        " (line 14) in this file; sflint reads it as enabled"
    ]
    assert _general(both) == parse_bytes(both, BIG, PS)


def test_a_suppressed_copy_is_not_merged_with_the_others() -> None:
    """A comment before the first of two copies must not silence the second."""
    data = _set("    <!-- sflint: ignore SFL001 -->\n" + GRANT + GRANT + GRANT)
    parsed = parse_bytes(data, BIG, PS)
    assert parsed.grants == (
        Grant("TwoFactorApi", True, Location(BIG, 6)),
        Grant("TwoFactorApi", True, Location(BIG, 10), count=2, also=(14,)),
    )
    assert _general(data) == parsed


def test_a_repeated_grant_is_cached_with_its_count() -> None:
    parsed = parse_bytes(_set(GRANT * 12), BIG, PS)
    value = cache.encode(parsed)
    assert value["grants"] == [
        ["TwoFactorApi", True, 5, 12, [9, 13, 17, 21, 25, 29, 33, 37, 41]],
    ]
    assert cache.decode(json.loads(json.dumps(value)), BIG) == parsed
    # A row the reader never writes is a miss, not a grant.
    for row in (
        ["TwoFactorApi", True, 5, 1, []],
        ["TwoFactorApi", True, 5, 12, [9]],
        ["TwoFactorApi", True, 5, 2, [0]],
        ["TwoFactorApi", True, 5, "2", [9]],
    ):
        assert cache.decode({**value, "grants": [row]}, BIG) is None


# --- findings and outputs ---------------------------------------------------------------------


SFL001_TEXT = (
    'Integration persona "permission set Big" (detected: its license is'
    " SalesforceAPIIntegrationPsl (Salesforce API Integration)) gets Multi-Factor Authentication"
    " for API Logins (TwoFactorApi) through permission set Big: every API login of this user"
    " will ask for a second factor, and the app's connection will fail. Multi-Factor"
    " Authentication for User Interface Logins (ForceTwoFactor) may stay."
)
# SFL005 on the same element is folded into SFL001 (issue 11), after the count.
FOLDED = (
    " The same element is also SFL005 (api-mfa-requires-ui-mfa), reported here instead: its"
    " file enables TwoFactorApi without Multi-Factor Authentication for User Interface Logins"
    " (ForceTwoFactor), the documented prerequisite. Removing TwoFactorApi settles both."
)


def test_one_finding_per_rule_at_the_first_copy_with_the_count(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", _set(GRANT * 30))
    findings = run_check(project).findings
    repeated = (
        " Granted 30 times in this file (lines 5, 9, 13, 17, 21, 25, 29, 33, 37, 41 and 20 more)."
    )
    assert [(f.rule, f.path, f.line, f.occurrences, f.message) for f in findings] == [
        ("SFL001", BIG, 5, 30, SFL001_TEXT + repeated + FOLDED),
    ]
    assert findings[0].lines == (5, 9, 13, 17, 21, 25, 29, 33, 37, 41)


def test_two_copies_are_named_with_both_lines(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", _set(GRANT * 2))
    [first] = run_check(project).findings
    assert first.message.endswith(" Granted 2 times in this file (lines 5 and 9)." + FOLDED)


def test_json_and_sarif_carry_the_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path / "p", _set(GRANT * 3 + _grant("ApiEnabled")))
    args = ("check", str(project), "--no-cache", "--select", "SFL001")
    _, out, _ = run_cli(capsys, *args, "--format", "json")
    [finding] = json.loads(out)["findings"]
    assert {k: finding[k] for k in ("rule", "path", "line", "occurrences", "lines")} == {
        "rule": "SFL001",
        "path": BIG,
        "line": 5,
        "occurrences": 3,
        "lines": [5, 9, 13],
    }
    _, out, _ = run_cli(capsys, *args, "--format", "sarif")
    assert_valid_sarif(out)
    [result] = json.loads(out)["runs"][0]["results"]
    assert (result["properties"]["occurrences"], result["properties"]["lines"]) == (3, [5, 9, 13])
    # Its machine fix removes all three elements: 111 bytes each, from the first.
    start = _set(GRANT * 3).index(GRANT.encode())
    [fix] = result["fixes"]
    assert [r["deletedRegion"] for r in fix["artifactChanges"][0]["replacements"]] == [
        {"byteLength": 111, "byteOffset": start + 111 * i} for i in range(3)
    ]


def test_sarif_leaves_out_the_fix_of_a_grant_copied_more_than_100_times(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path / "p", _set(GRANT * 101))
    _, out, _ = run_cli(capsys, "check", str(project), "--no-cache", "--format", "sarif")
    assert_valid_sarif(out)
    results = json.loads(out)["runs"][0]["results"]
    assert [(r["ruleId"], "fixes" in r, r["properties"].get("fixesLeftOut")) for r in results] == [
        ("SFL001", False, "the file grants it 101 times; sflint check --diff shows the fix"),
    ]


def test_fix_disables_every_copy_and_says_how_many(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path / "p", _set(GRANT * 1_000 + _grant("ApiEnabled")))
    args = ("check", str(project), "--no-cache", "--select", "SFL001")
    code, out, err = run_cli(capsys, *args, "--diff")
    assert (code, err) == (
        1,
        f"{BIG}: would disable TwoFactorApi in all 1,000 elements that grant it.\n",
    )
    assert out.count("\n-    <userPermissions>\n") == 1_000
    code, out, err = run_cli(capsys, *args, "--fix")
    assert (code, err) == (
        0,
        f"{BIG}: disabled TwoFactorApi in all 1,000 elements that granted it.\n"
        "Fixed 1 of 1 findings; 1 files written.\n",
    )
    assert (project / BIG).read_bytes() == _set(_grant("ApiEnabled"))
    assert run_cli(capsys, *args, "--fix")[2] == "Fixed 0 of 0 findings; 0 files written.\n"


def test_a_baseline_counts_each_copy_and_a_new_copy_is_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path / "p", _set(GRANT * 3))
    code, _, err = run_cli(capsys, "baseline", str(project), "--no-cache")
    assert (code, err.endswith(".sflint-baseline.json: 1 finding covering 3 grants.\n")) == (
        0,
        True,
    )
    entries = json.loads((project / ".sflint-baseline.json").read_text())["findings"]
    assert [(e["rule"], e["count"]) for e in entries] == [("SFL001", 3)]
    args = ("check", str(project), "--no-cache", "--format", "json")
    code, out, _ = run_cli(capsys, *args)
    assert (code, json.loads(out)["findings"]) == (0, [])
    # A fourth copy: the finding stands for more copies than the baseline accepted.
    (project / BIG).write_bytes(_set(GRANT * 4))
    code, out, _ = run_cli(capsys, *args)
    assert [(f["rule"], f["line"], f["occurrences"]) for f in json.loads(out)["findings"]] == [
        ("SFL001", 5, 4),
    ]
    assert code == 1
    _, _, err = run_cli(capsys, "baseline", str(project), "--no-cache")
    assert err.endswith(
        ": 1 finding covering 4 grants (1 grant added, 0 removed since the file it replaces).\n"
    )


def test_disabling_many_copies_is_linear() -> None:
    """Each removed element's line start was searched for a carriage return back to the
    file's first byte: 60,000 copies took 15 s of that alone, 600,000 hours."""
    from sflint.fix.ops import disable_permissions

    data = _set(GRANT * 60_000 + _grant("ApiEnabled"))
    started = time.process_time()
    done = disable_permissions(data, ["TwoFactorApi"], component_type=PS)
    assert time.process_time() - started < 10
    assert (done.after, done.elements) == (_set(_grant("ApiEnabled")), (("TwoFactorApi", 60_000),))


# --- the worst case the size limit allows, in a fresh process ---------------------------------


# As many copies as fit under the 64 MB limit: 600,000 x 111 bytes, 66.6 MB.
WORST = 600_000


@pytest.fixture(scope="module")
def worst(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = _set(GRANT * WORST)
    assert METADATA_LIMIT - 1_000_000 < len(data) <= METADATA_LIMIT
    return _project(tmp_path_factory.mktemp("worst") / "p", data)


def _run(project: Path, fmt: str) -> tuple[str, float, int]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, "check", str(project), "--format", fmt, "--no-cache"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "SFLINT_WORKERS": "1"},
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    return result.stdout, elapsed, int(result.stderr.rsplit("PEAK_MB=", 1)[1].split()[0])


def _findings(fmt: str, out: str) -> list[tuple[str, str, int, Any]]:
    if fmt == "json":
        return [
            (f["rule"], f["path"], f["line"], f["occurrences"]) for f in json.loads(out)["findings"]
        ]
    if fmt == "sarif":
        return [
            (
                r["ruleId"],
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                r["locations"][0]["physicalLocation"]["region"]["startLine"],
                r["properties"]["occurrences"],
            )
            for r in json.loads(out)["runs"][0]["results"]
        ]
    lines = out.splitlines()
    assert lines[-1].startswith("Found 1 finding (1 error) in 1 file, 1 component.")
    return [
        (rule, where.rsplit(":", 2)[0], int(where.rsplit(":", 2)[1]), WORST)
        for where, rule, *_ in (line.split(" ", 2) for line in lines[:-1])
    ]


@pytest.mark.parametrize("fmt", ["console", "json", "sarif"])
def test_the_most_copies_the_size_limit_allows(worst: Path, fmt: str) -> None:
    """600,000 copies of the TwoFactorApi grant in one 66.6 MB set: one finding (SFL005 is
    folded into SFL001), at the first copy, saying how many; in seconds and without holding 600,000 of anything
    but the reader's entries (it was 104 s and 3.6 GB for the console here, and 397 s and
    10.5 GB for JSON). The bounds are guards against a blow-up, not measurements."""
    out, elapsed, peak = _run(worst, fmt)
    assert _findings(fmt, out) == [("SFL001", BIG, 5, WORST)]
    assert "Granted 600,000 times in this file (lines 5, 9, 13, 17, 21, 25, 29, 33, 37, 41" in out
    assert elapsed < 120, f"{elapsed:.0f} s"
    assert peak < 600, f"peak {peak} MB"
