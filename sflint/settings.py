"""What the user asked for: the options typed on the command line, and the one ``Settings``
value they resolve to once ``.sflint.yml`` is read (the command line wins, in ``resolve``).

The command line's enum choices live in ``sflint.choices`` (re-exported here), so that
``sflint --help`` imports neither this module nor its dataclasses.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

# Re-exported: the commands and tests import them from here.
from sflint.choices import FailOn as FailOn
from sflint.choices import FixStrategy as FixStrategy
from sflint.choices import Format
from sflint.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sflint.config import Config
    from sflint.model import Confidence

# The project's own settings files (sflint.project has the same names; not imported here,
# because sflint.project imports the model and the kinds, which not every command needs).
_SETTINGS_FILES = ("sfdx-project.json", ".sflint.yml", ".forceignore", ".sflint-baseline.json")
# The project's own baseline file (``sflint.baseline.DEFAULT_NAME``), for a caller that
# imports the baseline module only when there is one.
BASELINE_FILE = _SETTINGS_FILES[3]


class LoadOptions(NamedTuple):
    """The command-line options that shape what is loaded: the same for check, access, init."""

    paths: tuple[Path, ...] = ()
    config: Path | None = None
    rule_dirs: tuple[Path, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: FailOn | None = None
    # ``--min-confidence``: personas detected with less confidence are not checked.
    min_confidence: Confidence | None = None
    use_forceignore: bool = True
    # Validated config and rule files by content hash; None: no cache (see cli.cache_dir).
    cache_dir: Path | None = None
    # A run on named files may leave what it reports nothing about light (pipeline.load):
    # only for a caller that judges no finding against the whole project (batch).
    focus: bool = False
    # The findings may come from the memo of the last run (sflint.metadata.memo): only for a
    # caller that needs nothing of the components but their files and suppressions (batch,
    # when it plans no fix).
    memo: bool = False


class Options(NamedTuple):
    """``sflint check``: what to load, and what to do with the findings."""

    load: LoadOptions = LoadOptions()
    format: Format = Format.CONSOLE
    output: Path | None = None
    sarif_file: Path | None = None
    sarif_category: str | None = None
    show_fixes: bool = False
    color: bool = False
    quiet: bool = False
    fix: bool = False
    diff: bool = False
    fix_strategy: FixStrategy = FixStrategy.EDIT
    # Paths in every output are relative to this folder (default: the git top level).
    path_base: Path | None = None
    # A project without any permission metadata is exit 2 unless this is set.
    allow_empty: bool = False
    # Report only findings this git revision does not have (``--new-since``).
    new_since: str | None = None
    # The baseline file; None: each project's .sflint-baseline.json, when there is one.
    baseline: Path | None = None
    # ``--no-ignores``: report every finding, whatever comment, exception or baseline
    # accepted it.
    ignores: bool = True
    # SARIF carries the suppressed findings, as results with ``suppressions``.
    sarif_suppressed: bool = True


class Settings(NamedTuple):
    """One project's settings: command line and ``.sflint.yml`` merged."""

    root: Path
    config: Config  # personas, detection, known permissions; where each setting was read
    fail_on: FailOn
    select: tuple[str, ...]
    ignore: tuple[str, ...]
    # The folders of YAML rules: the built-in pack, then the config's, then the command line's.
    rule_dirs: tuple[Path, ...]
    use_forceignore: bool
    cache_dir: Path | None
    # Files and folders named on the command line; they are read even outside the package
    # directories (the root itself and the project's settings files are not "named" here).
    extra_files: tuple[Path, ...]
    # Project-relative paths the user asked about; None means the whole project.
    targets: tuple[str, ...] | None
    # The personas checked are those of at least this confidence (declared ones are high);
    # None: the default, DEFAULT_CONFIDENCE_NAME.
    min_confidence: Confidence | None = None

    @property
    def confidence_floor(self) -> Confidence:
        from sflint.model import Confidence

        return self.min_confidence or Confidence(DEFAULT_CONFIDENCE_NAME)


# ``--min-confidence`` when neither the command line nor .sflint.yml says.
DEFAULT_CONFIDENCE_NAME = "medium"


def resolve(options: LoadOptions, root: Path, config: Config) -> Settings:
    """Merge the command line and the config of the project at ``root``: the command line
    wins where both say something (``--select`` replaces ``rules.select``; ``--ignore`` adds
    to ``rules.ignore``, as ruff's ``--extend-ignore`` would)."""
    from sflint.model import Confidence
    from sflint.rules import builtin_rules_dir

    config_fail_on = FailOn(config.fail_on) if config.fail_on else None
    return Settings(
        root=root,
        config=config,
        fail_on=options.fail_on or config_fail_on or FailOn.ERROR,
        select=options.select or config.select,
        ignore=(*config.ignore, *options.ignore),
        rule_dirs=(builtin_rules_dir(), *config.rule_paths, *options.rule_dirs),
        use_forceignore=options.use_forceignore,
        cache_dir=options.cache_dir,
        extra_files=tuple(p for p in options.paths if _names_part(p, root)),
        targets=targets(options.paths, root),
        # Medium by default: a name that reads like an integration user's and API or broad
        # data access is checked; a name alone, or the shape alone, is only listed by init.
        min_confidence=options.min_confidence
        or config.min_confidence
        or Confidence(DEFAULT_CONFIDENCE_NAME),
    )


def targets(paths: tuple[Path, ...], root: Path) -> tuple[str, ...] | None:
    """Project-relative paths the user asked about; None means the whole project."""
    from sflint.project import own_rel

    out: list[str] = []
    for p in paths:
        # A file or link is named as it sits (a link is not its target: discovery reports
        # it under its own name); a folder as it resolves.
        rel = own_rel(p, root) if p.is_symlink() or not p.is_dir() else _resolved_rel(p, root)
        if rel is None:
            raise UsageError(f"{p}: not inside the project at {root}")
        if rel == "." or p.name in _SETTINGS_FILES:
            # The project settings shape every persona: report the whole project.
            return None
        out.append(rel)
    return tuple(out) or None


class Under:
    """Whether any of some project-relative paths is one of ``targets`` or lies in a
    target folder: what a run on named files keeps."""

    def __init__(self, targets: tuple[str, ...]) -> None:
        self.exact = frozenset(targets)
        self.folders = tuple(t.rstrip("/") + "/" for t in targets)

    def __call__(self, paths: Iterable[str]) -> bool:
        return any(p in self.exact or p.startswith(self.folders) for p in paths)


def _names_part(path: Path, root: Path) -> bool:
    """Whether ``path`` names a part of the project to lint, not the project as a whole."""
    if path.name in _SETTINGS_FILES:
        return False
    if path.is_dir() and not path.is_symlink():
        return _resolved_rel(path, root) not in (None, ".")
    return True


def _resolved_rel(folder: Path, root: Path) -> str | None:
    try:
        return folder.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def check_exists(paths: tuple[Path, ...]) -> None:
    """Every command takes paths by the same rule: each must exist."""
    for p in paths:
        if not p.exists():
            raise UsageError(f"{p}: no such file or folder")
