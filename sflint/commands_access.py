"""``sflint access [PERSONA]``: load the project, render each persona's access as a tree
(console) or as the ``sflint/access/v1`` JSON contract."""

from __future__ import annotations

import sys
from typing import TextIO

from sflint.errors import UsageError, show_error
from sflint.settings import LoadOptions


def show_access(
    options: LoadOptions,
    persona: str | None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    *,
    json: bool = False,
) -> int:
    from sflint import __version__
    from sflint.output import access_json, access_tree
    from sflint.pipeline import load

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        loaded = load(options)
    except UsageError as exc:
        return show_error(exc, err)
    # The personas check evaluates; one asked for by name is shown whatever its confidence.
    accesses = loaded.checked_accesses
    if persona is not None:
        accesses = tuple(a for a in loaded.accesses if a.persona.name == persona)
        if not accesses:
            return show_error(UsageError(f"no persona named {persona!r}"), err)
    out.write(access_json.render(accesses, __version__) if json else access_tree.render(accesses))
    return 0
