"""Start-up: ``sflint --version`` and ``--help`` import click and nothing heavy.

A pre-commit hook runs on every commit, so the parts of sflint that only answer questions
about itself must not pay for the XML, YAML, schema and SARIF libraries. Each case runs in a
fresh interpreter (``python -m sflint``, as the console script would) and lists the modules
it imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import sflint

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("lxml", "yaml", "jsonschema", "sarif_om", "pathspec")

# Runs sflint's __main__ and writes the imported module names to argv[1].
PROBE = """
import json, runpy, sys
report, sys.argv = sys.argv[1], ["sflint", *sys.argv[2:]]
try:
    runpy.run_module("sflint", run_name="__main__", alter_sys=True)
    code = 0
except SystemExit as exc:
    code = exc.code
with open(report, "w", encoding="utf-8") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""


def _probe(tmp_path: Path, *argv: str) -> tuple[int, str, set[str]]:
    report = tmp_path / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(report), *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert report.is_file(), result.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    return data["code"], result.stdout, set(data["modules"])


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def test_version_is_light(tmp_path: Path) -> None:
    code, out, modules = _probe(tmp_path, "--version")
    assert code == 0
    assert out.strip() == f"sflint {sflint.__version__}"
    assert _heavy(modules) == []
    # Nor sflint's own data-heavy modules: every one of them costs each commit's hook run.
    assert {"sflint.app", "sflint.project", "sflint.model", "sflint.kinds", "traceback"}.isdisjoint(
        modules
    )
    assert {"sflint.catalogue", "sflint.rules", "sflint.metadata", "sflint.pipeline"}.isdisjoint(
        modules
    )
    assert _not_needed_for_help(modules) == []


# What answering --help or --version never needs, beyond the heavy libraries: the dataclasses
# of the options and the report (``dataclasses`` compiles six methods per frozen class when
# the class is created, and imports ``copy``), and pathlib (with urllib.parse): the choices
# come from ``sflint.choices``, and a path is converted only when one is given.
HELP_UNUSED = ("dataclasses", "pathlib", "urllib", "sflint.settings", "sflint.output")


def _not_needed_for_help(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m in HELP_UNUSED or m.split(".")[0] in HELP_UNUSED)


def test_settings_names_the_project_files_as_discovery_does() -> None:
    from sflint import baseline, project, settings

    assert settings._SETTINGS_FILES == (
        project.PROJECT_FILE,
        project.CONFIG_FILE,
        project.FORCEIGNORE,
        baseline.DEFAULT_NAME,
    )
    assert settings.BASELINE_FILE == baseline.DEFAULT_NAME


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["check", "--help"]], ids=" ".join)
def test_help_is_light(tmp_path: Path, argv: list[str]) -> None:
    code, out, modules = _probe(tmp_path, *argv)
    assert code == 0
    assert "Usage:" in out
    assert _heavy(modules) == []
    assert _not_needed_for_help(modules) == []


def test_probe_sees_heavy_imports(tmp_path: Path) -> None:
    """The probe itself works: a real check (without the cache) loads lxml and YAML."""
    example = ROOT / "testdata" / "projects" / "commission-app"
    code, _, modules = _probe(tmp_path, "check", str(example), "--fail-on", "never", "--no-cache")
    assert code == 0
    assert {"lxml", "yaml"} <= {m.split(".")[0] for m in modules}


# What a check whose findings come from the memo of the last run never needs: no file is
# read, no rule is loaded or evaluated, no persona is resolved, no catalogue is consulted.
MEMO_HIT_UNUSED = (
    "lxml",
    "yaml",
    "jsonschema",
    "sflint.metadata.reader",
    "sflint.metadata.plain",
    "sflint.metadata.loader",
    "sflint.rules.loader",
    "sflint.rules.matchers",
    "sflint.engine",
    "sflint.access",
    "sflint.catalogue",
    "sflint.since",
    "sflint.baseline",  # the example project has no baseline file
)


def test_a_check_from_the_memo_is_light(tmp_path: Path) -> None:
    import shutil
    import time

    project = tmp_path / "example"
    shutil.copytree(ROOT / "testdata" / "projects" / "commission-app", project)
    group = (
        "force-app/main/default/permissionsetgroups/Integration_Base.permissionsetgroup-meta.xml"
    )
    for argv in (["check", str(project)], ["check", str(project / group)]):
        argv += ["--fail-on", "never", "--format", "json"]
        _probe(tmp_path, *argv)
        time.sleep(2.1)  # past the 2 s in which a record of a just-read file is not trusted
        _probe(tmp_path, *argv)  # records taken now are trusted: this one writes the memo
        code, out, modules = _probe(tmp_path, *argv)
        assert code == 0
        assert json.loads(out)["findings"], argv
        assert sorted(m for m in modules if m.split(".")[0] in MEMO_HIT_UNUSED) == []
        assert sorted(m for m in modules if m in MEMO_HIT_UNUSED) == []
