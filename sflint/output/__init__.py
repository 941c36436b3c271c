"""Output formats: one module per format, each exposing a ``render(report) -> str``.

``Format`` is the one registry: each member names its module and says what the format can
do, so the CLI's choices and the batch runner's decisions come from here, never from a
format's name. It is defined in ``sflint.choices`` (which the CLI imports at start-up, and
which needs no dataclass) and re-exported here. A format's module is imported only when it
is chosen, so that ``sflint --help`` never pays for sarif-om or json (cfn-lint does the
same for its SARIF).

Adding a format: its module, one member of ``sflint.choices.Format``, and its entry in
tests/test_formats.py.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

# Re-exported: the batch runner, the formats and the tests import them from here.
from sflint.choices import Format as Format
from sflint.choices import FormatSpec as FormatSpec

if TYPE_CHECKING:
    from sflint.fix.values import ProposedFix
    from sflint.model import Finding, Notice
    from sflint.rules.model import Rule


class ProjectInfo(NamedTuple):
    """Which project was checked, as the summary says it (paths relative to the path base)."""

    root: str
    found_by: str  # what made the folder the project (``project.RootKind``)
    package_dirs: tuple[str, ...]  # "." for the whole folder
    outside: tuple[str, ...] = ()  # named on the command line, outside package_dirs

    @property
    def scanned(self) -> str:
        if self.package_dirs == (".",):
            return "the whole folder"
        words = "package folder" if len(self.package_dirs) == 1 else "package folders"
        return f"{words} {', '.join(self.package_dirs)}"


class Report(NamedTuple):
    """Everything a formatter may show; formatters never read files or the clock."""

    findings: tuple[Finding, ...]
    rules: tuple[Rule, ...]  # the enabled rules, in id order
    version: str
    files: int = 0
    components: int = 0
    forceignored: int = 0
    suppressed: tuple[Finding, ...] = ()
    show_fixes: bool = False
    color: bool = False
    sarif_category: str | None = None
    # Machine fixes by (path, line, fingerprint) of the finding, for the formats that carry
    # them (SARIF).
    proposed_fixes: Mapping[tuple[str, int, str], tuple[ProposedFix, ...]] = MappingProxyType({})
    projects: tuple[ProjectInfo, ...] = ()
    # Detected personas that --min-confidence left unchecked, and that floor (for the summary).
    unchecked: int = 0
    min_confidence: str = "medium"
    # The folder every path is relative to, as an absolute file URI ending in "/" (SARIF's
    # originalUriBaseIds); None: not known (a report built by hand).
    base_uri: str | None = None
    # About the triage: expired exceptions, exceptions and baseline entries matching nothing.
    notices: tuple[Notice, ...] = ()
    # ``--new-since REV``: the revision, and how many findings it already had (not shown).
    new_since: str | None = None
    preexisting: int = 0
    # SARIF carries the suppressed findings as results with ``suppressions``.
    sarif_suppressed: bool = True

    def suppressed_by(self) -> dict[str, int]:
        """How many findings each kind of waiver accepted (comment, exception, baseline),
        every kind present: each format shows the same counts."""
        from sflint.model import WaiverKind

        counts = {k.value: 0 for k in WaiverKind}
        for f in self.suppressed:
            if f.waiver is not None:
                counts[f.waiver.kind.value] += 1
        return counts

    def suppressed_text(self) -> str:
        """``3 findings suppressed (1 by a comment, 2 by the baseline)``, or ""; the one
        wording of the counts for every format."""
        n = len(self.suppressed)
        if not n:
            return ""
        what = "1 finding" if n == 1 else f"{n:,} findings"
        parts = self.suppressed_parts()
        return f"{what} suppressed ({parts})" if parts else f"{what} suppressed"

    def suppressed_parts(self) -> str:
        """``1 by a comment, 2 by the baseline``: the suppressed findings by what accepted
        them."""
        words = {"comment": "a comment", "exception": "an exception", "baseline": "the baseline"}
        plural = {"comment": "comments", "exception": "exceptions", "baseline": "the baseline"}
        parts = [
            f"{count} by {words[kind] if count == 1 else plural[kind]}"
            for kind, count in self.suppressed_by().items()
            if count
        ]
        return ", ".join(parts)

    def preexisting_text(self) -> str:
        """``2 findings already in REV not shown``, or "" without --new-since."""
        if self.new_since is None:
            return ""
        n = self.preexisting
        what = "1 finding" if n == 1 else f"{n:,} findings"
        return f"{what} already in {self.new_since} not shown"


def render(fmt: Format, report: Report) -> str:
    module = importlib.import_module(fmt.value.module)
    text: str = getattr(module, fmt.value.function)(report)
    return text
