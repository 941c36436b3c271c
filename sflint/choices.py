"""The closed choices of the command line (``--format``, ``--fail-on``, ``--fix-strategy``).

The CLI builds its option choices from these enums at start-up, so this module imports
nothing but ``enum`` and ``typing``: no dataclass (``dataclasses`` costs ``inspect``, and
each frozen dataclass compiles six methods when its class is created), no ``pathlib``.
``sflint --help`` and ``--version`` run on every commit's hook and load nothing more.
``sflint.output`` and ``sflint.settings`` re-export them where they are used.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from sflint.model import Severity


class FormatSpec(NamedTuple):
    """What a format is: frozen, compared by value (a NamedTuple, not a dataclass: see above)."""

    name: str  # what ``--format`` takes
    module: str
    function: str = "render"
    # Written for a person at a terminal: ``--quiet`` and colour apply.
    console: bool = False
    # Carries machine fixes (SARIF ``fixes``): the check computes each finding's proposed fix.
    carries_fixes: bool = False
    # Shows each finding's fix options and steps.
    shows_fixes: bool = False


class Format(enum.Enum):
    """The output formats, each naming its module (``sflint.output.render`` imports it only
    when it is chosen)."""

    _value_: FormatSpec

    CONSOLE = FormatSpec("console", "sflint.output.console", console=True)
    FULL = FormatSpec(
        "full", "sflint.output.console", "render_full", console=True, shows_fixes=True
    )
    JSON = FormatSpec("json", "sflint.output.json_format", shows_fixes=True)
    SARIF = FormatSpec("sarif", "sflint.output.sarif", carries_fixes=True, shows_fixes=True)
    GITHUB = FormatSpec("github", "sflint.output.github")
    MARKDOWN = FormatSpec("markdown", "sflint.output.markdown", shows_fixes=True)

    @property
    def spec(self) -> FormatSpec:
        return self.value

    @classmethod
    def named(cls, name: str) -> Format:
        """The format ``--format NAME`` chooses."""
        for member in cls:
            if member.value.name == name:
                return member
        raise ValueError(f"unknown format {name!r}")

    def with_fixes(self) -> Format:
        """The format that adds fix steps (``--show-fixes``): ``full`` for the console; a
        format that shows them already, or cannot, stays as it is."""
        if self.value.shows_fixes:
            return self
        return next(
            (f for f in Format if f.value.module == self.value.module and f.value.shows_fixes),
            self,
        )


class FailOn(enum.Enum):
    """``--fail-on`` / ``fail_on:``: exit 1 when a finding is at or above this severity."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"
    NEVER = "never"

    @property
    def threshold(self) -> Severity | None:
        """The lowest severity that fails the run; None: nothing does."""
        from sflint.model import Severity

        return None if self is FailOn.NEVER else Severity(self.value)


class FixStrategy(enum.Enum):
    """``--fix-strategy``: the admin's Option 1 or 2 (DESIGN.md, The headline problem), or 3
    for a grant through a permission set group."""

    EDIT = "edit"  # uncheck the permission in the existing set or profile
    CLONE = "clone"  # write a new set without it, to assign instead
    MUTE = "mute"  # mute it in the muting permission set of the group it comes through
