"""``sflint diff BASE [HEAD]``: load both sides, compare them (``sflint.diff``), render.

BASE and HEAD are git revisions of the repository holding ``--path`` (HEAD defaults to the
working tree), read from git objects into temporary folders (``sflint.revision``), never
checked out; or, when both name existing folders, two folders. Each side is loaded and
checked as ``sflint check`` would check it, with its own ``.sflint.yml`` and rules (the
command line's options apply to both). Paths are shown relative to each side's git top
level, as ``check`` shows them.

Exit codes: 1 when the change introduces a finding at or above ``--fail-on`` (default: the
head's ``fail_on``), else 0; 2 for a revision that does not exist, a folder that is not one,
or any other usage error (one line).
"""

from __future__ import annotations

import contextlib
import enum
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sflint.errors import UsageError, show_error
from sflint.settings import LoadOptions

if TYPE_CHECKING:
    from sflint.diff import Diff, Loaded, Side
    from sflint.model import Finding
    from sflint.pipeline import Loaded as Project
    from sflint.revision import Revision


class DiffFormat(enum.Enum):
    CONSOLE = "console"
    JSON = "json"
    MARKDOWN = "markdown"

    @property
    def module(self) -> str:
        return f"sflint.output.diff_{self.value}"


def render(fmt: DiffFormat, diff: Diff) -> str:
    import importlib

    text: str = importlib.import_module(fmt.module).render(diff)
    return text


def run_diff(
    base: str,
    head: str | None,
    options: LoadOptions,
    fmt: DiffFormat = DiffFormat.CONSOLE,
    *,
    output: Path | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        diff = build(base, head, options)
        text = render(fmt, diff)
        if output is None:
            out.write(text)
        else:
            from sflint.safeio import write_text
            from sflint.streams import without_surrogates

            write_text(output, without_surrogates(text))
    except UsageError as exc:
        return show_error(exc, err)
    return diff.exit_code


def build(base: str, head: str | None, options: LoadOptions) -> Diff:
    """The comparison of ``base`` and ``head`` (None: the working tree)."""
    from sflint.diff import Side, SideKind

    if head is not None and Path(base).is_dir() and Path(head).is_dir():
        with (
            _folder(Path(base), options) as (old, _),
            _folder(Path(head), options) as (new, project),
        ):
            return _compare(
                old, new, project, options, Side(SideKind.FOLDER, base), Side(SideKind.FOLDER, head)
            )
    from sflint import revision

    where = options.paths[0] if options.paths else Path.cwd()
    if not where.exists():
        raise UsageError(f"{where}: no such file or folder")
    top = revision.git_top(where)
    prefix = os.path.relpath(os.path.realpath(where), os.path.realpath(top))
    base_rev = revision.resolve(top, base)
    head_rev = revision.resolve(top, head) if head is not None else None
    base_side = Side(SideKind.GIT, base, base_rev.commit)
    with _revision(base_rev, prefix, options, base_side) as (old, _):
        if head_rev is None:
            head_side = Side(SideKind.WORKTREE, "working tree")
            with _worktree(where, top, options) as (new, project):
                return _compare(old, new, project, options, base_side, head_side)
        head_side = Side(SideKind.GIT, head or "", head_rev.commit)
        with _revision(head_rev, prefix, options, head_side) as (new, project):
            return _compare(old, new, project, options, base_side, head_side)


def _compare(
    old: Loaded, new: Loaded, project: Project, options: LoadOptions, base: Side, head: Side
) -> Diff:
    from sflint.diff import compare

    if not old.files and not new.files:
        raise UsageError(
            "no permission metadata on either side (no profile, permission set, permission set"
            " group or muting permission set): check the revisions and --path"
        )
    fail_on = options.fail_on or project.settings.fail_on
    catalogue = project.catalogue
    if catalogue is None:  # pragma: no cover - only a check's load takes findings from the memo
        raise RuntimeError("a load whose findings come from the memo has no catalogue")
    return compare(old, new, catalogue, base_side=base, head_side=head, fail_on=fail_on)


Sides = Iterator[tuple["Loaded", "Project"]]


@contextlib.contextmanager
def _revision(rev: Revision, prefix: str, options: LoadOptions, side: Side) -> Sides:
    from sflint import revision

    with revision.materialise(rev) as tree:
        root = Path(os.path.realpath(tree.root))
        where = root / prefix
        # A project that the revision does not have yet (it comes with this change) is an
        # empty side, not an error.
        where.mkdir(parents=True, exist_ok=True)
        loaded = _load(where, root, options, side)
        if options.cache_dir is not None:
            from sflint.metadata.cache import drop_pack

            drop_pack(options.cache_dir, loaded[1].project.root)
        yield loaded


@contextlib.contextmanager
def _worktree(where: Path, top: Path, options: LoadOptions) -> Sides:
    from sflint.diff import Side, SideKind

    yield _load(where, Path(os.path.realpath(top)), options, Side(SideKind.WORKTREE, "."))


@contextlib.contextmanager
def _folder(where: Path, options: LoadOptions) -> Sides:
    from sflint.diff import Side, SideKind
    from sflint.project import find_root

    yield _load(where, find_root(where), options, Side(SideKind.FOLDER, str(where)))


def _load(where: Path, top: Path, options: LoadOptions, side: Side) -> tuple[Loaded, Project]:
    """One side loaded and checked, its paths shown relative to ``top``."""
    from sflint.app import check
    from sflint.diff import Loaded
    from sflint.pipeline import load

    try:
        project = load(options._replace(paths=(where,)))
    except UsageError as exc:
        raise UsageError(f"{exc.message} (in {side.title})", exc.path, exc.line) from None
    checked = check(project)
    rel = os.path.relpath(project.project.root, top)
    prefix = "" if rel == "." else Path(rel).as_posix() + "/"
    return (
        Loaded(
            project.components,
            project.accesses,
            _rebase(checked.findings, prefix),
            prefix,
            files=len(project.project.files),
        ),
        project,
    )


def _rebase(findings: tuple[Finding, ...], prefix: str) -> tuple[Finding, ...]:
    from sflint.model import prefixed

    if not prefix:
        return findings
    return tuple(
        f._replace(
            path=prefix + f.path,
            related_paths=tuple(prefix + p for p in f.related_paths),
            items=prefixed(f.items, prefix),
        )
        for f in findings
    )
