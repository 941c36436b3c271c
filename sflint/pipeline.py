"""The front half of every command: one project loaded once.

``load`` finds the project holding the given paths, reads its ``.sflint.yml``, resolves the
settings, discovers and reads the metadata files, loads and selects the rules, and resolves
every persona's access. ``check``, ``access`` and ``init`` all start here, so they honour
the same options, the same cache and the same path rules.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sflint.errors import UsageError
from sflint.settings import LoadOptions, Settings, Under, check_exists, resolve

if TYPE_CHECKING:
    from sflint.access import Access, Index
    from sflint.catalogue import Catalogue
    from sflint.config import Config
    from sflint.metadata.cache import Record
    from sflint.metadata.memo import Hit, Pending
    from sflint.model import Component
    from sflint.project import Project, Root
    from sflint.rules.model import Rule


@dataclass(frozen=True)
class Loaded:
    settings: Settings
    project: Project
    components: tuple[Component, ...]
    # The selected rules, in id order; none when the findings come from the memo (the
    # caller asked for it only where the report describes no rule: batch, not for SARIF).
    rules: tuple[Rule, ...]
    # The shipped catalogue with the config's known permissions, and the index of the
    # components; None only when the findings come from the memo (nothing is evaluated).
    catalogue: Catalogue | None
    index: Index | None
    accesses: tuple[Access, ...]  # every persona's access, declared ones first
    # File bytes by project-relative path, kept only when a rule reads the files (``xpath``).
    sources: Mapping[str, bytes] = field(default_factory=dict, hash=False)
    # Loaded for a run on named files (``LoadOptions.focus``): the components it evaluates
    # nothing of are light, so only the findings about the targets can be evaluated.
    focused: bool = False
    # The findings of the last run, when nothing they depend on changed: then the
    # components are light (files, label and suppressions only), and nothing is evaluated.
    memo: Hit | None = None
    # The memo to write once this run has its findings (batch), when it missed.
    pending: Pending | None = None
    # A memo of the whole project some of whose files changed since (``Hit.changed``): the
    # load is focused on them, and only what they can change is evaluated (app.check).
    stale: Hit | None = None

    @property
    def checked_accesses(self) -> tuple[Access, ...]:
        """The personas at or above ``--min-confidence``: what ``check`` evaluates and
        ``access`` shows (declared personas are high)."""
        floor = self.settings.confidence_floor.rank
        return tuple(a for a in self.accesses if a.persona.confidence.rank >= floor)


def load(
    options: LoadOptions,
    catalogue: Catalogue | Callable[[], Catalogue] | None = None,
    *,
    config: Config | None = None,
) -> Loaded:
    """Load the project holding ``options.paths`` (default: the current folder).

    ``catalogue`` is the shipped permission catalogue when the caller already loaded it (a
    batch of several projects), or the function that loads it once, when it is needed;
    ``config`` replaces reading ``.sflint.yml`` (``init``, which writes that file, must not
    read the one it replaces).
    """
    from sflint.config import load_config
    from sflint.project import locate

    check_exists(options.paths)
    paths = options.paths or (Path.cwd(),)
    located = locate(paths[0])
    root = located.path
    given_config = config
    if config is None:
        config = load_config(root, options.config, options.cache_dir)
    settings = resolve(options, root, config)
    # A run on named files decodes whole only what it evaluates or a persona needs;
    # exceptions are judged against the whole project's findings (app.check).
    targets = settings.targets
    scope = targets if options.focus and targets is not None and not config.exceptions else None
    project: Project | None = None
    keys: tuple[str | None, str | None] = (None, None)
    stale: Hit | None = None
    if options.memo and settings.cache_dir is not None and given_config is None:
        # Before the rules are loaded: a hit needs none of them (the key holds their files'
        # bytes). An error is left to the usual order below, the rules' first.
        with contextlib.suppress(UsageError):
            project = _discover(settings, located)
        if project is not None:
            hit, keys = _recall(settings, project, scope)
            pending = None
            if hit is not None and hit.changed:
                from sflint.metadata import memo

                # Only the bytes of a file tell whether it changed (its status may be too
                # recent to trust, or touched): a stale memo whose files have the bytes it
                # recorded holds, once its records are renewed.
                hit = memo.recheck(hit, project)
                if hit is not None and not hit.changed and settings.cache_dir and keys[0]:
                    pending = memo.Pending(
                        settings.cache_dir,
                        project.root,
                        keys[0],
                        dict(hit.records),
                        None,
                        hit.context,
                        hit.light_body,
                    )
            if hit is not None and hit.changed:
                stale = hit  # some files changed: evaluate again only what they can change
            elif hit is not None:
                return Loaded(
                    settings=settings,
                    project=project,
                    components=hit.components,
                    rules=(),
                    catalogue=None,
                    index=None,
                    accesses=(),
                    focused=scope is not None,
                    memo=hit,
                    pending=pending,
                )
    from sflint.rules.loader import load_rules

    loaded_rules = load_rules(settings.rule_dirs, root, settings.cache_dir)
    rules = _pick(_with_severity(loaded_rules, config), settings)
    if any(r.reads_files for r in rules):
        keys = (None, None)  # the memo never holds what xpath rules found (sources)
        stale = None
    project = project or _discover(settings, located)
    if stale is not None:
        loaded = _load_stale(settings, project, rules, catalogue, stale, keys)
        if loaded is None:  # the memo holds no light components: focused on the pack
            loaded = _load_components(
                settings, project, rules, catalogue, stale.changed, keys, stale=stale
            )
        if loaded.stale is not None:
            return loaded
        # Something the other findings depend on changed too: the whole project, whole.
    return _load_components(settings, project, rules, catalogue, scope, keys)


def _discover(settings: Settings, located: Root) -> Project:
    from sflint.project import load_project

    return load_project(
        settings.root,
        use_forceignore=settings.use_forceignore,
        extra=settings.extra_files,
        kind=located.kind,
    )


def _recall(
    settings: Settings, project: Project, scope: tuple[str, ...] | None
) -> tuple[Hit | None, tuple[str | None, str | None]]:
    """The memo that holds for this run, if any, and the keys of the whole project's and of
    this run's (on named files) findings. The whole project's findings serve any run; a run
    on named files' serve only a run on the same files (app.check keeps what is in them)."""
    from sflint.metadata import memo

    def key(limit: tuple[str, ...] | None) -> str | None:
        return memo.key(
            settings.config,
            settings.confidence_floor.value,
            settings.select,
            settings.ignore,
            settings.rule_dirs,
            project,
            limit,
        )

    keys = (key(None), None if scope is None else key(scope))
    if keys[0] is None or settings.cache_dir is None:
        return None, (None, None)
    return memo.lookup(settings.cache_dir, project, keys[0], keys[1]), keys


