"""``sflint baseline``: write each project's baseline file of today's findings."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sflint.errors import UsageError, show_error
from sflint.sanitize import inert
from sflint.settings import LoadOptions, check_exists

if TYPE_CHECKING:
    from sflint.baseline import Baseline
    from sflint.model import Finding


def write_baselines(options: LoadOptions, output: Path | None, err: TextIO | None = None) -> int:
    """For the project holding each of ``options.paths`` (default: the current folder),
    write the findings a check reports today, whole project, after comments and exceptions:
    to ``output``, else to ``.sflint-baseline.json`` at the project root. 0, or 2."""
    err = err or sys.stderr
    try:
        for line in _write_all(options, output):
            err.write(f"{inert(line)}\n")
    except UsageError as exc:
        return show_error(exc, err)
    return 0


def _write_all(options: LoadOptions, output: Path | None) -> list[str]:
    from sflint import baseline
    from sflint.app import Triage, check
    from sflint.batch import read_baseline
    from sflint.catalogue import load_catalogue
    from sflint.pipeline import load
    from sflint.project import find_root
    from sflint.safeio import write_text
    from sflint.streams import without_surrogates

    check_exists(options.paths)
    roots = sorted({find_root(p) for p in options.paths or (Path.cwd(),)})
    if output is not None and len(roots) > 1:
        raise UsageError("-o names one file, and these paths are in several projects")
    catalogue = load_catalogue()
    said = []
    for root in roots:
        loaded = load(options._replace(paths=(root,)), catalogue)
        dest = output or root / baseline.DEFAULT_NAME
        try:
            before = read_baseline(dest, root) if dest.exists() else None
        except UsageError:
            before = None  # a damaged file is replaced; what it held is not compared
        findings = check(loaded, Triage()).findings
        write_text(dest, without_surrogates(baseline.render(findings)))
        said.append(_summary(_shown(dest), findings, before))
    return said


def _summary(dest: str, findings: tuple[Finding, ...], before: Baseline | None) -> str:
    from sflint.baseline import account

    # The baseline counts grants: each copy of a grant its file repeats, and each element of
    # an aggregate finding (SFL012, SFL016), is one, so the line says both when they differ.
    total = sum(f.occurrences for f in findings)
    count = len(findings)
    line = f"Wrote {dest}: {count} finding{'s' if count != 1 else ''}"
    if total != count:
        line += f" covering {total} grants"
    if before is not None:
        known = [(e.fingerprint, e.path, e.count) for e in before.entries]
        found, _ = account(findings, known)
        added = sum(f.occurrences - taken for f, (_, taken) in zip(findings, found, strict=True))
        removed = sum(e.count for e in before.entries) - (total - added)
        unit = f" grant{'s' if added != 1 else ''}" if total != count else ""
        line += f" ({added}{unit} added, {removed} removed since the file it replaces)"
    return line + "."


def _shown(path: Path) -> str:
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:
        return str(path)
