"""The built-in rules ship validated (``rules/validated.json``): current, used only for
the built-in folder, and never a way around the schema for any other file."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from sflint.errors import UsageError
from sflint.rules import builtin_rules_dir, validated
from sflint.rules.loader import load_rules
from sflint.rules.schema import SCHEMA
from sflint.yamlload import cache_key, load_checked, parse_yaml, stored_form

RULE = builtin_rules_dir() / "SFL001-integration-api-mfa.yaml"


def test_the_store_holds_exactly_the_built_in_rules_as_validated_today() -> None:
    # Stale after an edit of a built-in rule: `python -m sflint.rules.validated` renews it.
    shipped = (builtin_rules_dir() / validated.VALIDATED_FILE).read_text(encoding="utf-8")
    assert shipped == validated.render(validated.build(builtin_rules_dir()))
    assert len(json.loads(shipped)) == len(list(builtin_rules_dir().glob("*.yaml")))


def test_a_run_without_cache_loads_the_built_in_rules_without_yaml_or_the_schema(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("yaml", "jsonschema"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    rules = load_rules((builtin_rules_dir(),))
    assert [r.id for r in rules][:3] == ["SFL001", "SFL002", "SFL003"]
    assert ("yaml" in sys.modules, "jsonschema" in sys.modules) == (False, False)
    # The same documents as parsed from the YAML itself, in the same key order (the order
    # of an example's files is the order they are shown in).
    shipped = validated.load(builtin_rules_dir())
    for file in sorted(builtin_rules_dir().glob("*.yaml")):
        raw = file.read_bytes()
        parsed = stored_form(parse_yaml(raw.decode(), file.name))
        assert json.dumps(shipped[cache_key(raw, SCHEMA)]) == json.dumps(parsed), file.name


def test_a_file_whose_bytes_are_not_in_the_store_is_validated(tmp_path: Path) -> None:
    bad = tmp_path / "SFL900-bad.yaml"
    bad.write_text("id: SFL900\nname: bad\nseverity: loud\n")
    store = validated.build(builtin_rules_dir())
    with pytest.raises(UsageError):
        load_checked(bad, bad.name, SCHEMA, root=tmp_path, validated=store)


def test_a_damaged_store_entry_is_parsed_and_validated_instead(tmp_path: Path) -> None:
    key = cache_key(RULE.read_bytes(), SCHEMA)
    doc = load_checked(RULE, RULE.name, SCHEMA, root=RULE.parent, validated={key: {"x": 1}})
    assert doc.data["id"] == "SFL001"


def test_a_project_rule_folder_is_never_looked_up_in_a_store_it_brings(tmp_path: Path) -> None:
    # A pull request that adds an invalid rule and a validated.json vouching for it under
    # the invalid file's own key: the folder is not sflint's, so the schema still decides.
    folder = tmp_path / "rules"
    folder.mkdir()
    bad = folder / "SFL900-bad.yaml"
    bad.write_text("id: SFL900\nname: bad\nseverity: loud\n")
    good = stored_form(parse_yaml(RULE.read_text(), RULE.name))
    (folder / validated.VALIDATED_FILE).write_text(
        json.dumps({cache_key(bad.read_bytes(), SCHEMA): good})
    )
    with pytest.raises(UsageError) as caught:
        load_rules((folder,))
    assert "SFL900-bad.yaml" in str(caught.value.path or caught.value)


def test_a_missing_or_damaged_store_is_an_empty_one(tmp_path: Path) -> None:
    assert validated.load(tmp_path) == {}
    (tmp_path / validated.VALIDATED_FILE).write_text("{not json")
    assert validated.load(tmp_path) == {}
    (tmp_path / validated.VALIDATED_FILE).write_text("[]")
    assert validated.load(tmp_path) == {}
    link = tmp_path / "linked"
    link.mkdir()
    shutil.copy(builtin_rules_dir() / validated.VALIDATED_FILE, tmp_path / "real.json")
    (link / validated.VALIDATED_FILE).symlink_to(tmp_path / "real.json")
    assert validated.load(link) == {}