def _load_stale(
    settings: Settings,
    project: Project,
    rules: tuple[Rule, ...],
    catalogue: Catalogue | Callable[[], Catalogue] | None,
    stale: Hit,
    keys: tuple[str | None, str | None],
) -> Loaded | None:
    """``_load_components`` after an edit, from the stale memo's light components: only the
    changed files are parsed (``loader.load_stale``). None when the memo holds none."""
    from sflint.access import Focus
    from sflint.metadata import memo
    from sflint.metadata.loader import load_stale

    got = memo.light(stale)
    if got is None or settings.cache_dir is None:
        return None
    light, rows = got
    full = _catalogue(catalogue, settings.config)
    focus = Focus(settings.config, Under(stale.changed), standard=full.standard)
    records = dict(stale.records)
    built = load_stale(
        project.files, project.root, settings.cache_dir, light, records, stale.fresh, focus
    )
    # The memo's components are written again as they were read; the others light again.
    written = {id(c): row for c, row in zip(light, rows, strict=True)}
    text = memo.light_text([written.get(id(c)) or memo.light_row(c, focus.keep) for c in built])
    return _assemble(
        settings,
        project,
        rules,
        full,
        built,
        records=records,
        focused=True,
        run_key=keys[0],
        stale=stale,
        light=text,
    )


