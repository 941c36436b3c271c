"""The built-in rules as sflint ships them already validated (``rules/validated.json``).

A run without a cache (``--no-cache``, a fresh CI machine) would otherwise parse the 16
built-in YAML files and validate each against the rule schema on every run: about a tenth of
a second, and the imports of PyYAML and jsonschema. The store holds each built-in file's
validated document under the key the cache uses (its bytes, the schema and sflint's
version), so a file whose bytes differ from what was validated here (an edited rule, another
version) is simply not found and goes through the YAML parser and the schema like any other.
Only the built-in folder is looked up in it: a rule folder of the scanned project never is.

Regenerate after editing a built-in rule (``tests/test_rules.py`` fails until then)::

    python -m sflint.rules.validated
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VALIDATED_FILE = "validated.json"
MAX_BYTES = 4 << 20  # the store is about 100 KB; a rule file may hold at most 1 MB


def load(folder: Path) -> dict[str, Any]:
    """The store beside the built-in rules, or an empty one when it is missing or damaged."""
    from sflint.safeio import Refused, read_bytes

    path = folder / VALIDATED_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(read_bytes(path, folder, MAX_BYTES))
    except (Refused, OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def build(folder: Path) -> dict[str, Any]:
    """Every rule file of ``folder`` parsed and validated, by its key."""
    from sflint.rules.schema import SCHEMA
    from sflint.yamlload import cache_key, load_checked, stored_form

    store: dict[str, Any] = {}
    for file in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        doc = load_checked(file, file.name, SCHEMA, root=folder)
        store[cache_key(file.read_bytes(), SCHEMA)] = stored_form(doc)
    return store


def render(store: dict[str, Any]) -> str:
    # Key order is kept: a mapping's order means something (the files of an example).
    return json.dumps(store, separators=(",", ":")) + "\n"


def main() -> None:
    from sflint.rules import builtin_rules_dir

    folder = builtin_rules_dir()
    (folder / VALIDATED_FILE).write_text(render(build(folder)), encoding="utf-8")


if __name__ == "__main__":
    main()
