"""``check --new-since REV``: the findings a git revision of the project already has.

The revision's files are written to a temporary folder (``sflint.revision``) and the
project at the same place in it is loaded and evaluated as a whole, with its own
``.sflint.yml`` and rule folders and the same command-line options. Every finding counts,
suppressed or not: "new" means the revision did not have it at all. A project that does not
exist at the revision has no findings there (everything is new).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from sflint.errors import UsageError

if TYPE_CHECKING:
    from sflint.catalogue import Catalogue
    from sflint.settings import LoadOptions


def findings_at(
    rev: str, root: Path, options: LoadOptions, catalogue: Catalogue
) -> list[tuple[str, str, int]]:
    """(fingerprint, project-relative path, copies) of every finding of the project at
    ``root`` in revision ``rev`` of its git repository (``Finding.units``)."""
    from sflint.app import evaluate_all
    from sflint.pipeline import load
    from sflint.project import git_top
    from sflint.revision import files_at

    top = git_top(root)
    if top is None:
        raise UsageError(f"--new-since {rev}: {root} is not in a git repository")
    rel = os.path.relpath(os.path.realpath(root), top)
    with files_at(top, rev) as tree:
        there = tree if rel == "." else tree / rel
        if not there.is_dir():
            return []
        # No cache: its per-project index is keyed by the folder, which is new every run.
        at_rev = options._replace(paths=(there,), cache_dir=None)
        try:
            loaded = load(at_rev, catalogue)
        except UsageError as exc:
            raise UsageError(f"at {rev}: {exc}") from None
        # Each element of an aggregated finding counts on its own (``Finding.units``).
        return [unit for f in evaluate_all(loaded) for unit in f.units]
