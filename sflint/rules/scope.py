"""The vocabulary of a rule's reach: its scopes, and the placeholders that every finding of
a scope fills whatever the matcher (see ``engine._finding``). Persona kinds are
``sflint.model.PersonaKind``."""

from __future__ import annotations

from sflint.model import ValueEnum


class Scope(ValueEnum):
    FILE = "file"  # each component on its own
    PERSONA = "persona"  # each persona's effective access


# What the engine fills for every finding of the scope. A file-scope finding always points
# into one component; a persona-scope finding names its persona (``signal`` is empty for a
# declared one, ``chain`` is the persona's name when no grant chain applies).
SCOPE_PLACEHOLDERS: dict[Scope, frozenset[str]] = {
    Scope.FILE: frozenset({"path", "component", "component_type"}),
    Scope.PERSONA: frozenset({"path", "persona", "signal", "chain"}),
}
# What a hit that carries its component adds (the engine fills both from it).
COMPONENT_PLACEHOLDERS = frozenset({"component", "component_type"})
# What a rule with ``aggregate`` fills instead of the values of each element it stands for:
# how many there are (``{count}``: "832 objects") and the first few (``{items}``).
AGGREGATE_PLACEHOLDERS = frozenset({"count", "items"})
# What every element of one component has in common, in an aggregated finding: the scope's
# own values and the component's (the chain through which the persona holds it is one).
SHARED_PLACEHOLDERS = frozenset({"group"}) | COMPONENT_PLACEHOLDERS
