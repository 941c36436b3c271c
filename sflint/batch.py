"""``sflint check`` over a batch of paths: ``run(options) -> int``.

pre-commit passes the changed files of every project in a repository in one batch. The
runner groups them by project, checks each project with its own settings, applies or shows
the fixes, rebases each project's paths onto the batch's common folder, writes the report
in the chosen format and returns the exit code (0, 1, or 2 for usage errors). What a
format needs is asked of ``Format``, never decided by its name.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TextIO

from sflint import __version__
from sflint.errors import UsageError, show_error
from sflint.output import Format, ProjectInfo, Report, render
from sflint.sanitize import line_start
from sflint.settings import BASELINE_FILE, Options, check_exists

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from sflint.app import Checked, Triage
    from sflint.baseline import Baseline
    from sflint.catalogue import Catalogue
    from sflint.fix.values import ProposedFix
    from sflint.model import Finding, Location, Notice
    from sflint.pipeline import Loaded
    from sflint.project import Project
    from sflint.rules.model import Rule

# Machine fixes by (path, line, fingerprint) of the finding they fix.
ProposedFixes = dict[tuple[str, int, str], tuple["ProposedFix", ...]]


class _Part(NamedTuple):
    """One project's contribution to the batch's report, paths already rebased. A NamedTuple:
    frozen like a dataclass, but created in a fifth of the time (a dataclass compiles six
    methods when its class is created: 1.5 ms for these 17 fields, on every run)."""

    findings: tuple[Finding, ...]
    suppressed: tuple[Finding, ...]
    rules: tuple[Rule, ...]
    files: int
    components: int
    forceignored: int
    status: int  # the project's own fail_on decides for its findings
    proposed_fixes: Mapping[tuple[str, int, str], tuple[ProposedFix, ...]]
    project: ProjectInfo
    root: Path
    notices: tuple[Notice, ...] = ()
    preexisting: int = 0
    unchecked: int = 0  # personas below --min-confidence
    min_confidence: str = "medium"


def run(options: Options, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    fmt = options.format.with_fixes() if options.show_fixes else options.format
    try:
        parts, diff_status, base = _check_all(options, fmt, out, err)
    except UsageError as exc:
        return show_error(exc, err)
    if options.diff:
        return diff_status
    report = _report(parts, options, fmt, base)
    try:
        if not (options.quiet and fmt.spec.console and not report.findings):
            _write(render(fmt, report), options.output, out)
        if options.sarif_file is not None:
            _write(render(Format.SARIF, report), options.sarif_file, out)
    except UsageError as exc:
        return show_error(exc, err)
    return max((p.status for p in parts), default=0)


def _say(err: TextIO, line: str) -> None:
    """One line about the fixes on ``err``: it names files and components of the project,
    so it is made inert, and safe at the start of a CI log line (sflint.sanitize)."""
    err.write(f"{line_start(line)}\n")


def _check_all(
    options: Options, fmt: Format, out: TextIO, err: TextIO
) -> tuple[list[_Part], int, Path]:
    """Check every project of the batch; with ``--fix`` check again what remains after the
    edits. Returns the parts and, for ``--diff``, its exit status.

    A folder named on the command line (or the current one) also brings in the projects
    nested below it that its own project leaves to themselves (a tool repository's test
    projects, each with its sfdx-project.json): each is checked with its own settings, so
    that naming a folder reports what naming each of its files would (issue 10).
    """
    import functools

    from sflint.app import check
    from sflint.pipeline import load

    # Once for every project of the batch, and only if one needs it (a project whose
    # findings come from the memo does not).
    catalogue: Callable[[], Catalogue] = functools.cache(_load_catalogue)
    queue = [(root, paths, True) for root, paths in _groups(options.load.paths)]
    base = _base(options, [root for root, _, _ in queue])
    wants_fixes = fmt.spec.carries_fixes or options.sarif_file is not None
    parts: list[_Part] = []
    seen = {root for root, _, _ in queue}
    empty: list[tuple[Checked, Path]] = []  # named, without permission metadata of their own
    diff_status = 0
    if options.baseline is not None and len(queue) > 1:
        raise UsageError(
            "--baseline names one file, and these paths are in several projects: leave it"
            " out, and each project's .sflint-baseline.json is used"
        )
    # The memo of the last run serves a run that needs of the components only their files
    # and suppressions: not one that plans fixes (they edit the components' grants).
    memo = not (options.diff or options.fix or wants_fixes)
    while queue:
        root, paths, named = queue.pop(0)
        focus = _may_focus(options, root)
        load_options = options.load._replace(paths=paths, focus=focus, memo=memo)
        loaded = load(load_options, catalogue)
        triage = _triage(options, loaded, catalogue)
        checked = check(loaded, triage)
        if loaded.pending is not None:
            from sflint.metadata.memo import store

            store(
                loaded.pending,
                checked.evaluated,
                loaded.components,
                checked.scope,
                checked.unchecked,
            )
        project = checked.loaded.project
        for nested in _nested(project.nested, paths or (Path.cwd(),), seen):
            seen.add(nested)
            queue.append((nested, (nested,), False))
        if not project.files:
            if named:
                empty.append((checked, root))
            continue  # a nested folder that holds no permission metadata is no project
        if options.diff or options.fix:
            diff_status = max(diff_status, _fix(checked, options, base, out, err))
            if options.diff:
                continue
            checked = check(load(load_options, catalogue), triage)  # what remains after the edits
        parts.append(_part(checked, _prefix(root, base), wants_fixes))
    for empty_checked, empty_root in empty:
        # Named but empty: fine when projects nested below it were checked instead.
        if any(p.root == empty_root or empty_root in p.root.parents for p in parts):
            continue
        if not options.allow_empty:
            raise UsageError(_empty(empty_checked.loaded.project, base))
        parts.append(_part(empty_checked, _prefix(empty_root, base), wants_fixes))
    return parts, diff_status, base


def _load_catalogue() -> Catalogue:
    from sflint.catalogue import load_catalogue

    return load_catalogue()


def _triage(options: Options, loaded: Loaded, catalogue: Callable[[], Catalogue]) -> Triage:
    """What the check leaves out for this project: accepted findings (unless
    ``--no-ignores``) and, with ``--new-since``, what the revision already has."""
    from datetime import date

    from sflint.app import Triage

    root = loaded.project.root
    previous = None
    if options.new_since is not None:
        from sflint.since import findings_at

        previous = findings_at(options.new_since, root, options.load, catalogue())
    baseline = read_baseline(options.baseline, root) if options.ignores else None
    return Triage(options.ignores, baseline, previous, date.today())


def _may_focus(options: Options, root: Path) -> bool:
    """Whether a run on named files may evaluate only what it reports: not when a baseline
    or ``--new-since`` is judged against the whole project's findings (app.check)."""
    if options.new_since is not None:
        return False
    own = root / BASELINE_FILE
    has_baseline = options.baseline is not None or own.exists() or own.is_symlink()
    return not (options.ignores and has_baseline)


