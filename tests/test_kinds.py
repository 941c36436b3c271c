"""The kinds table drives discovery, the reader, the config and rule schemas and ``init``.

Every name and file here is generated from ``sflint.kinds.KINDS``: a kind added to the table
is tested by these cases without a line changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_type_hints

import pytest

from sflint.access import Persona, detect, type_word
from sflint.commands_init import starter_config
from sflint.config import SCHEMA as CONFIG_SCHEMA
from sflint.config import PersonaConfig, Reference, load_config
from sflint.kinds import KINDS, FixPolicy, Kind, Role, Root, component_types, kind_of
from sflint.metadata.loader import load_components
from sflint.metadata.reader import EXTRACTORS, METADATA_NS, parse_bytes
from sflint.model import (
    ComponentType,
    Finding,
    Grant,
    Location,
    Member,
    ObjectAccess,
    ObjectGrant,
    PersonaKind,
    Severity,
)
from sflint.project import SUFFIXES, classify, load_project
from sflint.rules.schema import SCHEMA as RULE_SCHEMA
from sflint.yamlload import parse_yaml, validate

ALL_ROOTS = [(k, role, r) for k in KINDS for role in Role for r in k.roots(role)]
# One example of each element a kind may read, and what the reader makes of it.
# The children of an entry that is a file's root (a beta1 child file), by entry.
ENTRY_BODIES = {
    "userPermissions": "<enabled>true</enabled>\n<name>ApiEnabled</name>\n",
    "objectPermissions": "<allowRead>true</allowRead>\n<object>Account</object>\n"
    "<viewAllRecords>true</viewAllRecords>\n",
}
OBJECT_GRANT = ("Account", (ObjectAccess.READ, ObjectAccess.VIEW_ALL))
SAMPLES = {
    "userPermissions": "<userPermissions><enabled>true</enabled><name>ApiEnabled</name>"
    "</userPermissions>",
    "objectPermissions": "<objectPermissions><allowRead>true</allowRead><object>Account</object>"
    "<viewAllRecords>true</viewAllRecords></objectPermissions>",
    "label": "<label>The Label</label>",
    "license": "<license>SalesforceAPIIntegrationPsl</license>",
    "userLicense": "<userLicense>Salesforce Integration</userLicense>",
    "custom": "<custom>false</custom>",
    "permissionSets": "<permissionSets>Member_Set</permissionSets>",
    "mutingPermissionSets": "<mutingPermissionSets>Muting_Set</mutingPermissionSets>",
}


def _xml(root: Root) -> str:
    """A file with ``root`` holding one of each element it reads, one per line from line 3."""
    ns = f' xmlns="{METADATA_NS}"' if root.namespaced else ""
    if root.entry is not None:  # the root is the entry itself: its children are the entry's
        body = ENTRY_BODIES[root.entry]
        return f'<?xml version="1.0"?>\n<{root.local}{ns}>\n{body}</{root.local}>\n'
    body = "".join(f"{SAMPLES[e]}\n" for e in root.reads)
    return f'<?xml version="1.0"?>\n<{root.local}{ns}>\n{body}</{root.local}>\n'


def _expected(root: Root, path: str) -> dict[str, object]:
    """What the reader must extract from ``_xml(root)``."""
    if root.entry == "objectPermissions":
        return {"object_grants": (ObjectGrant(*OBJECT_GRANT, Location(path, 2)),)}
    if root.entry is not None:
        return {"grants": (Grant("ApiEnabled", True, Location(path, 2)),)}
    line = {e: i for i, e in enumerate(root.reads, 3)}
    out: dict[str, object] = {}
    if "userPermissions" in line:
        out["grants"] = (Grant("ApiEnabled", True, Location(path, line["userPermissions"])),)
    if "objectPermissions" in line:
        where = Location(path, line["objectPermissions"])
        out["object_grants"] = (ObjectGrant(*OBJECT_GRANT, where),)
    for element, attr in (
        ("label", "label"),
        ("license", "license"),
        ("userLicense", "user_license"),
        ("custom", "custom"),
    ):
        if element in line:
            out[attr] = SAMPLES[element].split(">")[1].split("<")[0]
    if "permissionSets" in line:
        out["members"] = (Member("Member_Set", Location(path, line["permissionSets"])),)
    if "mutingPermissionSets" in line:
        where = Location(path, line["mutingPermissionSets"])
        out["muting_members"] = (Member("Muting_Set", where),)
    return out


def test_the_table_has_each_component_type_once_in_the_order_access_is_built() -> None:
    assert component_types() == (
        ComponentType.PROFILE,
        ComponentType.PERMISSION_SET,
        ComponentType.PERMISSION_SET_GROUP,
        ComponentType.MUTING_PERMISSION_SET,
    )
    assert [kind_of(t).type for t in ComponentType] == list(ComponentType)


def test_fix_policy_per_kind() -> None:
    assert {k.type: k.fix_policy for k in KINDS} == {
        ComponentType.PERMISSION_SET: FixPolicy.REMOVE_ELEMENT,
        ComponentType.PROFILE: FixPolicy.SET_FALSE,
        ComponentType.PERMISSION_SET_GROUP: FixPolicy.NONE,
        ComponentType.MUTING_PERMISSION_SET: FixPolicy.NONE,
    }


def test_decomposed_child_roots() -> None:
    """Beta: <UserPermission> in the Metadata API namespace; Beta2: <PermissionSet>, none."""
    ps = kind_of(ComponentType.PERMISSION_SET)
    assert [(r.local, r.namespaced) for r in ps.roots(Role.USER_PERMISSIONS)] == [
        ("UserPermission", True),
        ("PermissionSet", False),
    ]
    assert [k.type for k in KINDS if k.children] == [ComponentType.PERMISSION_SET]


def test_every_element_a_kind_reads_has_an_extractor_and_a_sample() -> None:
    read = {e for _, _, r in ALL_ROOTS for e in (*r.reads, *([r.entry] if r.entry else []))}
    assert read == set(EXTRACTORS) == set(SAMPLES)


@pytest.mark.parametrize(("kind", "suffix"), [(k, s) for k in KINDS for s in k.suffixes])
@pytest.mark.parametrize("folder", ["", "force-app/main/default/", "other/permissionSets/"])
def test_every_suffix_of_every_kind_is_classified(kind: Kind, suffix: str, folder: str) -> None:
    path = Path(f"{folder}{kind.folder}/Custom%3A Sales Ops{suffix}")
    assert classify(path) == (kind.type, "Custom: Sales Ops", Role.MAIN)


def test_project_suffixes_are_the_tables() -> None:
    assert sorted(SUFFIXES) == sorted((s, k.type) for k in KINDS for s in k.suffixes)


@pytest.mark.parametrize(
    ("kind", "suffix", "role", "folder"),
    [
        (k, c.suffix, c.role, layout.folder)
        for k in KINDS
        for c in k.children
        for layout in c.layouts
    ],
)
def test_decomposed_children_belong_to_their_folder(
    kind: Kind, suffix: str, role: Role, folder: str | None
) -> None:
    base = f"force-app/main/default/{kind.folder}/Sync%20User/"
    path = Path(f"{base}{folder}/ApiEnabled{suffix}" if folder else f"{base}Sync%20User{suffix}")
    assert classify(path) == (kind.type, "Sync User", role)
    # The suffix alone is no file of a component.
    assert classify(Path(f"{base}{suffix}")) is None


@pytest.mark.parametrize(
    ("kind", "role", "root"), ALL_ROOTS, ids=[f"{k.type.value}-{r.local}" for k, _, r in ALL_ROOTS]
)
def test_reader_accepts_each_root_of_the_table_and_extracts_what_it_reads(
    kind: Kind, role: Role, root: Root
) -> None:
    parsed = parse_bytes(_xml(root).encode(), "f.xml", kind.type, role)
    assert parsed.problems == ()
    assert parsed.root == root.local
    found = {
        attr: getattr(parsed, attr)
        for attr in (
            "grants",
            "object_grants",
            "label",
            "license",
            "user_license",
            "custom",
            "members",
            "muting_members",
        )
        if getattr(parsed, attr) not in ((), None)
    }
    assert found == _expected(root, "f.xml")


@pytest.mark.parametrize("kind", KINDS, ids=[k.type.value for k in KINDS])
def test_reader_refuses_another_kinds_root(kind: Kind) -> None:
    other = next(k for k in KINDS if k.root.local not in {r.local for r in kind.roots(Role.MAIN)})
    parsed = parse_bytes(_xml(other.root).encode(), "f.xml", kind.type)
    (problem,) = parsed.problems
    assert problem.message == (
        f"unexpected root element <{other.root.local}>; expected <{kind.root.local}>"
    )


def test_discovery_and_reader_build_every_kind_from_the_table(tmp_path: Path) -> None:
    """A project with one file of every suffix and layout reads back without a problem."""
    expected: dict[tuple[ComponentType, str], list[str]] = {}
    for k in KINDS:
        for i, suffix in enumerate(k.suffixes):
            rel = f"src/{k.folder}/{k.type.value}_{i}{suffix}"
            expected[(k.type, f"{k.type.value}_{i}")] = [rel]
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_text(_xml(k.root), encoding="utf-8")
        for n, c in enumerate(k.children):
            for j, layout in enumerate(c.layouts):
                name = f"Decomposed_{n}_{j}"
                folder = f"src/{k.folder}/{name}"
                main = f"{folder}/{name}{k.source_suffix}"
                child = (
                    f"{folder}/{layout.folder}/One{c.suffix}"
                    if layout.folder
                    else f"{folder}/{name}{c.suffix}"
                )
                expected[(k.type, name)] = sorted([main, child])
                for rel, root in ((main, k.root), (child, layout.root)):
                    (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
                    (tmp_path / rel).write_text(_xml(root), encoding="utf-8")
    (tmp_path / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "src"}]}')
    components = load_components(load_project(tmp_path).files, tmp_path)
    assert {(c.type, c.name): sorted(c.files) for c in components} == expected
    assert [c.problems for c in components if c.problems] == []
    decomposed = [c for c in components if c.name.startswith("Decomposed_")]
    # The main file's grant and object grant, and the child file's: one each.
    assert [(c.name, len(c.grants), len(c.object_grants)) for c in decomposed] == [
        ("Decomposed_0_0", 2, 1),
        ("Decomposed_0_1", 2, 1),
        ("Decomposed_1_0", 1, 2),
        ("Decomposed_2_0", 1, 2),
    ]


def test_words_and_persona_keys_come_from_the_table() -> None:
    assert [type_word(t) for t in ComponentType] == [
        "permission set",
        "profile",
        "permission set group",
        "muting permission set",
    ]
    persona = CONFIG_SCHEMA["properties"]["personas"]["items"]["properties"]
    assert list(persona) == ["name", "kind", "profile", "permission_sets", "permission_set_groups"]
    assert persona["profile"] == {"type": "string", "minLength": 1}
    assert persona["permission_sets"]["type"] == "array"
    assert persona["kind"] == {"enum": ["integration", "user"]}


def test_rule_schema_types_come_from_the_table() -> None:
    types = ["Profile", "PermissionSet", "PermissionSetGroup", "MutingPermissionSet"]
    fix = RULE_SCHEMA["properties"]["fixes"]["items"]["properties"]["applies_to"]
    assert fix["items"] == {"enum": [*types, "Persona"]}
    example = RULE_SCHEMA["properties"]["examples"]["items"]["properties"]["type"]
    assert example == {"enum": types}


def test_starter_config_names_each_kind_by_its_key(tmp_path: Path) -> None:
    """init writes the table's key for every kind a persona can name, and it loads back."""
    where = Location("x", 1)
    personas = tuple(
        Persona(f"P{i}", PersonaKind.INTEGRATION, (Reference(k.type, f"C{i}", where),), where)
        for i, k in enumerate(KINDS)
        if k.persona_key is not None
    )
    text = starter_config(personas)
    validate(parse_yaml(text, ".sflint.yml"), CONFIG_SCHEMA)
    (tmp_path / ".sflint.yml").write_text(text)
    config = load_config(tmp_path)
    assert [
        (p.name, p.kind, [(r.type, r.name) for r in p.references]) for p in config.personas
    ] == [
        (p.name, PersonaKind.INTEGRATION, [(r.type, r.name) for r in p.references])
        for p in personas
    ]
    assert 'profile: "C0"' in text and 'permission_sets: ["C1"]' in text


