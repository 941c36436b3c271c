"""The front half of every command: one project loaded once.

``load`` finds the project holding the given paths, reads its ``.sflint.yml``, resolves the
settings, discovers and reads the metadata files, loads and selects the rules, and resolves
every persona's access. ``check``, ``access`` and ``init`` all start here, so they honour
the same options, the same cache and the same path rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sflint.errors import UsageError
from sflint.settings import LoadOptions, Settings, Under, check_exists, resolve

if TYPE_CHECKING:
    from sflint.access import Access, Index
    from sflint.catalogue import Catalogue
    from sflint.config import Config
    from sflint.model import Component
    from sflint.project import Project
    from sflint.rules.model import Rule


@dataclass(frozen=True)
class Loaded:
    settings: Settings
    project: Project
    components: tuple[Component, ...]
    rules: tuple[Rule, ...]  # the selected rules, in id order
    catalogue: Catalogue  # the shipped one with the config's known permissions
    index: Index
    accesses: tuple[Access, ...]  # every persona's access, declared ones first
    # File bytes by project-relative path, kept only when a rule reads the files (``xpath``).
    sources: Mapping[str, bytes] = field(default_factory=dict, hash=False)
    # Loaded for a run on named files (``LoadOptions.focus``): the components it evaluates
    # nothing of are light, so only the findings about the targets can be evaluated.
    focused: bool = False

    @property
    def checked_accesses(self) -> tuple[Access, ...]:
        """The personas at or above ``--min-confidence``: what ``check`` evaluates and
        ``access`` shows (declared personas are high)."""
        floor = self.settings.confidence_floor.rank
        return tuple(a for a in self.accesses if a.persona.confidence.rank >= floor)


def load(
    options: LoadOptions,
    catalogue: Catalogue | None = None,
    *,
    config: Config | None = None,
) -> Loaded:
    """Load the project holding ``options.paths`` (default: the current folder).

    ``catalogue`` is the shipped permission catalogue when the caller already loaded it (a
    batch of several projects); ``config`` replaces reading ``.sflint.yml`` (``init``, which
    writes that file, must not read the one it replaces).
    """
    from sflint.access import Focus, Index, accesses_for
    from sflint.catalogue import load_catalogue
    from sflint.config import check_references, load_config
    from sflint.metadata.loader import load_components, load_with_sources
    from sflint.project import classify, load_project, locate
    from sflint.rules.loader import load_rules

    check_exists(options.paths)
    paths = options.paths or (Path.cwd(),)
    located = locate(paths[0])
    root = located.path
    if config is None:
        config = load_config(root, options.config, options.cache_dir)
    settings = resolve(options, root, config)
    loaded_rules = load_rules(settings.rule_dirs, root, settings.cache_dir)
    rules = _pick(_with_severity(loaded_rules, config), settings)
    project = load_project(
        root,
        use_forceignore=settings.use_forceignore,
        extra=settings.extra_files,
        kind=located.kind,
    )
    # Only xpath rules read the files themselves; only then are the bytes kept.
    sources: Mapping[str, bytes] = {}
    focus: Focus | None = None
    if any(r.reads_files for r in rules):
        components, sources = load_with_sources(project.files, project.root, settings.cache_dir)
    else:
        # A run on named files decodes whole only what it evaluates or a persona needs;
        # exceptions are judged against the whole project's findings (app.check).
        targets = settings.targets
        if options.focus and targets is not None and not config.exceptions:
            focus = Focus(config, Under(targets))
        components = load_components(project.files, project.root, settings.cache_dir, focus=focus)
    # A persona naming what the project lacks is a mistake in the config: exit 2.
    skipped = [k[:2] for rel in project.forceignored if (k := classify(Path(rel)))]
    check_references(config, components, skipped)
    index = Index.build(components)
    return Loaded(
        settings=settings,
        project=project,
        components=components,
        rules=rules,
        catalogue=(catalogue or load_catalogue()).with_config(
            config.known_permissions, strict=config.strict_permissions
        ),
        index=index,
        accesses=accesses_for(config, components, index),
        sources=sources,
        focused=focus is not None,
    )


def _with_severity(rules: tuple[Rule, ...], config: Config) -> tuple[Rule, ...]:
    """The rules with the severities ``.sflint.yml`` sets (``severity: {SFL008: note}``); an
    unknown id or name is a usage error at its line. The rule itself changes, so its SARIF
    default level and its findings agree."""
    from dataclasses import replace

    if not config.severity:
        return rules
    known = {r.id for r in rules} | {r.name for r in rules}
    for ident, _ in config.severity:
        if ident not in known:
            line = config.rule_lines.get(ident)
            message = f"unknown rule {ident!r} in severity (see `sflint rules`)"
            raise UsageError(message, config.path, line)
    chosen = dict(config.severity)
    out = []
    for r in rules:
        # A rule named by both its id and its name takes the id's setting.
        severity = chosen.get(r.id) or chosen.get(r.name)
        out.append(replace(r, severity=severity) if severity else r)
    return tuple(out)


def _pick(rules: tuple[Rule, ...], settings: Settings) -> tuple[Rule, ...]:
    """The rules ``select``/``ignore`` leave; an unknown id or name is a usage error, at its
    line in the config when it comes from there."""
    config = settings.config
    known = {r.id for r in rules} | {r.name for r in rules}
    for ident in (*settings.select, *settings.ignore):
        if ident in known:
            continue
        if ident in config.rule_lines:
            line = config.rule_lines[ident]
            raise UsageError(f"unknown rule {ident!r} (see `sflint rules`)", config.path, line)
        raise UsageError(f"unknown rule {ident!r} in --select/--ignore (see `sflint rules`)")
    select, ignore = settings.select, settings.ignore
    chosen = [r for r in rules if not select or r.id in select or r.name in select]
    return tuple(r for r in chosen if r.id not in ignore and r.name not in ignore)