def _load_components(
    settings: Settings,
    project: Project,
    rules: tuple[Rule, ...],
    catalogue: Catalogue | Callable[[], Catalogue] | None,
    scope: tuple[str, ...] | None,
    keys: tuple[str | None, str | None],
    stale: Hit | None = None,
) -> Loaded:
    """The rest of ``load`` when no memo holds: read the components, resolve the personas.
    With a ``stale`` memo, ``scope`` is the files that changed, and the load is focused on
    them; it keeps the memo (``Loaded.stale``) only if its context is the memo's, so that
    the findings of everything else are still the memo's (``memo.context``)."""
    from sflint.access import LIGHT, Focus
    from sflint.metadata import memo
    from sflint.metadata.loader import load_recorded, load_with_sources

    config = settings.config
    # Only xpath rules read the files themselves; only then are the bytes kept.
    sources: Mapping[str, bytes] = {}
    full = _catalogue(catalogue, config)
    focus: Focus | None = None
    records = None
    if any(r.reads_files for r in rules):
        components, sources = load_with_sources(project.files, project.root, settings.cache_dir)
    else:
        if scope is not None:
            focus = Focus(config, Under(scope), standard=full.standard)
        components, records = load_recorded(
            project.files, project.root, settings.cache_dir, focus=focus
        )
    # A stale memo's run gives the whole project's findings (app.check).
    run_key = keys[1] if focus is not None and stale is None else keys[0]
    # The light components, for the run after an edit: only in the whole project's memo.
    light = None
    if run_key is not None and records is not None and (focus is None or stale is not None):
        light = memo.light_text(memo.light_rows(components, LIGHT))
    return _assemble(
        settings,
        project,
        rules,
        full,
        components,
        records=records,
        sources=sources,
        focused=focus is not None,
        run_key=run_key,
        stale=stale,
        light=light,
        scope=scope,
    )


def _assemble(
    settings: Settings,
    project: Project,
    rules: tuple[Rule, ...],
    full: Catalogue,
    components: tuple[Component, ...],
    *,
    records: dict[str, Record] | None,
    sources: Mapping[str, bytes] | None = None,
    focused: bool,
    run_key: str | None,
    stale: Hit | None,
    light: bytes | None,
    scope: tuple[str, ...] | None = None,
) -> Loaded:
    """The rest of a load once the components are read: the personas resolved, and the
    memo to write (``run_key``), whose scope is ``scope`` unless the load is for a
    ``stale`` memo, kept only if its context is the memo's (``memo.context``)."""
    from sflint.access import Index, accesses_for
    from sflint.config import check_references
    from sflint.project import classify

    config = settings.config
    # Standard profiles carry their Setup name as a label: a persona may name one so.
    components = full.standard.with_setup_names(components)
    # A persona naming what the project lacks is a mistake in the config: exit 2.
    skipped = [k[:2] for rel in project.forceignored if (k := classify(Path(rel)))]
    skipped += full.standard.setup_keys(skipped)
    check_references(config, components, skipped)
    index = Index.build(components)
    accesses = accesses_for(config, components, index)
    pending = None
    if run_key is not None and records is not None and settings.cache_dir is not None:
        from sflint.metadata import memo

        context = memo.context(components, accesses, index)
        if stale is not None and context != stale.context:
            stale = None
        whole = scope if stale is None else None
        pending = memo.Pending(
            settings.cache_dir, project.root, run_key, records, whole, context, light
        )
    elif stale is not None:
        stale = None
    return Loaded(
        settings=settings,
        project=project,
        components=components,
        rules=rules,
        catalogue=full,
        index=index,
        accesses=accesses,
        sources=sources or {},
        focused=focused,
        pending=pending,
        stale=stale,
    )


def _catalogue(shipped: Catalogue | Callable[[], Catalogue] | None, config: Config) -> Catalogue:
    from sflint.catalogue import load_catalogue

    if callable(shipped):
        shipped = shipped()
    return (shipped or load_catalogue()).with_config(
        config.known_permissions, strict=config.strict_permissions
    )


def _with_severity(rules: tuple[Rule, ...], config: Config) -> tuple[Rule, ...]:
    """The rules with the severities ``.sflint.yml`` sets (``severity: {SFL008: note}``); an
    unknown id or name is a usage error at its line. The rule itself changes, so its SARIF
    default level and its findings agree."""

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
        out.append(r._replace(severity=severity) if severity else r)
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
