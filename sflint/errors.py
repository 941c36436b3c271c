"""Errors in what the user gave us (config, rule files, arguments): reported, exit 2."""

from __future__ import annotations


class UsageError(Exception):
    """A problem with a user-supplied file or option, shown as ``file:line: message``."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"
