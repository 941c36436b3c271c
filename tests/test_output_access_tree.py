"""The access tree from hand-made values: no project, no parsing."""

from __future__ import annotations

from sflint.access import Access, EffectiveGrant, Persona
from sflint.config import Reference
from sflint.model import Component, ComponentType, Grant, Location, PersonaKind
from sflint.output.access_tree import NO_PERSONAS, render

CONFIG = Location(".sflint.yml", 2)
SET = Component(ComponentType.PERMISSION_SET, "Sync", ("ps/Sync.permissionset-meta.xml",))
MUTING = Component(ComponentType.MUTING_PERMISSION_SET, "Mute", ("m/Mute.xml",))
GROUP = Component(ComponentType.PERMISSION_SET_GROUP, "Base", ("g/Base.xml",))


def _grant(name: str, line: int, enabled: bool = True) -> Grant:
    return Grant(name, enabled, Location("ps/Sync.permissionset-meta.xml", line))


def test_no_personas() -> None:
    assert render(()) == NO_PERSONAS


def test_grants_sorted_with_chain_muting_and_missing_components() -> None:
    persona = Persona("App", PersonaKind.INTEGRATION, (), CONFIG)
    access = Access(
        persona,
        (
            EffectiveGrant(_grant("ViewAllData", 9), SET, GROUP, MUTING),
            EffectiveGrant(_grant("ApiEnabled", 5), SET),
            EffectiveGrant(_grant("AuthorApex", 7, enabled=False), SET),
        ),
        (SET,),
        (Reference(ComponentType.PROFILE, "Gone", Location(".sflint.yml", 4)),),
    )
    assert render((access,)) == (
        "App [integration] (declared in .sflint.yml:2)\n"
        "  ├─ ApiEnabled  ← permission set Sync  (ps/Sync.permissionset-meta.xml:5)\n"
        "  ├─ ViewAllData  ← permission set group Base → permission set Sync"
        "  (ps/Sync.permissionset-meta.xml:9)  [muted by Mute]\n"
        "  └─ ? Profile Gone is not in the project (.sflint.yml:4)\n"
    )


def test_detected_persona_without_enabled_permissions() -> None:
    persona = Persona(
        "permission set Sync", PersonaKind.INTEGRATION, (), SET.location, "it enables X"
    )
    access = Access(
        persona, (EffectiveGrant(_grant("ApiEnabled", 5, enabled=False), SET),), (SET,), ()
    )
    assert render((access,)) == (
        "permission set Sync [integration] (detected: it enables X)\n"
        "  (no enabled user permissions)\n"
    )
