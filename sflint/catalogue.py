"""The shipped catalogue of real user-permission names, and the table of Salesforce's
standard profiles (see sflint/data/README.md)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from sflint.spelling import WELL_FORMED, Speller, Suggestion
from sflint.standard import StandardProfiles


@dataclass(frozen=True)
class Catalogue:
    labels: dict[str, str] = field(hash=False)
    misspellings: dict[str, str] = field(hash=False)
    privileged: dict[str, int] = field(hash=False)
    # Which known name an unknown one is a likely slip of (listed, case, affix, edits).
    speller: Speller = field(hash=False)
    # Why each privileged permission is one (the ``why`` column of privileged.tsv).
    privilege_reasons: dict[str, str] = field(default_factory=dict, hash=False)
    # The project asked for every name sflint does not know (``strict_permissions``).
    strict: bool = False
    # Salesforce's standard profiles (standard-profiles.tsv): findings on one an admin
    # cannot edit are notes, and Setup names resolve to their API names.
    standard: StandardProfiles = field(default_factory=StandardProfiles, hash=False)

    def known(self, name: str) -> bool:
        return name in self.labels

    def label(self, name: str) -> str:
        """The Setup label, or the API name itself when no source gives one."""
        return self.labels.get(name) or name

    def suggest(self, name: str) -> Suggestion | None:
        """The known name that an unknown ``name`` is a likely misspelling of, and why.

        Salesforce matches names case-sensitively on deploy; retrieved files always use the
        canonical case (reference catalogue, caveat 3), so a case variant is a mistake too.
        """
        if name in self.labels:
            return None
        return self.speller.suggest(name)

    def meant(self, name: str) -> str | None:
        """The real name a non-existent name stands for, if it is a likely slip."""
        s = self.suggest(name)
        return None if s is None else s.name

    def likely_typo(self, name: str) -> bool:
        """Not a real name: a slip of a known one, or not shaped like an API name at all."""
        if name in self.labels:
            return False
        return self.suggest(name) is not None or WELL_FORMED.match(name) is None

    def with_config(self, names: tuple[str, ...], *, strict: bool = False) -> Catalogue:
        """A catalogue that also knows the names a project lists in its config (they are
        then real, and a slip of one of them is suggested too)."""
        if not names and strict == self.strict:
            return self
        labels = dict(self.labels)
        for n in names:
            labels.setdefault(n, "")
        speller = self.speller if not names else Speller.build(labels, self.misspellings)
        return dataclasses.replace(self, labels=labels, speller=speller, strict=strict)

    def with_extra(self, names: tuple[str, ...]) -> Catalogue:
        """A catalogue that also knows the names a project lists in its config."""
        return self.with_config(names, strict=self.strict)


def _rows(name: str) -> list[dict[str, str]]:
    """The rows of a shipped table by its header's names. The tables are tab-separated with
    no quoting (a ``"`` is text), so a split is the whole format; one whose row has another
    number of fields than its header is a packaging error (``strict``), never a guess. Read
    beside this module: importlib.resources imports tempfile and zipfile for a package that
    is always a folder (an installed wheel, a checkout); with csv, 46 million instructions
    of every run that loads the catalogue (callgrind), a run after an edit among them."""
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")  # noqa: PTH100, PTH118, PTH120
    with open(os.path.join(folder, name), encoding="utf-8") as table:  # noqa: PTH118, PTH123
        lines = table.read().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:] if line]


def load_catalogue() -> Catalogue:
    labels: dict[str, str] = {}
    for row in _rows("user-permissions.tsv"):
        labels[row["name"]] = row["label"]
    misspellings = {r["wrong"]: r["right"] for r in _rows("known-misspellings.tsv")}
    tiers = _rows("privileged.tsv")
    privileged = {r["name"]: int(r["tier"]) for r in tiers}
    reasons = {r["name"]: r["why"] for r in tiers}
    speller = Speller.build(labels, misspellings)
    standard = StandardProfiles.from_rows(_rows("standard-profiles.tsv"))
    return Catalogue(labels, misspellings, privileged, speller, reasons, standard=standard)
