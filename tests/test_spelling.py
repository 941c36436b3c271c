"""Which unknown user permission names are likely misspellings (sflint/spelling.py), and the
findings SFL003, SFL004 and SFL014 make of them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sflint.catalogue import Catalogue, load_catalogue
from sflint.settings import FailOn
from sflint.spelling import Slip, Speller, Suggestion, max_edits, osa_distance
from tests.conftest import run_check


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


@pytest.mark.parametrize(
    ("a", "b", "limit", "expected"),
    [
        ("viewalldata", "viewalldata", 2, 0),
        ("ViewAlData", "ViewAllData", 2, 1),  # a lower-case letter dropped
        ("ViewAllDtaa", "ViewAllData", 2, 1),  # two neighbours swapped
        ("Viewalldata", "ViewAllData", 2, 0),  # only case
        ("ModifyAllDta", "ModifyAllData", 2, 1),
        ("ObligationUser", "ObligationDEUser", 2, 3),  # capitals added: another word
        ("BACommunityAccess", "BVCommunityAccess", 2, 3),  # a capital changed
        ("Employee2Access", "EmployeeAccess", 2, 3),  # a digit
        ("ViewAllata", "ViewAllData", 2, 3),  # a capital dropped
        ("abcdefgh", "abcdefghijk", 2, 3),  # too far apart in length to compute
        ("kitten", "sitting", 3, 3),
    ],
)
def test_osa_distance(a: str, b: str, limit: int, expected: int) -> None:
    assert osa_distance(a, b, limit) == expected
    assert osa_distance(b, a, limit) == expected


def test_max_edits_grows_with_length() -> None:
    assert [max_edits(n) for n in (1, 4, 5, 11, 12, 40)] == [0, 0, 1, 1, 2, 2]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # The MFA misspellings of issue 11, each with the real name meant and why.
        ("ForceTwoFactorApi", Suggestion("TwoFactorApi", Slip.LISTED, 0)),
        ("ForceTwoFactorAPI", Suggestion("TwoFactorApi", Slip.LISTED, 0)),
        ("ForceTwoFactorInApi", Suggestion("TwoFactorApi", Slip.LISTED, 0)),
        ("ManageTwoFactorInApi", Suggestion("ManageTwoFactor", Slip.LISTED, 0)),
        ("ManageTwoFactorApi", Suggestion("ManageTwoFactor", Slip.AFFIX, 0)),
        ("TwoFactorApiEnabled", Suggestion("TwoFactorApi", Slip.AFFIX, 0)),
        ("TwoFactorApis", Suggestion("TwoFactorApi", Slip.AFFIX, 0)),
        ("MultiFactorApi", Suggestion("TwoFactorApi", Slip.AFFIX, 0)),
        ("MfaApi", Suggestion("TwoFactorApi", Slip.AFFIX, 0)),
        ("BypassTwoFactorForUiLogins", Suggestion("BypassMFAForUiLogins", Slip.AFFIX, 0)),
        ("twoFactorApi", Suggestion("TwoFactorApi", Slip.CASE, 0)),
        ("DelegatedTwoFactr", Suggestion("DelegatedTwoFactor", Slip.EDIT, 1)),
        # Other permissions.
        ("ViewAlData", Suggestion("ViewAllData", Slip.EDIT, 1)),
        ("Viewaldata", Suggestion("ViewAllData", Slip.EDIT, 1)),
        ("APIEnabled", Suggestion("ApiEnabled", Slip.LISTED, 0)),
        ("PermissionsApiEnabled", Suggestion("ApiEnabled", Slip.AFFIX, 0)),
        ("ManageUser", Suggestion("ManageUsers", Slip.AFFIX, 0)),
        ("ManageConnectedApps", Suggestion("ManageRemoteAccess", Slip.LISTED, 0)),
        ("View All Data", Suggestion("ViewAllData", Slip.LABEL, 0)),
        ("ApiEnable", Suggestion("ApiEnabled", Slip.EDIT, 1)),
        ("ObligationAsignee", Suggestion("ObligationAssignee", Slip.EDIT, 1)),
    ],
)
def test_suggestion(cat: Catalogue, name: str, expected: Suggestion) -> None:
    assert cat.suggest(name) == expected
    assert cat.likely_typo(name) is True


@pytest.mark.parametrize(
    "name",
    [
        "ViewAllData",  # known
        "SocialInsightsLogoAdmin",  # known since this catalogue grew
        "ManageQuantumLedgers",  # resembles nothing
        "ViewAllata",  # a capital dropped: not taken for a slip
        "ObligationDEAssignee",  # known; and ObligationAssignee is not its slip either
        "Foo",
        "Xyzzy",
    ],
)
def test_no_suggestion(cat: Catalogue, name: str) -> None:
    assert cat.suggest(name) is None
    assert cat.likely_typo(name) is False


def test_a_name_not_shaped_like_an_api_name_is_a_likely_typo(cat: Catalogue) -> None:
    assert cat.suggest("Quantum Ledgers!") is None
    assert cat.likely_typo("Quantum Ledgers!") is True


def test_ties_are_broken_by_distance_then_length_then_name() -> None:
    sp = Speller.build({"ManageAbcd": "", "ManageAbce": "", "ManageAbcde": ""}, {})
    assert sp.suggest("ManageAbcf") == Suggestion("ManageAbcd", Slip.EDIT, 1)
    assert sp.suggest("ManageAbcdf") == Suggestion("ManageAbcde", Slip.EDIT, 1)


def test_index_and_scan_give_the_same_answers(cat: Catalogue) -> None:
    """Past a few dozen unknown names the deletion index replaces the scan; the answers are
    the same either way (and in any order of asking)."""
    slips = (n[:-1] + "x" for n in sorted(cat.labels)[:300])
    names = [n for n in slips if n not in cat.labels] + ["ViewAlData", "Nothing"]
    scan = Speller.build(cat.labels, cat.misspellings)
    first = [scan._suggest(n) for n in names]  # every lookup by scan: the memo stays empty
    indexed = Speller.build(cat.labels, cat.misspellings)
    for n in reversed(names):  # fills the memo: the index takes over after 40
        indexed.suggest(n)
    assert [indexed.suggest(n) for n in names] == first
    assert indexed._index  # the index was built


def test_many_invented_names_stay_fast(cat: Catalogue) -> None:
    """A 5 MB profile of invented names (50,000 distinct ones) must not become slow."""
    speller = Speller.build(cat.labels, cat.misspellings)
    names = [f"InventedPermission{i:05d}Zq" for i in range(50_000)]
    start = time.perf_counter()
    found = [speller.suggest(n) for n in names]
    assert found == [None] * len(names)
    assert time.perf_counter() - start < 30  # about 4 s on one shared core


def test_known_permissions_are_real_and_their_slips_suggested(cat: Catalogue) -> None:
    extended = cat.with_config(("ManageQuantumLedgers",))
    assert extended.likely_typo("ManageQuantumLedgers") is False
    assert extended.suggest("ManageQuantumLedger") == Suggestion(
        "ManageQuantumLedgers", Slip.AFFIX, 0
    )
    assert cat.suggest("ManageQuantumLedger") is None  # the shipped one is unchanged


_SET = """<?xml version="1.0" encoding="UTF-8"?>
<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>Slips</label>
    <userPermissions>
        <enabled>true</enabled>
        <name>ViewAlData</name>
    </userPermissions>
    <userPermissions>
        <enabled>false</enabled>
        <name>TwoFactorApiEnabled</name>
    </userPermissions>
    <userPermissions>
        <enabled>true</enabled>
        <name>ManageQuantumLedgers</name>
    </userPermissions>
    <userPermissions>
        <enabled>true</enabled>
        <name>Quantum Ledgers!</name>
    </userPermissions>