def read_baseline(given: Path | None, root: Path) -> Baseline | None:
    """The baseline named on the command line (any file: the workflow chose it), else the
    project's own, which comes with the pull request and must lie inside it. The baseline
    module is imported only when there is one (most runs: none)."""
    if given is not None:
        if not given.exists() and not given.is_symlink():
            raise UsageError(f"{given}: baseline file not found")
        from sflint import baseline

        return baseline.read(given, _display(given, root), None)
    own = root / BASELINE_FILE
    if not own.exists() and not own.is_symlink():
        return None
    from sflint import baseline

    return baseline.read(own, BASELINE_FILE, root)


def _display(file: Path, root: Path) -> str:
    try:
        return file.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        return str(file.absolute())


def _nested(found: tuple[Path, ...], named: tuple[Path, ...], seen: set[Path]) -> list[Path]:
    """The nested projects that lie under a folder the user named."""
    folders = [Path(os.path.realpath(p)) for p in named if p.is_dir() and not p.is_symlink()]
    return [n for n in found if n not in seen and any(n == f or f in n.parents for f in folders)]


def _empty(project: Project, base: Path) -> str:
    where = _shown(project.root, base)
    looked = "" if project.package_dirs == (".",) else f" in {', '.join(project.package_dirs)}"
    return (
        f"{where}: no permission metadata found{looked} (no profile, permission set, permission"
        " set group or muting permission set): check the path, or pass --allow-empty"
    )


