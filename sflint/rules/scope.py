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
