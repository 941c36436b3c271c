"""Detection with confidence and per-rule severity (issue 11, items 4 and 6): candidates of
weak signals, ``--min-confidence``, ``confidence`` in every output, ``init``'s commented
candidates, ``severity:`` in .sflint.yml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sflint.candidates import candidate, words
from sflint.cli import main
from sflint.model import Component, ComponentType, Confidence, Grant, Location
from tests.sarif_validation import assert_valid_sarif

NS = "http://soap.sforce.com/2006/04/metadata"
PROFILES = "force-app/main/default/profiles"
SETS = "force-app/main/default/permissionsets"
# A profile an admin named for its integration, with API access: a medium candidate.
MEDIUM = f"{PROFILES}/Integration profile.profile-meta.xml"
# A set named for an integration, without API or broad access: a low candidate.
LOW = f"{SETS}/IEC_Integration_SAP.permissionset-meta.xml"


def _perms(*names: str) -> str:
    return "".join(
        f"    <userPermissions>\n        <enabled>true</enabled>\n        <name>{n}</name>\n"
        "    </userPermissions>\n"
        for n in names
    )


def _profile(*names: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Profile xmlns="{NS}">\n'
        f"    <custom>true</custom>\n{_perms(*names)}    <userLicense>Salesforce</userLicense>\n"
        "</Profile>\n"
    )


def _set(label: str, *names: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<PermissionSet xmlns="{NS}">\n'
        f"    <label>{label}</label>\n{_perms(*names)}</PermissionSet>\n"
    )


FILES = {
    MEDIUM: _profile("ApiEnabled", "ForceTwoFactor", "TwoFactorApi"),
    LOW: _set("IEC Integration SAP", "ForceTwoFactor", "TwoFactorApi"),
    f"{SETS}/Sales_Ops.permissionset-meta.xml": _set("Sales Ops", "RunReports"),
}


def _project(tmp_path: Path, config: str | None = None, files: dict[str, str] = FILES) -> Path:
    root = tmp_path / "p"
    (root / ".git").mkdir(parents=True)
    (root / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "force-app"}]}')
    if config is not None:
        (root / ".sflint.yml").write_text(config)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _found(out: str) -> list[tuple[str, str, str, int, str]]:
    return [
        (f["rule"], f["severity"], f["path"], f["line"], f["confidence"])
        for f in json.loads(out)["findings"]
    ]


@pytest.fixture(autouse=True)
def _cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)


def test_words() -> None:
    assert words("IEC_SAP_Integration_APIOnly") == ["iec", "sap", "integration", "api", "only"]
    assert words("APIProfile") == ["api", "profile"]
    assert words("X00_Restricted integrationUser") == [
        "x",
        "00",
        "restricted",
        "integration",
        "user",
    ]
    assert words("Service Account Profile") == ["service", "account", "profile"]
    assert words("Apiname") == ["apiname"]
    assert words("Força–Integração") == ["for", "a", "integra", "o"]
    assert words("a" * 10_000) == ["a" * 255]


def _component(ctype: ComponentType, name: str, *enabled: str) -> Component:
    where = Location("x", 1)
    grants = tuple(Grant(n, True, where) for n in enabled)
    return Component(ctype, name, ("x",), label=None, grants=grants)


@pytest.mark.parametrize(
    ("ctype", "name", "enabled", "expected"),
    [
        (ComponentType.PROFILE, "Integration profile", ("ApiEnabled",), Confidence.MEDIUM),
        (ComponentType.PROFILE, "Service Account Profile", ("ViewAllData",), Confidence.MEDIUM),
        (ComponentType.PERMISSION_SET, "GREX_System_User_CRE", (), Confidence.LOW),
        (ComponentType.PERMISSION_SET, "API_for_Jedox", (), Confidence.LOW),
        (
            ComponentType.PERMISSION_SET,
            "Emergency_Admin",
            ("ApiEnabled", "ModifyAllData"),
            Confidence.LOW,
        ),
        (ComponentType.PERMISSION_SET, "Emergency_Admin", ("ApiEnabled",), None),
        (
            ComponentType.PROFILE,
            "Premier Support",
            ("ApiEnabled", "ViewAllData", "LightningExperienceUser"),
            None,
        ),
        (ComponentType.PERMISSION_SET, "Systems User", (), None),
        # A name that says the opposite is no signal (a real admin profile was medium).
        (
            ComponentType.PROFILE,
            "System Administrator (non-API user)",
            ("ApiEnabled", "ViewAllData", "LightningExperienceUser"),
            None,
        ),
        (ComponentType.PROFILE, "Non API", ("ApiEnabled",), None),
        (ComponentType.PROFILE, "No API Access", ("ModifyAllData",), None),
        (ComponentType.PERMISSION_SET, "Not_an_Integration", ("ApiEnabled",), None),
        (ComponentType.PERMISSION_SET, "Non-Integration Users", ("ApiEnabled",), None),
        (ComponentType.PERMISSION_SET, "NonIntegration", ("ApiEnabled",), None),
        (ComponentType.PERMISSION_SET, "Not a Service Account", ("ApiEnabled",), None),
        (ComponentType.PERMISSION_SET, "Without API", (), None),
        # Only the negated word is discounted: the clone --fix writes stays a candidate.
        (
            ComponentType.PERMISSION_SET,
            "Integration_User_No_API_MFA",
            ("ApiEnabled",),
            Confidence.MEDIUM,
        ),
        (ComponentType.PERMISSION_SET, "API_User_No_API_MFA", (), Confidence.LOW),
        # Whole words only: no "api" inside another word.
        (ComponentType.PROFILE, "Rapid Response", ("ApiEnabled",), None),
        (ComponentType.PROFILE, "Therapist", ("ApiEnabled",), None),
        (ComponentType.PERMISSION_SET, "Capital_Markets", ("ViewAllData",), None),
        (ComponentType.PERMISSION_SET, "Apiary", ("ApiEnabled",), None),
        (ComponentType.PERMISSION_SET, "Serviceaccount", ("ApiEnabled",), None),
        (ComponentType.PERMISSION_SET, "RapidAPI_Sync", ("ApiEnabled",), Confidence.MEDIUM),
        (ComponentType.PERMISSION_SET_GROUP, "Integration", (), None),
    ],
)
def test_candidate_levels(
    ctype: ComponentType, name: str, enabled: tuple[str, ...], expected: Confidence | None
) -> None:
    found = candidate(_component(ctype, name, *enabled))
    assert (found.confidence if found else None) is expected


def test_a_name_that_negates_the_signal_is_no_persona(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The profile of a real repository: an admin's, named for not being an API user. Its
    # View All Data gave four SFL008 warnings on a medium candidate; now nothing at all.
    admin = f"{PROFILES}/System Administrator %28non-API user%29.profile-meta.xml"
    granted = ("ApiEnabled", "LightningExperienceUser", "ModifyAllData", "ViewAllData")
    files = {admin: _profile(*granted)}
    root = _project(tmp_path, files=files)
    code, out, _ = run(capsys, "check", str(root), "--format", "json", "--min-confidence", "low")
    assert code == 0
    assert _found(out) == []
    code, out, _ = run(capsys, "access", "--path", str(root), "--min-confidence", "low")
    assert code == 0 and "non-API" not in out


def test_signal_says_why() -> None:
    found = candidate(_component(ComponentType.PROFILE, "Integration profile", "ApiEnabled"))
    assert found is not None and found.signal == (
        "its name 'Integration profile' reads like an integration user's and it enables ApiEnabled"
    )
    shape = candidate(
        _component(ComponentType.PERMISSION_SET, "Emergency_Admin", "ApiEnabled", "ViewAllData")
    )
    assert shape is not None and shape.signal == (
        "it enables ApiEnabled and ViewAllData and no user-interface permission"
    )


def test_min_confidence_chooses_the_personas_checked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _project(tmp_path)
    args = ("check", str(root), "--select", "SFL001,SFL002", "--format", "json")
    # Default (medium): the named profile with API access is checked; the low candidate is
    # not, so its TwoFactorApi is the advisory note of a set no persona covers.
    code, out, _ = run(capsys, *args)
    assert code == 1
    assert _found(out) == [
        ("SFL002", "note", LOW, 8, "high"),
        ("SFL001", "error", MEDIUM, 12, "medium"),
    ]
    code, out, _ = run(capsys, *args, "--min-confidence", "low")
    assert _found(out) == [
        ("SFL001", "error", LOW, 8, "low"),
        ("SFL001", "error", MEDIUM, 12, "medium"),
    ]
    code, out, _ = run(capsys, *args, "--min-confidence", "high")
    assert code == 0
    assert _found(out) == [
        ("SFL002", "note", LOW, 8, "high"),
        ("SFL002", "note", MEDIUM, 12, "high"),
    ]
    # .sflint.yml says the same; the command line wins.
    (root / ".sflint.yml").write_text("min_confidence: low\n")
    assert [f[4] for f in _found(run(capsys, *args)[1])] == ["low", "medium"]
    assert [f[4] for f in _found(run(capsys, *args, "--min-confidence", "high")[1])] == [
        "high",
        "high",
    ]


def test_console_and_sarif_carry_confidence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _project(tmp_path)
    code, out, _ = run(capsys, "check", str(root), "--select", "SFL001")
    assert code == 1
    assert out.splitlines() == [
        f'{MEDIUM}:12: SFL001 [error, medium confidence] Integration persona "profile Integration'
        " profile\" (detected with medium confidence: its name 'Integration profile' reads like"
        " an integration user's and it enables ApiEnabled) gets Multi-Factor Authentication for"
        " API Logins (TwoFactorApi) through profile Integration profile: every API login of this"
        " user will ask for a second factor, and the app's connection will fail. Multi-Factor"
        " Authentication for User Interface Logins (ForceTwoFactor) may stay.",
        "Found 1 finding (1 error) in 3 files, 3 components; 1 detected persona below"
        " --min-confidence medium not checked (--min-confidence low checks them). Project: ."
        " (sfdx-project.json; package folder force-app).",
    ]
    sarif_file = tmp_path / "out.sarif"
    run(capsys, "check", str(root), "--min-confidence", "low", "--sarif-file", str(sarif_file))
    results = json.loads(sarif_file.read_text())["runs"][0]["results"]
    assert [
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["properties"]["confidence"],
        )
        for r in results
    ] == [
        ("SFL001", 8, "low"),
        ("SFL001", 12, "medium"),
    ]
    assert_valid_sarif(sarif_file)


def test_bad_min_confidence_is_a_config_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _project(tmp_path, "fail_on: error\nmin_confidence: sure\n")
    code, _, err = run(capsys, "check", str(root))
    assert code == 2
    assert err.startswith("sflint: error: .sflint.yml:2: ")
    code, _, err = run(capsys, "check", str(root), "--min-confidence", "sure")
    assert code == 2 and "'sure' is not one of 'low', 'medium', 'high'" in err


def test_init_lists_weak_candidates_commented_out(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _project(tmp_path)
    code, out, _ = run(capsys, "init", "--path", str(root))
    assert code == 0
    assert out.splitlines()[0].endswith("with 0 detected integration persona(s).")
    text = (root / ".sflint.yml").read_text()
    assert text.splitlines()[5:21] == [
        "# No strong integration signal was found in the metadata.",
        "personas: []",
        "# Candidates from weaker signals: a name that reads like an integration user's, or the",
        "# shape of the access (API Enabled with View All Data or Modify All Data). sflint checks",
        "# the medium ones as detected personas and leaves the low ones alone (--min-confidence).",
        "# If one is an integration user, uncomment it: a declared persona is checked in full.",
        "# (To declare one, write `personas:` instead of `personas: []` above.)",
        '#   - name: "permission set IEC_Integration_SAP"',
        "#     # detected with low confidence: its name 'IEC_Integration_SAP' reads like an"
        " integration user's",
        "#     kind: integration",
        '#     permission_sets: ["IEC_Integration_SAP"]',
        '#   - name: "profile Integration profile"',
        "#     # detected with medium confidence: its name 'Integration profile' reads like an"
        " integration user's and it enables ApiEnabled",
        "#     kind: integration",
        '#     profile: "Integration profile"',
        "",
    ]
    # Uncommented, a candidate is a declared persona: checked with high confidence.
    declared = text.replace("personas: []", "personas:").replace(
        '#   - name: "profile Integration profile"', '  - name: "profile Integration profile"'
    )
    declared = declared.replace(
        "#     kind: integration\n#     profile:", "    kind: integration\n    profile:"
    )
    (root / ".sflint.yml").write_text(declared)
    code, out, _ = run(capsys, "check", str(root), "--select", "SFL001", "--format", "json")
    assert _found(out) == [("SFL001", "error", MEDIUM, 12, "high")]


PRIVILEGED = {
    f"{SETS}/Sync.permissionset-meta.xml": _set(
        "Sync", "ApiUserOnly", "ManageUsers", "ModifyAllData"
    )
}


def test_severity_per_rule_sets_each_tiers_severity(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _project(tmp_path, None, PRIVILEGED)
    path = f"{SETS}/Sync.permissionset-meta.xml"
    args = ("check", str(root), "--select", "SFL008,SFL012", "--format", "json")
    code, out, _ = run(capsys, *args)
    assert (code, _found(out)) == (
        0,
        [("SFL012", "warning", path, 8, "high"), ("SFL008", "warning", path, 12, "high")],
    )
    (root / ".sflint.yml").write_text(
        "severity:\n  SFL008: error\n  integration-escalation: note\n"
    )
    code, out, _ = run(capsys, *args)
    assert (code, _found(out)) == (
        1,
        [("SFL012", "note", path, 8, "high"), ("SFL008", "error", path, 12, "high")],
    )
    # The message names the tier and why; SARIF's rule level follows the setting.
    finding = json.loads(out)["findings"][1]
    assert (
        "a tier-1 privileged permission (Salesforce privileged-user permission"
        in finding["message"]
    )
    sarif_file = tmp_path / "out.sarif"
    run(capsys, *args[:4], "--sarif-file", str(sarif_file))
    rules = json.loads(sarif_file.read_text())["runs"][0]["tool"]["driver"]["rules"]
    assert [(r["id"], r["defaultConfiguration"]["level"]) for r in rules] == [
        ("SFL008", "error"),
        ("SFL012", "note"),
    ]
    assert_valid_sarif(sarif_file)


@pytest.mark.parametrize(
    ("config", "error"),
    [
        (
            "fail_on: error\nseverity:\n  SFL999: note\n",
            ".sflint.yml:3: unknown rule 'SFL999' in severity (see `sflint rules`)",
        ),
        ("severity:\n  SFL008: critical\n", ".sflint.yml:2: "),
        ("severity: [SFL008]\n", ".sflint.yml:1: "),
    ],
)
def test_bad_severity_is_a_config_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: str, error: str
) -> None:
    root = _project(tmp_path, config, PRIVILEGED)
    code, _, err = run(capsys, "check", str(root))
    assert code == 2
    assert err.startswith(f"sflint: error: {error}")


def heads(out: str) -> list[str]:
    """The persona lines of an access tree."""
    return [line for line in out.splitlines() if not line.startswith(" ")]


def test_access_shows_the_personas_check_checks(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _project(tmp_path)
    code, out, _ = run(capsys, "access", "--path", str(root))
    assert (code, heads(out)) == (
        0,
        [
            "profile Integration profile [integration] (detected with medium confidence: its"
            " name 'Integration profile' reads like an integration user's and it enables"
            " ApiEnabled)"
        ],
    )
    low = (
        "permission set IEC_Integration_SAP [integration] (detected with low confidence: its"
        " name 'IEC_Integration_SAP' reads like an integration user's)"
    )
    _, out, _ = run(capsys, "access", "--path", str(root), "--min-confidence", "low")
    assert heads(out) == [low, heads(run(capsys, "access", "--path", str(root))[1])[0]]
    # Asked for by name, a persona is shown whatever its confidence.
    _, out, _ = run(capsys, "access", "permission set IEC_Integration_SAP", "--path", str(root))
    assert heads(out) == [low]


@pytest.mark.parametrize("floor", ["low", "medium", "high"])
def test_a_run_on_named_files_finds_what_the_whole_run_finds_there(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, floor: str
) -> None:
    # A named-file run reads the other components light (access.Focus): it must keep what
    # candidates read, or a candidate would change its confidence there.
    root = _project(tmp_path)
    args = ("--format", "json", "--min-confidence", floor, "--no-cache")
    whole = _found(run(capsys, "check", str(root), *args)[1])
    for rel in FILES:
        named = _found(run(capsys, "check", str(root / rel), *args)[1])
        assert named == [f for f in whole if f[2] == rel]


def test_names_left_out_before_splitting_are_those_words_never_match() -> None:
    # The substring check in front of ``words`` says no only where splitting says no too.
    import itertools

    from sflint.candidates import _PAIRS, _WORDS, _may_name

    names = [
        "Set_0001",
        "APIProfile",
        "Apiname",
        "xApI",
        "Service Account",
        "serviceXaccount",
        "AccountService",
        "System_User",
        "İntegration",
        "INTEGRATIONS",
        "Força–Integração",
        "a" * 300 + "api",
        "Sys tem User",
        "",
    ]
    for name in names:
        found = words(name)
        real = bool(_WORDS.intersection(found)) or any(
            p in _PAIRS for p in itertools.pairwise(found)
        )
        assert _may_name(name) or not real, name
    assert not _may_name("Set_0001")
    assert not _may_name("a" * 300 + "api")
    assert _may_name("xApI")