def test_detected_personas_are_integration_personas(tmp_path: Path) -> None:
    ps = kind_of(ComponentType.PERMISSION_SET)
    rel = f"{ps.folder}/Sync{ps.source_suffix}"
    (tmp_path / ps.folder).mkdir()
    (tmp_path / rel).write_text(_xml(ps.root).replace("ApiEnabled", "ApiUserOnly"))
    (persona,) = detect(load_components(load_project(tmp_path).files, tmp_path))
    assert (persona.name, persona.kind) == ("permission set Sync", PersonaKind.INTEGRATION)
    assert persona.references == (
        Reference(ComponentType.PERMISSION_SET, "Sync", Location(rel, 2)),
    )


def test_component_types_and_persona_kinds_are_enums_in_the_values() -> None:
    """What mypy checks, pinned for readers: enums, never strings, travel between stages."""
    assert get_type_hints(Reference)["type"] is ComponentType
    assert get_type_hints(PersonaConfig)["kind"] is PersonaKind
    assert get_type_hints(Persona)["kind"] is PersonaKind
    assert get_type_hints(Finding)["component_type"] == ComponentType | None


@pytest.mark.parametrize(
    ("ctype", "printed"), [(None, "Persona"), *((t, t.value) for t in ComponentType)]
)
def test_outputs_print_the_type_value_or_persona(ctype: ComponentType | None, printed: str) -> None:
    finding = Finding(
        rule="SFL006",
        name="integration-api-disabled",
        severity=Severity.WARNING,
        path=".sflint.yml",
        line=3,
        message="m",
        component_type=ctype,
        component_name="Sync",
        key="Sync",
    )
    assert finding.type_name == printed


@pytest.mark.parametrize("member", [*ComponentType, *PersonaKind, *Role], ids=str)
def test_enums_print_as_their_value_on_every_python(
    member: ComponentType | PersonaKind | Role,
) -> None:
    assert (str(member), f"{member}", format(member)) == (member.value,) * 3
