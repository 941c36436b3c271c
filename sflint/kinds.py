"""The one table of permission metadata kinds sflint reads.

Each row says everything the program knows about one metadata type: its file suffixes, its
root elements, how Setup names it, its ``.sflint.yml`` key, what the reader extracts and how a
permission is turned off in it. Discovery (project.py), the reader, the config schema, the rule
schema, ``sflint init`` and the pre-commit hook's ``files:`` pattern (tested) all derive from
it; adding a kind is one row here plus the extraction of any new child element (reader.py) and
the matchers that use it.

Facts and their sources are in ../shared/SALESFORCE.md ("Files"): the Metadata API Developer
Guide pages PermissionSet, Profile, PermissionSetGroup and MutingPermissionSet (API 67.0) for
suffixes, root elements and fields; forcedotcom/source-deploy-retrieve (``registry``,
``presets/decomposePermissionSetBeta*.json``, ``decomposedPermissionSetTransformer.ts``) for
the Salesforce CLI's source format and its decomposed permission sets.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

from sflint.model import ComponentType, ValueEnum


class Role(ValueEnum):
    """What a file holds of its component."""

    MAIN = "main"  # the component file itself
    USER_PERMISSIONS = "user-permissions"  # a decomposed permission set's user permissions
    OBJECT_PERMISSIONS = "object-permissions"  # beta: one object's permissions
    OBJECT_SETTINGS = "object-settings"  # beta2: one object's permissions, fields, tabs


class FixPolicy(enum.Enum):
    """How ``--fix`` turns a user permission off in a component of the kind (the fix
    engine reads it here: ``sflint.fix.scan.check_root``)."""

    # Deploying a permission set (API 40+) disables every permission it omits, so removing
    # the <userPermissions> element is the smallest edit, and the one a retrieve produces
    # (retrieved sets list only enabled permissions). SALESFORCE.md, "Absent vs disabled".
    REMOVE_ELEMENT = "remove-element"
    # A profile deploy overlays: an omitted permission stays as it is in the org, so only an
    # explicit <enabled>false</enabled> disables it. SALESFORCE.md, "Absent vs disabled".
    SET_FALSE = "set-false"
    # Nothing to edit: a group grants only through its member sets, and a muting set's
    # enabled permission removes access rather than granting it.
    NONE = "none"


# The table's rows are NamedTuples: frozen values as dataclasses would be, but every run
# imports this module, and a frozen dataclass compiles six methods when its class is created
# (these five: 3 ms of each run).
class Root(NamedTuple):
    """A root element a file of the kind may have, and what the reader takes from it."""

    local: str  # local name; sflint matches local names, never prefixes
    # Whether Salesforce writes it in the Metadata API namespace
    # (http://soap.sforce.com/2006/04/metadata); beta2 child files have none.
    namespaced: bool
    # Direct children the reader extracts (each one's extraction is in metadata/reader.py).
    reads: tuple[str, ...] = ()
    # The root element is itself one such entry (a beta1 child file is one userPermissions).
    entry: str | None = None


class Layout(NamedTuple):
    """One Salesforce CLI layout of a decomposed component's child files."""

    preset: str  # the sfdx-project.json sourceBehaviorOptions value that selects it
    # Beta: one file per entry in ``<Component>/<folder>/``; Beta2: one file in ``<Component>/``.
    folder: str | None
    root: Root


class Child(NamedTuple):
    """Child files of a decomposed component: ``<folder of the component>/.../*<suffix>``."""

    suffix: str
    role: Role
    layouts: tuple[Layout, ...]

    @property
    def roots(self) -> tuple[Root, ...]:
        return tuple(layout.root for layout in self.layouts)


class PersonaKey(NamedTuple):
    """The ``.sflint.yml`` persona key that names components of the kind."""

    key: str
    many: bool  # a list of names; else one name (a user has exactly one profile)


class Kind(NamedTuple):
    type: ComponentType
    source_suffix: str  # Salesforce DX source format
    mdapi_suffix: str  # Metadata API format
    # The folder Salesforce writes it to; discovery never relies on it (folder names vary in
    # case, ``permissionSets/``), it is where new files and test projects go.
    folder: str
    root: Root
    word: str  # how Setup names the type in a sentence
    persona_key: PersonaKey | None
    fix_policy: FixPolicy
    children: tuple[Child, ...] = ()

    @property
    def suffixes(self) -> tuple[str, str]:
        return (self.source_suffix, self.mdapi_suffix)

    def roots(self, role: Role) -> tuple[Root, ...]:
        """The root elements a file of ``role`` may have."""
        if role is Role.MAIN:
            return (self.root,)
        return tuple(r for c in self.children if c.role is role for r in c.roots)


# Fields of a permission set that sflint reads; MutingPermissionSet "has the same fields as
# PermissionSet, plus label" (Metadata API Developer Guide, MutingPermissionSet). Older
# permission set files name their license userLicense, as a profile does (real files in
# ../shared/corpus, mcarvin8__sf-decomposer, have it), so both are read.
_SET_READS = ("userPermissions", "objectPermissions", "label", "license", "userLicense")

