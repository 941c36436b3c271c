"""The shipped catalogue of real user-permission names (see sflint/data/README.md)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from importlib import resources


@dataclass(frozen=True)
class Catalogue:
    labels: dict[str, str] = field(hash=False)
    misspellings: dict[str, str] = field(hash=False)
    privileged: dict[str, int] = field(hash=False)
    # Lower-cased name -> canonical name, to suggest the real spelling of a wrong-case name.
    folded: dict[str, str] = field(hash=False)
    # Why each privileged permission is one (the ``why`` column of privileged.tsv).
    privilege_reasons: dict[str, str] = field(default_factory=dict, hash=False)

    def known(self, name: str) -> bool:
        return name in self.labels

    def label(self, name: str) -> str:
        """The Setup label, or the API name itself when no source gives one."""
        return self.labels.get(name) or name

    def meant(self, name: str) -> str | None:
        """The real name a non-existent name stands for, if it is a known or case slip.

        Salesforce matches names case-sensitively on deploy; retrieved files always use the
        canonical case (reference catalogue, caveat 3), so a case variant is a mistake.
        """
        if name in self.labels:
            return None
        if name in self.misspellings:
            return self.misspellings[name]
        return self.folded.get(name.lower())

    def with_extra(self, names: tuple[str, ...]) -> Catalogue:
        """A catalogue that also knows the names a project lists in its config."""
        if not names:
            return self
        labels = dict(self.labels)
        for n in names:
            labels.setdefault(n, "")
        return Catalogue(
            labels, self.misspellings, self.privileged, self.folded, self.privilege_reasons
        )


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("sflint.data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))


def load_catalogue() -> Catalogue:
    labels: dict[str, str] = {}
    for row in _rows("user-permissions.tsv"):
        labels[row["name"]] = row["label"]
    misspellings = {r["wrong"]: r["right"] for r in _rows("known-misspellings.tsv")}
    tiers = _rows("privileged.tsv")
    privileged = {r["name"]: int(r["tier"]) for r in tiers}
    reasons = {r["name"]: r["why"] for r in tiers}
    folded = {n.lower(): n for n in labels}
    return Catalogue(labels, misspellings, privileged, folded, reasons)
