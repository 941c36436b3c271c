"""``sflint init``: write a starter ``.sflint.yml`` with the integration users detected."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, TextIO

from sflint.errors import UsageError, show_error
from sflint.kinds import persona_keys
from sflint.model import Confidence
from sflint.sanitize import inert, line_start
from sflint.settings import LoadOptions
from sflint.streams import without_surrogates

if TYPE_CHECKING:
    from sflint.access import Persona


def _yaml_str(value: str) -> str:
    """``value`` as a YAML double-quoted scalar that reads back as exactly ``value``.

    A JSON string is a valid YAML double-quoted scalar, and JSON escapes the C0 controls;
    ``inert`` then spells DEL, the C1 controls and the bidi and line-separator characters as
    ``\\xNN`` / ``\\uNNNN``, which YAML's double-quoted style reads back (YAML 1.1, 5.7 Escape
    sequences), so the file holds no character that a terminal or an editor would act on;
    the lone surrogates of a file name that is not UTF-8 are spelt ``\\udcXX`` likewise."""
    return without_surrogates(inert(json.dumps(value, ensure_ascii=False)))


# Written explicitly, so that the file says what happens to a component nobody declared.
_DETECTION = [
    "",
    "# Detection stays on beside the personas above: a profile or permission set added later",
    "# with an integration user's license, or API Only User, is checked as an integration",
    "# user of its own (a declared persona wins for the components it names). `false` checks",
    "# only the declared personas.",
    "detect_integration: true",
]


def _entry(p: Persona, prefix: str = "") -> list[str]:
    """One persona's entry, each line after ``prefix`` (``"# "`` comments it out)."""
    keys = {ctype: key for key, ctype in persona_keys()}
    why = f": {inert(p.signal or '')}"
    if p.confidence is not Confidence.HIGH:
        why = f" with {p.confidence.value} confidence{why}"
    lines = [
        f"  - name: {_yaml_str(p.name)}",
        f"    # detected{why}",
        f"    kind: {p.kind.value}",
    ]
    for ref in p.references:
        key = keys[ref.type]
        value = _yaml_str(ref.name)
        lines.append(f"    {key.key}: [{value}]" if key.many else f"    {key.key}: {value}")
    return [f"{prefix}{line}" if prefix else line for line in lines]


# Said before the commented-out candidates of weaker signals.
_WEAK = [
    "# Candidates from weaker signals: a name that reads like an integration user's, or the",
    "# shape of the access (API Enabled with View All Data or Modify All Data). sflint checks",
    "# the medium ones as detected personas and leaves the low ones alone (--min-confidence).",
    "# If one is an integration user, uncomment it: a declared persona is checked in full.",
]


def starter_config(candidates: tuple[Persona, ...]) -> str:
    """The text of a starter ``.sflint.yml``: one persona per detected integration signal,
    and each candidate of a weaker signal as a commented-out entry (declaring one is the
    admin's decision: a declared persona is checked with high confidence)."""
    strong = tuple(p for p in candidates if p.confidence is Confidence.HIGH)
    weak = tuple(p for p in candidates if p.confidence is not Confidence.HIGH)
    lines = [
        "# sflint settings for this project (see sflint's README, `.sflint.yml` reference).",
        "#",
        "# Which user holds which permission set is org data that a repository cannot show:",
        "# declare each integration user here, with the profile, permission sets and permission",
        "# set groups assigned to it in Setup (Users > the user > Permission Set Assignments).",
    ]
    if not strong and weak:
        lines += [
            "# No strong integration signal was found in the metadata.",
            "personas: []",
            *_WEAK,
            "# (To declare one, write `personas:` instead of `personas: []` above.)",
        ]
        for p in weak:
            lines += _entry(p, "# ")
        lines += _DETECTION
        return "\n".join(lines) + "\n"
    if not strong:
        lines += [
            "# No integration signal was found in the metadata. An example:",
            "#",
            "# personas:",
            "#   - name: Commission app connection",
            "#     kind: integration",
            "#     profile: Minimum Access - API Only Integrations",
            "#     permission_sets: [Commission_App_API]",
            "#     permission_set_groups: [Integration_Base]",
            "personas: []",
            *_DETECTION,
        ]
        return "\n".join(lines) + "\n"
    lines += [
        "# The personas below were detected from signals in the metadata; check each one",
        "# against the org and add what the user is assigned besides.",
        "personas:",
    ]
    for p in strong:
        lines += _entry(p)
    if weak:
        lines += _WEAK
        for p in weak:
            lines += _entry(p, "# ")
    lines += _DETECTION
    return "\n".join(lines) + "\n"


def init(
    options: LoadOptions, force: bool, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Write the starter config to ``options.config`` (default: ``.sflint.yml`` at the
    project root), where ``sflint check --config`` then reads it."""
    from sflint.config import SCHEMA, Config
    from sflint.pipeline import load
    from sflint.project import CONFIG_FILE
    from sflint.safeio import write_text
    from sflint.yamlload import parse_yaml, validate

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        # The file init writes is not read: with no config every integration signal is
        # detected, and a broken file that --force replaces cannot stop it.
        loaded = load(options, config=Config())
    except UsageError as exc:
        return show_error(exc, err)
    target = options.config or loaded.settings.root / CONFIG_FILE
    if target.exists() and not force:
        return show_error(UsageError(f"{target} exists; --force overwrites it"), err)
    candidates = tuple(dict.fromkeys(a.persona for a in loaded.accesses))
    text = starter_config(candidates)
    try:
        # What init writes must load: check it before the file exists.
        validate(parse_yaml(text, CONFIG_FILE), SCHEMA)
        # Never through a symbolic link: a committed `.sflint.yml -> ~/.bashrc` would let a
        # pull request choose what `init --force` overwrites (sflint.safeio).
        write_text(target, text)
    except UsageError as exc:
        return show_error(exc, err)
    # Names come from the repository: each line inert and safe at the start of a log line.
    # The candidates of weaker signals are listed in the file only, commented out, where the
    # admin decides on each; what init prints stays about what it declared.
    strong = [p for p in candidates if p.confidence is Confidence.HIGH]
    lines = [f"Wrote {target} with {len(strong)} detected integration persona(s)."]
    lines += [f"  {p.name}: {p.signal}" for p in strong]
    out.write("".join(f"{line_start(line)}\n" for line in lines))
    return 0