# In the order a user's access is built: the one profile, the permission sets, the groups and
# their muting sets. Personas' references are resolved in this order (config.py), and
# ``sflint access`` lists them so.
KINDS: tuple[Kind, ...] = (
    Kind(
        type=ComponentType.PROFILE,
        source_suffix=".profile-meta.xml",
        mdapi_suffix=".profile",
        folder="profiles",
        # A profile has no label field; userLicense is the user license's name; custom is
        # false for Salesforce's standard profiles (Metadata API Developer Guide, Profile:
        # "Indicates whether the profile is a custom (true) or standard (false) profile").
        root=Root(
            "Profile",
            namespaced=True,
            reads=("custom", "userPermissions", "objectPermissions", "userLicense"),
        ),
        word="profile",
        persona_key=PersonaKey("profile", many=False),
        fix_policy=FixPolicy.SET_FALSE,
    ),
    Kind(
        type=ComponentType.PERMISSION_SET,
        source_suffix=".permissionset-meta.xml",
        mdapi_suffix=".permissionset",
        folder="permissionsets",
        root=Root("PermissionSet", namespaced=True, reads=_SET_READS),
        word="permission set",
        persona_key=PersonaKey("permission_sets", many=True),
        fix_policy=FixPolicy.REMOVE_ELEMENT,
        children=(
            Child(
                suffix=".userPermission-meta.xml",
                role=Role.USER_PERMISSIONS,
                layouts=(
                    # <PS>/userPermissions/<Name>.userPermission-meta.xml, root UserPermission
                    # in the Metadata API namespace, one grant per file.
                    Layout(
                        "decomposePermissionSetBeta",
                        "userPermissions",
                        Root("UserPermission", namespaced=True, entry="userPermissions"),
                    ),
                    # <PS>/<PS>.userPermission-meta.xml: every grant, under a <PermissionSet>
                    # root with no namespace.
                    Layout(
                        "decomposePermissionSetBeta2",
                        None,
                        Root("PermissionSet", namespaced=False, reads=("userPermissions",)),
                    ),
                ),
            ),
            # The same presets' object permissions (source-deploy-retrieve,
            # src/registry/presets/decomposePermissionSetBeta*.json: child type
            # "objectpermission"). Only <objectPermissions> is read from these files; their
            # field permissions, tab settings and record types grant nothing sflint reads.
            Child(
                suffix=".objectPermission-meta.xml",
                role=Role.OBJECT_PERMISSIONS,
                layouts=(
                    # <PS>/objectPermissions/<Object>.objectPermission-meta.xml, root
                    # ObjectPermission in the Metadata API namespace, one object per file.
                    Layout(
                        "decomposePermissionSetBeta",
                        "objectPermissions",
                        Root("ObjectPermission", namespaced=True, entry="objectPermissions"),
                    ),
                ),
            ),
            Child(
                suffix=".objectSettings-meta.xml",
                role=Role.OBJECT_SETTINGS,
                layouts=(
                    # <PS>/objectSettings/<Object>.objectSettings-meta.xml: the object's
                    # entries under a <PermissionSet> root with no namespace.
                    Layout(
                        "decomposePermissionSetBeta2",
                        "objectSettings",
                        Root("PermissionSet", namespaced=False, reads=("objectPermissions",)),
                    ),
                ),
            ),
        ),
    ),
    Kind(
        type=ComponentType.PERMISSION_SET_GROUP,
        source_suffix=".permissionsetgroup-meta.xml",
        mdapi_suffix=".permissionsetgroup",
        folder="permissionsetgroups",
        # Flat repeated <permissionSets>Name</permissionSets>, as real files have them.
        root=Root(
            "PermissionSetGroup",
            namespaced=True,
            reads=("label", "permissionSets", "mutingPermissionSets"),
        ),
        word="permission set group",
        persona_key=PersonaKey("permission_set_groups", many=True),
        fix_policy=FixPolicy.NONE,
    ),
    Kind(
        type=ComponentType.MUTING_PERMISSION_SET,
        source_suffix=".mutingpermissionset-meta.xml",
        mdapi_suffix=".mutingpermissionset",
        folder="mutingpermissionsets",
        root=Root("MutingPermissionSet", namespaced=True, reads=_SET_READS),
        word="muting permission set",
        # A muting set acts only inside the group that lists it: no user is assigned one.
        persona_key=None,
        fix_policy=FixPolicy.NONE,
    ),
)

_BY_TYPE = {k.type: k for k in KINDS}


def kind_of(ctype: ComponentType) -> Kind:
    return _BY_TYPE[ctype]


def component_types() -> tuple[ComponentType, ...]:
    """Every component type, in the table's order."""
    return tuple(k.type for k in KINDS)


def persona_keys() -> tuple[tuple[PersonaKey, ComponentType], ...]:
    """The ``.sflint.yml`` persona keys, in the table's order, with the type each names."""
    return tuple((k.persona_key, k.type) for k in KINDS if k.persona_key is not None)
