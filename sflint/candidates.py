"""Integration-user candidates from weak signals: a name that reads like an integration
user's, and the shape of the access.

The strong signals (``access.signal_of``: the Salesforce Integration licenses, API Only User)
only an integration user's access carries. These do not: an admin names a profile
``Integration profile`` or ``Service Account Profile`` and gives it API Enabled and View All
Data, but so is an ``Emergency_Admin`` set shaped, and an ``API Admin`` profile may be a
person's. So each candidate carries a confidence (SALESFORCE.md, Integration users: names
are weak signals and wrong often enough):

* ``medium``: the name reads like an integration user's and the component itself enables
  API Enabled, View All Data or Modify All Data;
* ``low``: the name alone; or the shape alone: API Enabled with View All Data or Modify All
  Data, and no permission that only a person in the user interface uses.

Names are split into words (``IEC_SAP_Integration_APIOnly`` is iec sap integration api only)
with no regular expression that could backtrack on a hostile name, so a word is only ever a
whole word: ``Rapid``, ``Therapist`` and ``Capital`` hold no "api". A word that the name
negates says the opposite and is no signal: ``System Administrator (non-API user)``, ``No
API``, ``Not an Integration``, ``Non-Integration`` (a real repository's admin profile
"(non-API user)" was a medium candidate, with four SFL008 warnings on it). Only the negated
word is discounted: ``Integration_User_No_API_MFA`` (the name of a clone ``--fix`` writes)
still reads as an integration user's.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sflint.model import Component, ComponentType, Confidence

# Words that name an integration user on their own, and pairs of words that do together.
_WORDS = frozenset({"integration", "integrations", "api"})
_PAIRS = frozenset({("service", "account"), ("system", "user")})
# Words that negate the signal word they come before ("non-API", "not an integration"), and
# the articles that may stand between.
_NEGATIONS = frozenset({"non", "no", "not", "without"})
_ARTICLES = frozenset({"a", "an", "the"})
# What the component itself must enable for a named candidate to be medium.
API_ENABLED = "ApiEnabled"
BROAD = ("ViewAllData", "ModifyAllData")
# Permissions that only a person in the user interface uses: the Lightning Experience and
# Lightning console switches (an API-only user never sees either).
UI_ONLY = ("LightningExperienceUser", "LightningConsoleAllowedForUser")
# Every permission ``candidate`` reads: a run on named files keeps these of the components
# it reads light (``access.Focus``), so that it finds the same candidates as a whole run.
READS = frozenset({API_ENABLED, *BROAD, *UI_ONLY})
# A name longer than this is not read for words (a hostile name of megabytes costs nothing).
_MAX_NAME = 255


@dataclass(frozen=True)
class Candidate:
    confidence: Confidence
    signal: str  # why, in words, for the finding's "(detected ...)" and for ``sflint init``


def words(name: str) -> list[str]:
    """``name`` in lower-case words: split at every character that is not an ASCII letter or
    digit, and inside a word at each change of case (``APIProfile`` is api profile,
    ``IntegrationUser`` integration user) and between letters and digits."""
    out: list[str] = []
    word = ""

    def flush() -> None:
        nonlocal word
        if word:
            out.append(word.lower())
        word = ""

    for i, ch in enumerate(name[:_MAX_NAME]):
        if not (ch.isascii() and ch.isalnum()):
            flush()
            continue
        prev = name[i - 1] if i and word else ""
        nxt = name[i + 1] if i + 1 < len(name) else ""
        if prev and (
            (ch.isupper() and prev.islower())  # integrationUser
            or (ch.isupper() and prev.isupper() and nxt.islower())  # APIProfile
            or (ch.isdigit() != prev.isdigit())  # X00
        ):
            flush()
        word += ch
    flush()
    return out


def _may_name(name: str) -> bool:
    """False when ``name`` cannot read like an integration user's: every word ``words``
    gives is a run of ASCII characters of the name, lower-cased, so each word of ``_WORDS``
    and of a pair is a substring of the lower-cased name. Splitting every name into words
    was most of detecting personas in a large project (8 us a name, 3,000 names a run)."""
    low = name[:_MAX_NAME].lower()
    # Loops, not any() over generators: this runs for every name of a project.
    for word in _WORDS:
        if word in low:
            return True
    for first, second in _PAIRS:  # noqa: SIM110
        if first in low and second in low:
            return True
    return False


def _negated(found: list[str], at: int) -> bool:
    """Whether the word at ``at`` follows a negation, articles between (``not an``)."""
    before = at - 1
    while before >= 0 and found[before] in _ARTICLES:
        before -= 1
    return before >= 0 and found[before] in _NEGATIONS


def reads_like_integration(name: str) -> bool:
    """Whether ``name`` holds a signal word (or pair of words) that it does not negate."""
    if not _may_name(name):
        return False
    found = words(name)
    for i, (word, after) in enumerate(itertools.zip_longest(found, found[1:], fillvalue="")):
        if (word in _WORDS or (word, after) in _PAIRS) and not _negated(found, i):
            return True
    return False


def integration_name(component: Component) -> str | None:
    """The component's API name or label when it reads like an integration user's."""
    for name in (component.name, component.label):
        if name and reads_like_integration(name):
            return name
    return None


def candidate(component: Component) -> Candidate | None:
    """The weak signal a profile or permission set carries, with its confidence; None
    without one (or for other component types, and for a file sflint could not read)."""
    if component.type not in (ComponentType.PROFILE, ComponentType.PERMISSION_SET):
        return None
    if component.problems and not component.grants:
        return None
    named = integration_name(component)
    # What ``component.enabled`` says of each permission read here, from one pass over the
    # grants (a profile holds hundreds; this runs for every component of a project).
    on = {g.name for g in component.grants if g.enabled}
    access = [p for p in (API_ENABLED, *BROAD) if p in on]
    if named is not None:
        shown = f"its name {named!r} reads like an integration user's"
        if access:
            return Candidate(Confidence.MEDIUM, f"{shown} and it enables {', '.join(access)}")
        return Candidate(Confidence.LOW, shown)
    broad = [p for p in BROAD if p in on]
    if API_ENABLED in on and broad and not any(p in on for p in UI_ONLY):
        return Candidate(
            Confidence.LOW,
            f"it enables {API_ENABLED} and {', '.join(broad)} and no user-interface permission",
        )
    return None
