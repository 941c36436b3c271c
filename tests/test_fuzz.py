"""Property-based fuzzing of what a pull request controls: metadata bytes, YAML config and
rule files, and the files ``--fix`` edits. What must hold, whatever the input: no exception
escapes (bad input is a problem value or a ``UsageError``), the exit code is 0, 1 or 2,
nothing outside the project changes, and a second ``--fix`` changes nothing.

Bounded: a few dozen examples each, no deadline (CI machines are shared); hypothesis keeps
its example database in .hypothesis/ so a failure found once is tried first next time.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sflint.cli import main
from sflint.config import SCHEMA as CONFIG_SCHEMA
from sflint.errors import UsageError
from sflint.metadata.reader import parse_bytes
from sflint.model import ComponentType, ObjectAccess
from sflint.rules.loader import load_rules
from sflint.rules.schema import SCHEMA as RULE_SCHEMA
from sflint.yamlload import parse_yaml, validate

NS = "http://soap.sforce.com/2006/04/metadata"
SEED = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<PermissionSet xmlns="{NS}">\n'
    "    <label>Sync</label>\n    <license>SalesforceAPIIntegrationPsl</license>\n"
    "    <!-- sflint: ignore SFL002 -->\n"
    "    <userPermissions>\n        <enabled>true</enabled>\n        <name>TwoFactorApi</name>\n"
    "    </userPermissions>\n</PermissionSet>\n"
).encode()
GRANT_BLOCK = SEED[SEED.index(b"    <userPermissions>") : SEED.index(b"</PermissionSet>")]
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(st.binary(max_size=3000), st.sampled_from(list(ComponentType)))
def test_reader_takes_any_bytes(data: bytes, ctype: ComponentType) -> None:
    parsed = parse_bytes(data, "x.xml", ctype)
    assert all(p.location.line >= 1 for p in parsed.problems)
    assert all(g.location.line >= 1 for g in parsed.grants)


@FUZZ
@given(st.integers(0, len(SEED)), st.integers(0, 40), st.binary(max_size=40))
def test_reader_takes_any_mutation_of_a_real_file(at: int, cut: int, insert: bytes) -> None:
    data = SEED[:at] + insert + SEED[at + cut :]
    parsed = parse_bytes(data, "x.xml", ComponentType.PERMISSION_SET)
    # A mutation can break the file (then it says so) or leave the grant as it was (then the
    # grant is read): it can never hide the grant silently.
    if not parsed.problems and GRANT_BLOCK in data:
        assert ("TwoFactorApi", True) in {(g.name, g.enabled) for g in parsed.grants}


OBJECT_SEED = SEED.replace(
    GRANT_BLOCK,
    b"    <objectPermissions>\n        <allowCreate>false</allowCreate>\n"
    b"        <allowDelete>false</allowDelete>\n        <allowEdit>false</allowEdit>\n"
    b"        <allowRead>true</allowRead>\n        <modifyAllRecords>true</modifyAllRecords>\n"
    b"        <object>Account</object>\n        <viewAllRecords>true</viewAllRecords>\n"
    b"    </objectPermissions>\n",
)
OBJECT_BLOCK = OBJECT_SEED[
    OBJECT_SEED.index(b"    <objectPermissions>") : OBJECT_SEED.index(b"</PermissionSet>")
]


@FUZZ
@given(
    st.integers(0, len(OBJECT_SEED)),
    st.integers(0, 40),
    st.binary(max_size=40),
    st.sampled_from([ComponentType.PERMISSION_SET, ComponentType.PROFILE]),
)
def test_object_permissions_read_the_same_on_both_paths_after_any_mutation(
    at: int, cut: int, insert: bytes, ctype: ComponentType
) -> None:
    from tests.test_reader_plain import general

    data = OBJECT_SEED[:at] + insert + OBJECT_SEED[at + cut :]
    if ctype is ComponentType.PROFILE:
        data = data.replace(b"PermissionSet", b"Profile")
    parsed = parse_bytes(data, "f.xml", ctype)
    assert parsed == general(data, ctype)
    # Modify All is read, or the file says what is wrong with it: never lost silently.
    if not parsed.problems and OBJECT_BLOCK in data:
        assert ("Account", ObjectAccess.MODIFY_ALL) in {
            (o.object, a) for o in parsed.object_grants for a in o.access
        }


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=20),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(st.text(max_size=400))
def test_yaml_loader_takes_any_text(text: str) -> None:
    for schema in (CONFIG_SCHEMA, RULE_SCHEMA):
        try:
            doc = parse_yaml(text, "x.yml")
            if doc.data is not None:
                validate(doc, schema)
        except UsageError as exc:
            assert exc.path == "x.yml"


@FUZZ
@given(_VALUES)
def test_rule_loader_takes_any_document(
    tmp_path_factory: pytest.TempPathFactory, value: object
) -> None:
    import yaml

    folder = tmp_path_factory.mktemp("rules")
    text = yaml.safe_dump(
        {
            "id": "ACME001",
            "name": "x",
            "summary": "s",
            "severity": "note",
            "scope": "file",
            "match": value,
            "message": "m",
            "docs": {"why": "w", "how_to_fix": "h"},
        }
    )
    (folder / "ACME001-x.yaml").write_text(text)
    try:
        load_rules((folder,))
    except UsageError as exc:
        assert exc.path is not None and exc.path.endswith("ACME001-x.yaml")


_GRANT = st.tuples(
    st.sampled_from(["TwoFactorApi", "ApiEnabled", "ForceTwoFactor", "ViewSetup", "TwoFactorAPI"]),
    st.sampled_from(["true", "false", "True", "1", "yes", ""]),
    st.booleans(),  # a comment before it
    st.sampled_from(["\n", "\r\n"]),
)


def _permission_set(grants: list[tuple[str, str, bool, str]], profile: bool) -> bytes:
    root = "Profile" if profile else "PermissionSet"
    nl = grants[0][3] if grants else "\n"
    body = "".join(
        (f"    <!-- note -->{nl}" if comment else "")
        + f"    <userPermissions>{nl}        <enabled>{enabled}</enabled>{nl}"
        f"        <name>{name}</name>{nl}    </userPermissions>{nl}"
        for name, enabled, comment, _ in grants
    )
    license_ = "" if profile else f"    <license>SalesforceAPIIntegrationPsl</license>{nl}"
    head = f'<?xml version="1.0" encoding="UTF-8"?>{nl}<{root} xmlns="{NS}">{nl}'
    return (head + license_ + body + f"</{root}>{nl}").encode()


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@FUZZ
@given(st.lists(_GRANT, max_size=6), st.booleans(), st.sampled_from(["edit", "clone"]))
def test_fix_on_any_grants_is_safe_and_idempotent(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    grants: list[tuple[str, str, bool, str]],
    profile: bool,
    strategy: str,
) -> None:
    top = tmp_path_factory.mktemp("fix")
    outside = top / "outside.txt"
    outside.write_text("untouched\n")
    project = top / "p"
    folder = project / "force-app" / ("profiles" if profile else "permissionsets")
    folder.mkdir(parents=True)
    (project / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "force-app"}]}')
    suffix = ".profile-meta.xml" if profile else ".permissionset-meta.xml"
    (folder / f"Sync{suffix}").write_bytes(_permission_set(grants, profile))
    args = ["check", str(project), "--no-cache", "--fix", "--fix-strategy", strategy]
    assert main(args) in (0, 1, 2)
    after = _tree(project)
    assert main(args) in (0, 1, 2)
    capsys.readouterr()
    assert _tree(project) == after  # a second --fix changes nothing
    assert outside.read_text() == "untouched\n"
    assert sorted(p.name for p in top.iterdir()) == ["outside.txt", "p"]
    shutil.rmtree(top)
