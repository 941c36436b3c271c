"""``run(options) -> int``: the whole check, as plain calls on immutable values."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sflint import __version__
from sflint.config import Config
from sflint.errors import UsageError
from sflint.model import Component, Finding, Severity
from sflint.project import CONFIG_FILE, FORCEIGNORE, PROJECT_FILE, Project
from sflint.rules.model import Rule

if TYPE_CHECKING:
    from sflint.catalogue import Catalogue
    from sflint.output.edits import ProposedFix

FAIL_ON = ("error", "warning", "note", "never")


@dataclass(frozen=True)
class Options:
    paths: tuple[Path, ...] = ()
    format: str = "console"
    output: Path | None = None
    sarif_file: Path | None = None
    sarif_category: str | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    rule_dirs: tuple[Path, ...] = ()
    config: Path | None = None
    fail_on: str | None = None
    show_fixes: bool = False
    use_forceignore: bool = True
    color: bool = False
    quiet: bool = False
    fix: bool = False
    diff: bool = False
    fix_strategy: str = "edit"
    # Validated config and rule files by content hash; None: no cache (see cli.cache_dir).
    cache_dir: Path | None = None


@dataclass(frozen=True)
class Checked:
    """The result of a check before it is rendered (also what ``sflint access`` uses)."""

    project: Project
    components: tuple[Component, ...]
    rules: tuple[Rule, ...]
    findings: tuple[Finding, ...]
    fail_on: str
    config: Config
    suppressed: tuple[Finding, ...] = ()


def _pick(
    rules: tuple[Rule, ...], select: tuple[str, ...], ignore: tuple[str, ...], config: Config
) -> tuple[Rule, ...]:
    known = {r.id for r in rules} | {r.name for r in rules}
    for ident in (*select, *ignore):
        if ident in known:
            continue
        if ident in config.rule_lines:
            line = config.rule_lines[ident]
            raise UsageError(f"unknown rule {ident!r} (see `sflint rules`)", config.path, line)
        raise UsageError(f"unknown rule {ident!r} in --select/--ignore (see `sflint rules`)")
    chosen = [r for r in rules if not select or r.id in select or r.name in select]
    return tuple(r for r in chosen if r.id not in ignore and r.name not in ignore)


def _in_targets(f: Finding, targets: tuple[str, ...]) -> bool:
    def under(path: str) -> bool:
        return any(path == t or path.startswith(t.rstrip("/") + "/") for t in targets)

    return under(f.path) or any(under(p) for p in f.related_paths)


def _targets(options: Options, root: Path) -> tuple[str, ...] | None:
    """Project-relative paths the user asked about; None means the whole project."""
    out: list[str] = []
    for p in options.paths:
        try:
            rel = p.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            raise UsageError(f"{p}: not inside the project at {root}") from None
        if rel == "." or p.name in (CONFIG_FILE, PROJECT_FILE, FORCEIGNORE):
            # The project settings shape every persona: report the whole project.
            return None
        out.append(rel)
    return tuple(out) or None


def check(options: Options, catalogue: Catalogue | None = None) -> Checked:
    """Check the project holding ``options.paths`` (one project; see ``run`` for several).
    ``catalogue`` is the shipped permission catalogue when the caller already loaded it."""
    from sflint.access import personas_for
    from sflint.catalogue import load_catalogue
    from sflint.config import load_config
    from sflint.engine import evaluate
    from sflint.metadata.loader import load_components
    from sflint.project import find_root, load_project
    from sflint.rules.loader import builtin_rules_dir, load_rules

    paths = options.paths or (Path.cwd(),)
    root = find_root(paths[0].resolve())
    config = load_config(root, options.config, options.cache_dir)
    folders = (builtin_rules_dir(), *config.rule_paths, *options.rule_dirs)
    rules = _pick(
        load_rules(folders, root, options.cache_dir),
        options.select or config.select,
        (*config.ignore, *options.ignore),
        config,
    )
    extra = tuple(p for p in options.paths if p.is_file())
    project = load_project(root, use_forceignore=options.use_forceignore, extra=extra)
    components = load_components(project.files)
    catalogue = (catalogue or load_catalogue()).with_extra(config.known_permissions)
    personas = personas_for(config, components)
    # Only xpath rules read files a second time, and only then are the bytes kept.
    sources = _sources(project) if any(r.reads_files for r in rules) else {}
    findings = evaluate(rules, components, personas, catalogue, sources)
    targets = _targets(options, root) if options.paths else None
    if targets is not None:
        findings = [f for f in findings if _in_targets(f, targets)]
    marks = [s for c in components for s in c.suppressions]
    suppressed = tuple(f for f in findings if any(s.covers(f) for s in marks))
    kept = tuple(f for f in findings if f not in suppressed)
    fail_on = options.fail_on or config.fail_on or "error"
    return Checked(project, components, rules, kept, fail_on, config, suppressed)


def _sources(project: Project) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for f in project.files:
        try:
            out[f.rel] = f.path.read_bytes()
        except OSError:
            continue  # already reported by the reader as invalid-metadata
    return out


def exit_code(findings: tuple[Finding, ...], fail_on: str) -> int:
    if fail_on == "never":
        return 0
    threshold = Severity(fail_on).rank
    return 1 if any(f.severity.rank >= threshold for f in findings) else 0


def _write(text: str, dest: Path | None, out: TextIO) -> None:
    if dest is None:
        out.write(text)
        return
    from sflint.safeio import write_text

    # Never through a symbolic link; a failure is exit 2, not 1: CI reads 1 as "findings".
    write_text(dest, text)


def _groups(paths: tuple[Path, ...]) -> list[tuple[Path, tuple[Path, ...]]]:
    """Paths by the project that holds them. pre-commit passes files of every project in a
    repository in one batch; each project is checked with its own config and personas."""
    from sflint.project import find_root

    for p in paths:
        if not p.exists():
            raise UsageError(f"{p}: no such file or folder")
    if not paths:
        return [(find_root(Path.cwd()), ())]
    by_root: dict[Path, list[Path]] = {}
    for p in paths:
        by_root.setdefault(find_root(p.resolve()), []).append(p)
    return [(root, tuple(group)) for root, group in sorted(by_root.items())]


def _prefix(root: Path, base: Path) -> str:
    """How a project's paths are shown: relative to its own root when it is the only one
    checked, else prefixed with the project's folder relative to the common base."""
    rel = os.path.relpath(root, base)
    return "" if rel == "." else Path(rel).as_posix() + "/"