def _base(options: Options, roots: list[Path]) -> Path:
    """What every path is shown relative to: ``--path-base``, else the git top level of the
    first project (so that console paths, SARIF URIs and annotations resolve from the
    repository root, where GitHub and a terminal at the checkout look), else the projects'
    common folder."""
    from sflint.project import git_top

    if options.path_base is not None:
        return Path(os.path.realpath(options.path_base))
    top = git_top(roots[0])
    if top is not None and all(top == r or top in r.parents for r in roots):
        return top
    return Path(os.path.commonpath(roots)) if len(roots) > 1 else roots[0]


def _shown(path: Path, base: Path) -> str:
    rel = os.path.relpath(path, base)
    return Path(rel).as_posix()


def _info(project: Project, prefix: str) -> ProjectInfo:
    return ProjectInfo(
        root=prefix.rstrip("/") or ".",
        found_by=project.kind.value,
        package_dirs=project.package_dirs,
        outside=tuple(prefix + o for o in project.outside),
    )


def _part(checked: Checked, prefix: str, wants_fixes: bool) -> _Part:
    loaded = checked.loaded
    return _Part(
        findings=_rebase(checked.findings, prefix),
        suppressed=_rebase(checked.suppressed, prefix),
        rules=loaded.rules,
        files=len(loaded.project.files),
        components=len(loaded.components),
        forceignored=len(loaded.project.forceignored),
        status=checked.exit_code,
        proposed_fixes=_sarif_fixes(checked, prefix) if wants_fixes else {},
        project=_info(loaded.project, prefix),
        root=loaded.project.root,
        notices=tuple(n._replace(location=_moved(n.location, prefix)) for n in checked.notices),
        preexisting=checked.preexisting,
        unchecked=checked.unchecked,
        min_confidence=loaded.settings.confidence_floor.value,
    )


def _report(parts: list[_Part], options: Options, fmt: Format, base: Path) -> Report:
    rules = {r.id: r for p in parts for r in p.rules}
    fixes: ProposedFixes = {}
    for p in parts:
        fixes.update(p.proposed_fixes)
    return Report(
        findings=tuple(sorted((f for p in parts for f in p.findings), key=lambda f: f.sort_key)),
        rules=tuple(sorted(rules.values(), key=lambda r: r.id)),
        version=__version__,
        files=sum(p.files for p in parts),
        components=sum(p.components for p in parts),
        forceignored=sum(p.forceignored for p in parts),
        show_fixes=fmt.spec.shows_fixes,
        color=options.color and fmt.spec.console,
        sarif_category=options.sarif_category,
        proposed_fixes=fixes,
        suppressed=tuple(
            sorted((f for p in parts for f in p.suppressed), key=lambda f: f.sort_key)
        ),
        projects=tuple(p.project for p in parts),
        unchecked=sum(p.unchecked for p in parts),
        min_confidence=next((p.min_confidence for p in parts if p.unchecked), "medium"),
        base_uri=base.as_uri().rstrip("/") + "/",
        notices=tuple(
            sorted(
                (n for p in parts for n in p.notices),
                key=lambda n: (n.location.path, n.location.line, n.message),
            )
        ),
        new_since=options.new_since,
        preexisting=sum(p.preexisting for p in parts),
        sarif_suppressed=options.sarif_suppressed,
    )


def _write(text: str, dest: Path | None, out: TextIO) -> None:
    if dest is None:
        out.write(text)
        return
    from sflint.safeio import write_text
    from sflint.streams import without_surrogates

    # Never through a symbolic link; a failure is exit 2, not 1: CI reads 1 as "findings".
    # A report file is UTF-8, which cannot hold the surrogates of a non-UTF-8 file name.
    write_text(dest, without_surrogates(text))


