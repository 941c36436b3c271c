"""Salesforce's standard profiles: which profiles are Salesforce's, how Setup names them,
and whether an admin can change their user permissions (``sflint/data/standard-profiles.tsv``,
sources in ``sflint/data/README.md``).

A profile file says whether it is standard: ``<custom>false</custom>`` ("Indicates whether
the profile is a custom (true) or standard (false) profile", Metadata API Developer Guide,
Profile, API 30.0 and later). A file that leaves ``<custom>`` out (a partial retrieve, a
hand-trimmed ``Admin.profile``) is standard when its API name is in the table.

Salesforce Help, "Standard Profiles": "While you can't edit standard profile permissions, you
can edit the following settings" (custom app and tab settings, desktop clients, session
settings, password policies). The one documented exception is Minimum Access - API Only
Integrations (Salesforce Help, "Give Integration Users API Only Access"): "You can't turn off
the API-only access granted through this profile, but you can change other capabilities,
permissions, settings, and data access granted to users via this profile."
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sflint.model import Component, ComponentType

__all__ = ["StandardProfile", "StandardProfiles"]


@dataclass(frozen=True)
class StandardProfile:
    name: str  # the API name: the file name, as sflint names the component
    setup_name: str  # how Setup lists it (the API name where no source says otherwise)
    editable: bool  # whether an admin can change its user permissions


# <custom> as Salesforce writes it, and the other xsd:boolean spelling of false.
_FALSE = frozenset({"false", "0"})


@dataclass(frozen=True)
class StandardProfiles:
    by_name: Mapping[str, StandardProfile] = field(default_factory=dict, hash=False)

    @staticmethod
    def from_rows(rows: Iterable[Mapping[str, str]]) -> StandardProfiles:
        table = {}
        for row in rows:
            name = row["name"]
            setup = row["setup_name"] or name
            table[name] = StandardProfile(name, setup, row["permissions_editable"] == "yes")
        return StandardProfiles(table)

    def of(self, component: Component) -> StandardProfile | None:
        """The standard profile ``component`` is, or None for a custom one (or not a profile)."""
        if component.type is not ComponentType.PROFILE:
            return None
        custom = (component.custom or "").strip().lower()
        known = self.by_name.get(component.name)
        if custom in _FALSE:
            # Standard by its own word, whether or not the table lists it.
            return known or StandardProfile(component.name, component.name, False)
        return known if not custom else None

    def locked(self, component: Component) -> StandardProfile | None:
        """The standard profile ``component`` is, when an admin cannot change its user
        permissions; None otherwise."""
        found = self.of(component)
        return found if found is not None and not found.editable else None

    def with_setup_names(self, components: Iterable[Component]) -> tuple[Component, ...]:
        """``components`` with each standard profile labelled with its Setup name, so that
        ``.sflint.yml`` may name it as Setup does (``profile: System Administrator`` for
        ``Admin.profile``): a profile has no label field of its own, and the name Setup shows
        is Profile.Name. Matching stays exact, on the API name or on this name."""
        out = []
        for c in components:
            found = self.of(c) if c.label is None else None
            if found is not None and found.setup_name != c.name:
                c = c._replace(label=found.setup_name)
            out.append(c)
        return tuple(out)

    def setup_keys(
        self, keys: Iterable[tuple[ComponentType, str]]
    ) -> list[tuple[ComponentType, str]]:
        """The Setup names of the standard profiles among ``keys`` (type, API name): a
        profile that .forceignore skips may be named by its Setup name too."""
        out = []
        for ctype, name in keys:
            found = self.by_name.get(name) if ctype is ComponentType.PROFILE else None
            if found is not None and found.setup_name != name:
                out.append((ctype, found.setup_name))
        return out


def describe(profile: StandardProfile) -> str:
    """How a message names it: ``Admin (System Administrator in Setup)``, or the name."""
    if profile.setup_name != profile.name:
        return f"{profile.name} ({profile.setup_name} in Setup)"
    return profile.name