def _rebase(findings: tuple[Finding, ...], prefix: str) -> tuple[Finding, ...]:
    if not prefix:
        return findings
    return tuple(
        replace(
            f,
            path=prefix + f.path,
            related_paths=tuple(prefix + p for p in f.related_paths),
        )
        for f in findings
    )


def _fix(checked: Checked, options: Options, base: Path, out: TextIO, err: TextIO) -> int:
    """Plan the fixes; with --diff print them (exit 1 when there is a change), with --fix
    write them atomically and report what changed."""
    from sflint.fix import apply_edits, unified_diff
    from sflint.fixplan import plan

    root = checked.project.root
    todo = plan(checked.findings, checked.components, root, options.fix_strategy, checked.config)
    for line in (*todo.errors, *todo.notes):
        err.write(f"{line}\n")
    if options.diff:
        out.write(unified_diff(todo.edits, base))
        return 1 if todo.edits else 0
    result = apply_edits(todo.edits, root)
    for refusal in result.refused:
        err.write(f"{refusal.path}: not written: {refusal.reason}\n")
    refused = {r.path for r in result.refused}
    fixed = [f for f in todo.fixed if (root / f.path) not in refused]
    files = len(result.applied)
    err.write(f"Fixed {len(fixed)} of {len(checked.findings)} findings; {files} files written.\n")
    return 0


def run(options: Options, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from sflint.output import Report, render

    out = out or sys.stdout
    err = err or sys.stderr
    findings: list[Finding] = []
    suppressed: list[Finding] = []
    fixes: dict[tuple[str, str], tuple[ProposedFix, ...]] = {}
    files = components = forceignored = 0
    rules: dict[str, Rule] = {}
    status = diff_status = 0
    try:
        from sflint.catalogue import load_catalogue

        catalogue = load_catalogue()  # once for every project of the batch
        groups = _groups(options.paths)
        roots = [root for root, _ in groups]
        base = Path(os.path.commonpath(roots)) if len(roots) > 1 else roots[0]
        for root, paths in groups:
            opts = replace(options, paths=paths)
            checked = check(opts, catalogue)
            if options.diff or options.fix:
                diff_status = max(diff_status, _fix(checked, opts, base, out, err))
                if options.diff:
                    continue
                checked = check(opts, catalogue)  # what remains after the edits
            prefix = _prefix(root, base)
            findings.extend(_rebase(checked.findings, prefix))
            suppressed.extend(_rebase(checked.suppressed, prefix))
            files += len(checked.project.files)
            components += len(checked.components)
            forceignored += len(checked.project.forceignored)
            rules.update((r.id, r) for r in checked.rules)
            # Each project's own fail_on decides for its findings.
            status = max(status, exit_code(checked.findings, checked.fail_on))
            if options.format == "sarif" or options.sarif_file is not None:
                fixes.update(_sarif_fixes(checked, prefix))
    except UsageError as exc:
        err.write(f"sflint: error: {exc}\n")
        return 2
    if options.diff:
        return diff_status
    ordered = tuple(sorted(findings, key=lambda f: f.sort_key))
    report = Report(
        findings=ordered,
        rules=tuple(sorted(rules.values(), key=lambda r: r.id)),
        version=__version__,
        files=files,
        components=components,
        forceignored=forceignored,
        show_fixes=options.show_fixes,
        color=options.color,
        sarif_category=options.sarif_category,
        proposed_fixes=fixes,
        suppressed=tuple(sorted(suppressed, key=lambda f: f.sort_key)),
    )
    fmt = "full" if options.show_fixes and options.format == "console" else options.format
    try:
        if not (options.quiet and fmt in ("console", "full") and not ordered):
            _write(render(fmt, report), options.output, out)
        if options.sarif_file is not None:
            _write(render("sarif", report), options.sarif_file, out)
    except UsageError as exc:
        err.write(f"sflint: error: {exc}\n")
        return 2
    return status


def _sarif_fixes(checked: Checked, prefix: str) -> dict[tuple[str, str], tuple[ProposedFix, ...]]:
    from sflint.fixplan import proposed_fixes

    found = proposed_fixes(checked.findings, checked.components, checked.project.root)
    return {
        (prefix + path, fingerprint): tuple(
            replace(fix, edits=tuple(replace(e, path=prefix + e.path) for e in fix.edits))
            for fix in value
        )
        for (path, fingerprint), value in found.items()
    }
