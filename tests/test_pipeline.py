"""The loader and the settings: resolved once, read once, with the command line winning."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from sflint import access, safeio
from sflint.app import check
from sflint.config import Config
from sflint.pipeline import load
from sflint.rules import matchers
from sflint.rules.loader import builtin_rules_dir
from sflint.settings import FailOn, LoadOptions, resolve
from tests.conftest import EXAMPLE, run_check

CONFIG = Config(
    fail_on="warning",
    select=("SFL001", "SFL002"),
    ignore=("SFL002",),
    rule_paths=(Path("/r/config"),),
)


def test_settings_take_the_config_where_the_command_line_is_silent() -> None:
    settings = resolve(LoadOptions(), EXAMPLE, CONFIG)
    assert settings.fail_on is FailOn.WARNING
    assert (settings.select, settings.ignore) == (("SFL001", "SFL002"), ("SFL002",))
    assert settings.rule_dirs == (builtin_rules_dir(), Path("/r/config"))
    assert (settings.use_forceignore, settings.cache_dir, settings.targets) == (True, None, None)


def test_settings_command_line_wins() -> None:
    options = LoadOptions(
        paths=(EXAMPLE / "force-app",),
        rule_dirs=(Path("/r/cli"),),
        select=("SFL003",),
        ignore=("SFL004",),
        fail_on=FailOn.NEVER,
        use_forceignore=False,
        cache_dir=Path("/c"),
    )
    settings = resolve(options, EXAMPLE, CONFIG)
    assert settings.fail_on is FailOn.NEVER
    # --select replaces the config's selection; --ignore adds to its ignores.
    assert (settings.select, settings.ignore) == (("SFL003",), ("SFL002", "SFL004"))
    assert settings.rule_dirs == (builtin_rules_dir(), Path("/r/config"), Path("/r/cli"))
    assert (settings.use_forceignore, settings.cache_dir) == (False, Path("/c"))
    assert settings.targets == ("force-app",)


def test_settings_default_to_fail_on_error() -> None:
    assert resolve(LoadOptions(), EXAMPLE, Config()).fail_on is FailOn.ERROR


def test_fail_on_threshold() -> None:
    assert [f.threshold.value if f.threshold else None for f in FailOn] == [
        "error",
        "warning",
        "note",
        None,
    ]


def test_personas_are_resolved_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = access.resolve

    def counting(persona: access.Persona, index: access.Index) -> access.Access:
        calls.append(persona.name)
        return real(persona, index)

    monkeypatch.setattr(access, "resolve", counting)
    # Also where the engine once imported it from, to resolve every persona a second time.
    monkeypatch.setattr("sflint.engine.resolve", counting, raising=False)
    checked = run_check(EXAMPLE)
    assert calls == ["Commission app connection"]
    assert [f.persona for f in checked.findings if f.rule == "SFL001"] == [
        "Commission app connection",
        "Commission app connection",
    ]


XPATH_RULE = """\
id: ACME00{n}
name: xpath-{n}
summary: s
severity: warning
scope: file
component_types: [PermissionSet, Profile]
match:
  xpath: "/*/userPermissions[name='TwoFactorApi' and enabled='true']"
message: "{{component}} grants {{detail}}"
docs:
  why: Because.
  how_to_fix: Remove it.
"""


def test_files_are_read_and_parsed_for_xpath_once_per_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    rules = tmp_path / "rules"
    rules.mkdir()
    for n in (1, 2):
        (rules / f"ACME00{n}-xpath-{n}.yaml").write_text(XPATH_RULE.format(n=n))
    reads: Counter[str] = Counter()
    real_read = safeio.read_bytes  # every project file is read through the policy

    def counting_read(path: Path, root: Path | None, limit: int) -> bytes:
        reads[path.name] += 1
        return real_read(path, root, limit)

    real_folders_read = safeio.Folders.read  # the loader's many files, each folder once

    def counting_folders_read(
        self: safeio.Folders, path: Path, limit: int
    ) -> tuple[os.stat_result, bytes]:
        reads[path.name] += 1
        return real_folders_read(self, path, limit)

    parses: Counter[bytes] = Counter()
    real_parse = matchers._namespace_free

    def counting_parse(data: bytes) -> object:
        parses[data] += 1
        return real_parse(data)

    monkeypatch.setattr(safeio, "read_bytes", counting_read)
    monkeypatch.setattr(safeio.Folders, "read", counting_folders_read)
    monkeypatch.setattr(matchers, "_namespace_free", counting_parse)
    loaded = load(LoadOptions(paths=(project,), rule_dirs=(rules,)))
    assert set(loaded.sources) == {f.rel for f in loaded.project.files}
    findings = check(loaded).findings
    ps = "force-app/main/default/permissionsets"
    assert sorted((f.rule, f.path, f.line) for f in findings if f.rule.startswith("ACME")) == [
        ("ACME001", f"{ps}/Commission_App_API.permissionset-meta.xml", 24),
        (
            "ACME001",
            "integrations/main/default/permissionsets/Data_Loader_Users.permissionset-meta.xml",
            13,
        ),
        (
            "ACME001",
            "integrations/main/default/permissionsets/Sales_Data_Access.permissionset-meta.xml",
            8,
        ),
        ("ACME002", f"{ps}/Commission_App_API.permissionset-meta.xml", 24),
        (
            "ACME002",
            "integrations/main/default/permissionsets/Data_Loader_Users.permissionset-meta.xml",
            13,
        ),
        (
            "ACME002",
            "integrations/main/default/permissionsets/Sales_Data_Access.permissionset-meta.xml",
            8,
        ),
    ]
    metadata = {Path(f.rel).name for f in loaded.project.files}
    assert {name: reads[name] for name in metadata} == dict.fromkeys(metadata, 1)
    # Permission sets and profiles are the rules' types: each is parsed once for both rules.
    xpath_files = [f for f in loaded.project.files if f.type.value in ("PermissionSet", "Profile")]
    assert sorted(parses.values()) == [1] * len(xpath_files)


def test_without_xpath_rules_no_bytes_are_kept() -> None:
    assert load(LoadOptions(paths=(EXAMPLE,))).sources == {}
