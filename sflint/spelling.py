"""Which known user permission an unknown name is a likely misspelling of.

The list of user permissions is open-ended (features, add-on licences and every release add
names; see sflint/data/README.md), so a name the catalogue lacks is most often a real
permission it has not met. Only a name that is *close* to a known one is taken for a slip:

1. a listed misspelling (``known-misspellings.tsv``), checked first, so it overrides the rest;
2. the same name in another case (Salesforce matches names case-sensitively on deploy);
3. the Setup label written as a name (``ManageConnectedApps`` for "Manage Connected Apps");
4. a common affix slip: a trailing ``s``, ``Api`` or ``Enabled`` added or dropped, the
   SObject field prefix ``Permissions`` kept, ``MultiFactor``/``Mfa`` for ``TwoFactor``;
5. a small edit distance (optimal string alignment: insertions, deletions, substitutions and
   swaps of neighbours), relative to the length: none for names under 5 characters, 1 under
   12 and 2 from 12 on (``max_edits``).

Evaluation is pure and deterministic: candidates are ranked by kind, distance, length
difference and then by name. Lookups are memoised per speller, and the deletion index that
makes many lookups fast (SymSpell-style: every string within two deletions of a known name) is
built only when a project has many unknown names, so a typical run costs microseconds and a
5 MB profile of invented names stays linear.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# A user permission's API name is the PermissionSet field name without ``Permissions``:
# letters and digits, starting with a letter (Field Reference, PermissionSet).
WELL_FORMED = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")

# Below this many distinct unknown names a scan of the names of similar length is cheaper
# than building the deletion index (about 0.1 s for 1,000 names).
_INDEX_AFTER = 40
# How many leading characters the deletion index is built from (SymSpell's prefix length):
# long enough that few names share a key, short enough that a name has few deletions.
_PREFIX = 10
# Suffixes whose slip (added or dropped) is common: plurals, "...Api", "...Enabled".
_SUFFIXES = ("s", "api", "enabled")
# The SObject field prefix, copied from a SOQL query or a describe into metadata.
_PREFIXES = ("permissions", "permission")
# Salesforce renamed "Two-Factor" to "Multi-Factor" (MFA) in labels, never in API names.
_SYNONYMS = (("multifactor", "twofactor"), ("mfa", "twofactor"), ("twofactor", "mfa"))


class Slip(str, enum.Enum):
    """Why a name is taken for a misspelling of a known one (lower value: stronger)."""

    LISTED = "listed"  # known-misspellings.tsv
    CASE = "case"
    LABEL = "label"
    AFFIX = "affix"
    EDIT = "edit"


_RANK = {s: i for i, s in enumerate(Slip)}


@dataclass(frozen=True)
class Suggestion:
    name: str  # the known name meant
    slip: Slip
    distance: int  # edits between the lower-cased names (0 for case, listed and label slips)


def max_edits(length: int) -> int:
    """Edits a name of ``length`` characters may differ by and still be a slip.

    Short names have many real neighbours (``EditTask``/``EditEvent`` are one word apart),
    so the allowance grows with length. Measured on the catalogue itself, each of its 975
    names held out in turn: with these limits and ``osa_distance`` 2 are taken for a slip of
    another real name (ModifyAllDataGovTags/ModifyAllDataGovTax).
    """
    if length < 5:
        return 0
    return 1 if length < 12 else 2


def _soft(c: str) -> bool:
    return "a" <= c <= "z"


def _sub_cost(x: str, y: str, heavy: int) -> int:
    if x == y or x.lower() == y.lower():
        return 0  # the same letter in another case: a case slip, not an edit
    return 1 if _soft(x) and _soft(y) else heavy


def osa_distance(a: str, b: str, limit: int) -> int:
    """Typing distance of ``a`` and ``b``, or ``limit + 1`` when larger.

    Optimal string alignment (insertions, deletions, substitutions, swaps of neighbours) where
    a lower-case letter costs 1, a change of case costs nothing, and adding, dropping or
    changing a capital or a digit costs more than any limit: in a CamelCase API name those
    start a word, so ``ObligationDEAssignee`` is another permission than
    ``ObligationAssignee`` and ``BACommunityAccess`` than ``BVCommunityAccess`` (measured on
    the catalogue: of the 31 known names that plain edit distance takes for a slip of another
    when held out, 28 differ from it in such letters), while
    ``ViewAlData`` is a slip of ``ViewAllData``.

    Only a band of width ``2 * limit + 1`` around the diagonal can hold a distance within
    the limit, so the rest of the table is never computed.
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    big = limit + 1

    def gap(c: str) -> int:
        return 1 if _soft(c) else big

    prev2: list[int] = []
    prev = [big] * (len(b) + 1)
    prev[0] = 0
    for j in range(1, min(len(b), limit) + 1):
        prev[j] = min(prev[j - 1] + gap(b[j - 1]), big)
    for i in range(1, len(a) + 1):
        cur = [big] * (len(b) + 1)
        cur[0] = min(prev[0] + gap(a[i - 1]), big) if i <= limit else big
        lo, hi = max(1, i - limit), min(len(b), i + limit)
        for j in range(lo, hi + 1):
            d = min(
                prev[j] + gap(a[i - 1]),
                cur[j - 1] + gap(b[j - 1]),
                prev[j - 1] + _sub_cost(a[i - 1], b[j - 1], big),
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                swap = 1 if _soft(a[i - 1]) and _soft(a[i - 2]) else big
                d = min(d, prev2[j - 2] + swap)
            cur[j] = min(d, big)
        if min(cur[max(0, lo - 1) : hi + 1]) > limit:
            return big
        prev2, prev = prev, cur
    return prev[len(b)]


def _deletes(s: str, depth: int) -> set[str]:
    out = {s}
    frontier = {s}
    for _ in range(depth):
        frontier = {t[:i] + t[i + 1 :] for t in frontier for i in range(len(t))}
        out |= frontier
    return out


def _fold_label(label: str) -> str:
    return re.sub(r"[^a-z0-9]", "", label.lower())


@dataclass(frozen=True)
class Speller:
    """Suggests the known name an unknown one stands for; built from the catalogue."""

    # Lower-cased name -> canonical name.
    by_lower: Mapping[str, str] = field(hash=False)
    # Label folded to lower-case letters and digits -> the name it labels (unique labels only).
    by_label: Mapping[str, str] = field(hash=False)
    # Length -> lower-cased names of that length, sorted.
    by_length: Mapping[int, tuple[str, ...]] = field(hash=False)
    # Lower-cased listed misspelling -> the real name meant.
    listed: Mapping[str, str] = field(hash=False)
    # Caches, filled on use (the answers are a pure function of the fields above).
    _memo: dict[str, Suggestion | None] = field(
        default_factory=dict, hash=False, compare=False, repr=False
    )
    _index: dict[str, tuple[str, ...]] = field(
        default_factory=dict, hash=False, compare=False, repr=False
    )

    @staticmethod
    def build(labels: Mapping[str, str], listed: Mapping[str, str]) -> Speller:
        by_lower = {n.lower(): n for n in sorted(labels)}
        folded: dict[str, list[str]] = {}
        for name, label in labels.items():
            key = _fold_label(label)
            # Two-word labels read as names of their own ("Send Email" is SendEmail's label
            # as well as EmailSingle's): only longer ones are taken for a label slip.
            if len(label.split()) >= 3 and key != name.lower():
                folded.setdefault(key, []).append(name)
        by_label = {k: v[0] for k, v in folded.items() if len(v) == 1}
        by_length: dict[int, list[str]] = {}
        for low in sorted(by_lower):
            by_length.setdefault(len(low), []).append(low)
        lengths = {k: tuple(v) for k, v in by_length.items()}
        return Speller(by_lower, by_label, lengths, {k.lower(): v for k, v in listed.items()})

    def suggest(self, name: str) -> Suggestion | None:
        """The known name ``name`` most likely stands for; None when it resembles none (a
        known name itself resembles nothing: it is not a slip)."""
        if self.by_lower.get(name.lower()) == name:
            return None
        if name not in self._memo:
            self._memo[name] = self._suggest(name)
        return self._memo[name]

    def _suggest(self, name: str) -> Suggestion | None:
        low = name.lower()
        if self.listed.get(low, name) != name:  # in any case: FORCETWOFACTORINAPI too
            return Suggestion(self.listed[low], Slip.LISTED, 0)
        if low in self.by_lower:
            return Suggestion(self.by_lower[low], Slip.CASE, 0)
        bare = re.sub(r"[^a-z0-9]", "", low)
        if bare in self.by_label:
            return Suggestion(self.by_label[bare], Slip.LABEL, 0)
        if bare != low and bare in self.by_lower:  # "View All Data", "View_All_Data"
            return Suggestion(self.by_lower[bare], Slip.LABEL, 0)
        affix = sorted(self.by_lower[v] for v in _affix_variants(bare) if v in self.by_lower)
        if affix:
            return Suggestion(affix[0], Slip.AFFIX, 0)
        return self._nearest(re.sub(r"[^A-Za-z0-9]", "", name))

    def _nearest(self, word: str) -> Suggestion | None:
        limit = max_edits(len(word))
        if limit == 0:
            return None
        best: tuple[int, int, str] | None = None
        for cand in self._candidates(word.lower(), limit):
            known = self.by_lower[cand]
            allowed = min(limit, max_edits(len(cand)))
            d = osa_distance(word, known, allowed)
            if d > allowed:
                continue
            key = (d, abs(len(cand) - len(word)), known)
            if best is None or key < best:
                best = key
        return None if best is None else Suggestion(best[2], Slip.EDIT, best[0])

    def _candidates(self, low: str, limit: int) -> Iterable[str]:
        if len(self._memo) < _INDEX_AFTER:
            return (
                c
                for n in range(len(low) - limit, len(low) + limit + 1)
                for c in self.by_length.get(n, ())
            )
        if not self._index:
            # SymSpell's prefix variant: only the first _PREFIX characters are deleted from.
            # Each edit costs at most one deletion on either side, counting the character an
            # edit pushes past the end of the prefix, so no name within the limit is missed.
            index: dict[str, set[str]] = {}
            for cand in self.by_lower:
                for d in _deletes(cand[:_PREFIX], max_edits(len(cand))):
                    index.setdefault(d, set()).add(cand)
            self._index.update((k, tuple(sorted(v))) for k, v in index.items())
        found = {c for d in _deletes(low[:_PREFIX], limit) for c in self._index.get(d, ())}
        return sorted(found)


def _affix_variants(low: str) -> set[str]:
    """The lower-cased names ``low`` becomes when one common slip is undone."""
    out: set[str] = set()
    for suffix in _SUFFIXES:
        out.add(low + suffix)
        if low.endswith(suffix) and len(low) > len(suffix):
            out.add(low[: -len(suffix)])
    for prefix in _PREFIXES:
        if low.startswith(prefix) and len(low) > len(prefix):
            out.add(low[len(prefix) :])
    for wrong, right in _SYNONYMS:
        if wrong in low:
            out.add(low.replace(wrong, right))
    out.discard(low)
    return out
