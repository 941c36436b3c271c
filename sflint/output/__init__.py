"""Output formats: one module per format, each exposing ``render(report) -> str``.

Formats are looked up in a table of module names and imported only when chosen, so that
``sflint --help`` never pays for sarif-om or json (cfn-lint does the same for its SARIF).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sflint.model import Finding
    from sflint.output.edits import ProposedFix
    from sflint.rules.model import Rule

FORMATS: dict[str, str] = {
    "console": "sflint.output.console",
    "full": "sflint.output.console",
    "json": "sflint.output.json_format",
    "sarif": "sflint.output.sarif",
    "github": "sflint.output.github",
    "markdown": "sflint.output.markdown",
}


@dataclass(frozen=True)
class Report:
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
    # Machine fixes by (path, fingerprint) of the finding, for formats that carry them (SARIF).
    proposed_fixes: Mapping[tuple[str, str], tuple[ProposedFix, ...]] = field(default_factory=dict)


def render(fmt: str, report: Report) -> str:
    module = importlib.import_module(FORMATS[fmt])
    text: str = module.render(report) if fmt != "full" else module.render_full(report)
    return text