</PermissionSet>
"""
_PATH = "force-app/permissionsets/Slips.permissionset-meta.xml"


def _project(tmp_path: Path, config: str | None = None) -> Path:
    (tmp_path / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "force-app"}]}')
    folder = tmp_path / "force-app" / "permissionsets"
    folder.mkdir(parents=True)
    (folder / "Slips.permissionset-meta.xml").write_text(_SET)
    if config is not None:
        (tmp_path / ".sflint.yml").write_text(config)
    return tmp_path


def _findings(project: Path) -> list[tuple[str, str, str, int, str]]:
    found = run_check(project, select=("SFL003", "SFL004", "SFL014"), fail_on=FailOn.NEVER)
    return [(f.rule, f.severity.value, f.path, f.line, f.message) for f in found.findings]


_UNKNOWN = 'so the deploy fails with "Unknown user permission".'


def test_findings_name_the_real_permission(tmp_path: Path) -> None:
    assert _findings(_project(tmp_path)) == [
        (
            "SFL004",
            "warning",
            _PATH,
            4,
            f'"ViewAlData" is not a Salesforce user permission, {_UNKNOWN} Did you mean'
            " ViewAllData (View All Data)?",
        ),
        (
            "SFL003",
            "error",
            _PATH,
            8,
            f'"TwoFactorApiEnabled" is not a Salesforce user permission, {_UNKNOWN} The'
            " permission meant is TwoFactorApi (Multi-Factor Authentication for API Logins).",
        ),
        (
            "SFL004",
            "warning",
            _PATH,
            16,
            f'"Quantum Ledgers!" is not a Salesforce user permission, {_UNKNOWN} A user'
            " permission's API name has only letters and digits.",
        ),
    ]


def test_strict_permissions_lists_the_names_that_resemble_nothing(tmp_path: Path) -> None:
    found = _findings(_project(tmp_path, "strict_permissions: true\n"))
    assert [(r, s, p, line) for r, s, p, line, _ in found] == [
        ("SFL004", "warning", _PATH, 4),
        ("SFL003", "error", _PATH, 8),
        ("SFL014", "note", _PATH, 12),
        ("SFL004", "warning", _PATH, 16),
    ]
    assert found[2][4] == (
        '"ManageQuantumLedgers" is not in sflint\'s catalogue of user permissions, and it'
        " resembles no name there. If your org has it (a newer release, an add-on licence),"
        " list it under known_permissions in .sflint.yml."
    )


def test_strict_permissions_must_be_a_boolean(tmp_path: Path) -> None:
    from sflint.errors import UsageError

    with pytest.raises(UsageError) as exc:
        run_check(_project(tmp_path, "strict_permissions: yes please\n"))
    assert (exc.value.path, exc.value.line) == (".sflint.yml", 1)


def test_index_finds_every_slip_the_scan_finds(cat: Catalogue) -> None:
    """Random slips of one or two edits (seeded): the prefix-deletion index misses none."""
    import random

    rng = random.Random(11)
    names = sorted(cat.labels)
    slips: list[str] = []
    for _ in range(600):
        s = list(rng.choice(names))
        for _ in range(rng.choice((1, 2))):
            i = rng.randrange(len(s))
            op = rng.choice(("drop", "add", "swap", "change"))
            letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
            if op == "drop" and len(s) > 1:
                del s[i]
            elif op == "add":
                s.insert(i, letter)
            elif op == "swap" and i + 1 < len(s):
                s[i], s[i + 1] = s[i + 1], s[i]
            else:
                s[i] = letter
        slips.append("".join(s))
    slips = [s for s in dict.fromkeys(slips) if s not in cat.labels]
    scan = Speller.build(cat.labels, cat.misspellings)
    expected = [scan._suggest(n) for n in slips]
    indexed = Speller.build(cat.labels, cat.misspellings)
    for n in [f"Warmup{i}" for i in range(50)]:
        indexed.suggest(n)
    assert [indexed.suggest(n) for n in slips] == expected
    assert sum(e is not None for e in expected) > 400  # most random slips are found
