"""Errors in what the user gave us (config, rule files, arguments): reported, exit 2.

The exit codes are a contract with CI (README, "Output formats and exit codes"): 0 clean,
1 findings, ``USAGE`` for a mistake in what the user gave, ``INTERNAL`` for a bug in sflint.
A crash must never read as 1, or a pipeline would take it for a list of findings.
"""

from __future__ import annotations

from typing import TextIO

from sflint.sanitize import inert

USAGE = 2
INTERNAL = 3


class UsageError(Exception):
    """A problem with a user-supplied file or option, shown as ``file:line: message``.

    Its text names files and components of the scanned repository, so ``str`` makes it
    inert (control characters escaped, sflint.sanitize): every path that prints one, in
    sflint or in a future command, shows the same safe text.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        if self.path is None:
            text = self.message
        elif self.line is None:
            text = f"{self.path}: {self.message}"
        else:
            text = f"{self.path}:{self.line}: {self.message}"
        return inert(text)


def show_error(exc: UsageError, err: TextIO) -> int:
    """Print ``sflint: error: file:line: message`` on ``err``; the exit code for it."""
    err.write(f"sflint: error: {exc}\n")
    return USAGE