def _groups(paths: tuple[Path, ...]) -> list[tuple[Path, tuple[Path, ...]]]:
    """Paths by the project that holds them (``project.locate``). pre-commit passes files of
    every project in a repository in one batch; each is checked with its own settings."""
    from sflint.project import find_root

    check_exists(paths)
    if not paths:
        return [(find_root(Path.cwd()), ())]
    by_root: dict[Path, list[Path]] = {}
    for p in paths:
        by_root.setdefault(find_root(p), []).append(p)
    return [(root, tuple(group)) for root, group in sorted(by_root.items())]


def _prefix(root: Path, base: Path) -> str:
    """How a project's paths are shown: prefixed with the project's folder relative to the
    path base (nothing when the project is the base)."""
    rel = os.path.relpath(root, base)
    return "" if rel == "." else Path(rel).as_posix() + "/"


def _rebase(findings: tuple[Finding, ...], prefix: str) -> tuple[Finding, ...]:
    from sflint.model import prefixed

    if not prefix:
        return findings
    return tuple(
        f._replace(
            path=prefix + f.path,
            related_paths=tuple(prefix + p for p in f.related_paths),
            items=prefixed(f.items, prefix),
            waiver=f.waiver and f.waiver._replace(location=_moved(f.waiver.location, prefix)),
        )
        for f in findings
    )


def _moved(location: Location, prefix: str) -> Location:
    """A location in a project file (a metadata file, .sflint.yml, the baseline), shown from
    the path base like the findings; a file outside the project stays as it was named."""
    if not prefix or Path(location.path).is_absolute() or location.path.startswith(".."):
        return location
    return location._replace(path=prefix + location.path)


# The two calls into the fix engine (planning and applying, and SARIF's proposed fixes)
# stay together here, small, so that the fix package can change them in one place.


def _fix(checked: Checked, options: Options, base: Path, out: TextIO, err: TextIO) -> int:
    """Plan the fixes; with --diff print them (exit 1 when there is a change) and say what
    would happen, with --fix write them a unit at a time and say what did happen: only the
    units really written are described and counted; a refused one is named with its reason."""
    from sflint.fix.diff import unified_diff
    from sflint.fix.plan import plan
    from sflint.fix.write import apply_units

    loaded = checked.loaded
    root = loaded.project.root
    strategy = options.fix_strategy.value
    todo = plan(checked.findings, loaded.components, root, strategy, loaded.settings.config)
    for line in (*todo.errors, *todo.general):
        _say(err, line)
    if options.diff:
        for unit in todo.units:
            for line in unit.would:
                _say(err, line)
        edits = todo.edits
        out.write(unified_diff(edits, base))
        return 1 if edits else 0
    result = apply_units(todo.units, root)
    fixed = 0
    for unit, refusal in zip(todo.units, result.refusals, strict=True):
        if refusal is None:
            fixed += len(unit.fixed)
            for line in unit.done:
                _say(err, line)
        elif unit.subject is None:
            _say(err, f"{refusal.path}: not written: {refusal.reason}")
        else:
            file = _relative(refusal.path, root)
            _say(
                err,
                f"{unit.subject}: {unit.failure}: cannot write {file}: {refusal.reason};"
                " nothing written for it",
            )
    files = len(result.files)
    _say(err, f"Fixed {fixed} of {len(checked.findings)} findings; {files} files written.")
    return 0


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _sarif_fixes(checked: Checked, prefix: str) -> ProposedFixes:
    from sflint.fix.plan import proposed_fixes

    loaded = checked.loaded
    found = proposed_fixes(checked.findings, loaded.components, loaded.project.root)
    return {
        (prefix + path, line, fingerprint): tuple(
            replace(fix, edits=tuple(replace(e, path=prefix + e.path) for e in fix.edits))
            for fix in value
        )
        for (path, line, fingerprint), value in found.items()
    }
