"""Message templates of rule files: ``{name}`` placeholders, nothing else.

Rule files may come from the repository under review, so templates are never passed to
``str.format`` (which can reach attributes); a placeholder is a plain name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)\}")


def placeholders(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)


def fill(template: str, values: Mapping[str, str]) -> str:
    """Substitute each ``{name}``; a value missing for this finding renders empty (unknown
    names were rejected when the rule was loaded)."""
    return _PLACEHOLDER.sub(lambda mo: values.get(mo.group(1), ""), template)
