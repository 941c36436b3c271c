"""The JSON schema of a rule file. Unknown keys are errors everywhere (checkov #4288 shows
what silently skipping a malformed rule costs)."""

from __future__ import annotations

from typing import Any

from sflint.kinds import component_types
from sflint.model import PERSONA_TYPE, ObjectAccess, PersonaKind
from sflint.rules.scope import Scope

_NAMES = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
# Every component type of the kinds table; a fix option may also be for a persona-wide finding.
_COMPONENT_TYPES = [t.value for t in component_types()]
_PERSONA_KINDS = [k.value for k in PersonaKind]
_SCOPES = [s.value for s in Scope]
_TEXT = {"type": "string", "minLength": 1}
_LIST_OF = {"type": "array", "minItems": 1, "uniqueItems": True}
_LINE = {"type": "integer", "minimum": 1}
# What --fix can do with a fix option (sflint.fix.plan.ACTIONS, by --fix-strategy).
_ACTIONS = ["disable-permission", "clone-without-permission", "mute-permission"]

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "name", "summary", "severity", "scope", "match", "message", "docs"],
    "properties": {
        "id": {"type": "string", "pattern": "^[A-Z][A-Z0-9]{1,9}[0-9]{3}$"},
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9]*(-[a-z0-9]+)*$"},
        "summary": _TEXT,
        "severity": {"enum": ["error", "warning", "note"]},
        "security_severity": {"type": "number", "minimum": 0, "maximum": 10},
        "precision": {"enum": ["very-high", "high", "medium", "low"]},
        "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"}},
        "scope": {"oneOf": [{"enum": _SCOPES}, {**_LIST_OF, "items": {"enum": _SCOPES}}]},
        # Which components a file-scope rule runs on (default: every type), and which
        # personas a persona-scope rule runs on (required for it).
        "component_types": {**_LIST_OF, "items": {"enum": _COMPONENT_TYPES}},
        "persona_kinds": {**_LIST_OF, "items": {"enum": _PERSONA_KINDS}},
        # The former single list; refused with a message that says how it was split.
        "applies_to": {"type": "array"},
        "match": {"$ref": "#/$defs/matcher"},
        "message": _TEXT,
        "notes": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["when", "text"],
                "properties": {"when": {"$ref": "#/$defs/matcher"}, "text": _TEXT},
            },
        },
        "fixes": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "title", "steps"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
                    "title": _TEXT,
                    "applies_to": {
                        **_LIST_OF,
                        "items": {"enum": [*_COMPONENT_TYPES, PERSONA_TYPE]},
                    },
                    "action": {"enum": _ACTIONS},
                    # Offered only for a grant that reaches the persona through a permission
                    # set group; its texts may name {group}.
                    "through_group": {"type": "boolean"},
                    # Offered only when ``when`` holds for the finding's component (``case``
                    # says when, in words, for the docs).
                    "when": {"$ref": "#/$defs/matcher"},
                    "case": _TEXT,
                    "steps": {
                        "type": "array",
                        "items": {"oneOf": [_TEXT, {"$ref": "#/$defs/case_step"}]},
                        "minItems": 1,
                    },
                    # How the clone of a clone option is named (required with that action).
                    "clone": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name_suffix", "label_suffix"],
                        "properties": {
                            "name_suffix": {"type": "string", "pattern": "^_[A-Za-z0-9_]{1,30}$"},
                            "label_suffix": {"type": "string", "minLength": 1, "maxLength": 30},
                        },
                    },
                },
                "dependentRequired": {"when": ["case"], "case": ["when"]},
                "if": {
                    "required": ["action"],
                    "properties": {"action": {"const": "clone-without-permission"}},
                },
                "then": {"required": ["clone"]},
                "else": {"not": {"required": ["clone"]}},
            },
        },
        # The first variant whose ``when`` holds for the subject replaces the message (and
        # the severity, if it names one): a finding worded for what sflint can see.
        "variants": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["when", "case", "message"],
                "properties": {
                    "when": {"$ref": "#/$defs/matcher"},
                    "case": _TEXT,
                    "severity": {"enum": ["error", "warning", "note"]},
                    "message": _TEXT,
                },
            },
        },
        # Findings of another rule on the same element (path, line, permission) that this
        # rule's finding says already: they are dropped, and ``text`` is added to this one.
        "folds": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["rule", "text"],
                "properties": {
                    "rule": {"type": "string", "pattern": "^[A-Z][A-Z0-9]{1,9}[0-9]{3}$"},
                    "text": _TEXT,
                },
            },
        },
        # One finding per component for every element the match finds there (at the first,
        # naming {count} and {items}), rather than one per element.
        "aggregate": {
            "type": "object",
            "additionalProperties": False,
            "required": ["by", "item", "count"],
            "properties": {
                "by": {"enum": ["component"]},
                # How {items} writes each element (its own placeholders: {object} ...).
                "item": _TEXT,
                # The noun of {count}: "1 object", "832 objects".
                "count": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["one", "other"],
                    "properties": {"one": _TEXT, "other": _TEXT},
                },
            },
        },
        "docs": {
            "type": "object",
            "additionalProperties": False,
            "required": ["why", "how_to_fix"],
            "properties": {
                "why": _TEXT,
                "how_to_fix": _TEXT,
                "references": {"type": "array", "items": _TEXT},
            },
        },
        # Each example is a small project: one file's text (of ``type``), or file names with
        # their texts, an optional .sflint.yml, and for a bad one the findings it must give.
        "examples": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "title": _TEXT,
                    "bad": {"$ref": "#/$defs/example_files"},
                    "good": {"$ref": "#/$defs/example_files"},
                    "type": {"enum": _COMPONENT_TYPES},
                    "config": _TEXT,
                    "expect": {
                        **_LIST_OF,
                        "items": {
                            "oneOf": [
                                _LINE,
                                {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["path", "line"],
                                    "properties": {"path": _TEXT, "line": _LINE},
                                },
                            ]
                        },
                    },
                },
            },
        },
    },
    "$defs": {
        "case_step": {
            "type": "object",
            "additionalProperties": False,
            "required": ["when", "case", "text"],
            "properties": {"when": {"$ref": "#/$defs/matcher"}, "case": _TEXT, "text": _TEXT},
        },
        "example_files": {
            "oneOf": [
                _TEXT,
                {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": _TEXT,
                    "propertyNames": {"pattern": "^[^/\\\\.][^\\\\]*$"},
                },
            ]
        },
        "matcher": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
            "properties": {
                "user_permission": {
                    "type": "object",
                    "additionalProperties": False,
                    "minProperties": 1,
                    "properties": {
                        "name": _TEXT,
                        "names": _NAMES,
                        "misspelling_of": _NAMES,
                        "not_misspelling_of": _NAMES,
                        "unknown": {"type": "boolean"},
                        # Unknown, and a likely slip of a known name (see sflint/spelling.py).
                        "likely_typo": {"type": "boolean"},
                        "not_names": _NAMES,
                        # A tier of sflint/data/privileged.tsv: N is "tier N or higher
                        # privilege" (1 is the highest), {exactly: N} only that tier.
                        "privileged_tier": {
                            "oneOf": [
                                {"type": "integer", "minimum": 1, "maximum": 3},
                                {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["exactly"],
                                    "properties": {
                                        "exactly": {"type": "integer", "minimum": 1, "maximum": 3}
                                    },
                                },
                            ]
                        },
                        "enabled": {"type": "boolean"},
                    },
                },
                # An <objectPermissions> entry enabling any of these flags (element names:
                # Metadata API Developer Guide, Profile: ObjectPermissions), on these objects.
                "object_permission": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["access"],
                    "properties": {
                        "access": {
                            **_LIST_OF,
                            "minItems": 1,
                            "items": {"enum": [a.value for a in ObjectAccess]},
                        },
                        "objects": _NAMES,
                    },
                },
                "license": {"oneOf": [_TEXT, _NAMES]},
                # .sflint.yml sets strict_permissions (true) or not (false).
                "strict_permissions": {"type": "boolean"},
                "in_persona": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["kind"],
                    "properties": {"kind": {"enum": _PERSONA_KINDS}},
                },
                "invalid_metadata": {"const": True},
                "ambiguous_metadata": {"const": True},
                "detected": {"type": "boolean"},
                "xpath": {"type": "string", "minLength": 1, "maxLength": 2000},
                "unresolved_reference": {"const": True},
                "incomplete_access": {"const": True},
                "integration_signal": {"type": "boolean"},
                # One of Salesforce's standard profiles (true/false), or one of these names.
                "standard_profile": {
                    "oneOf": [
                        {"type": "boolean"},
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["names"],
                            "properties": {"names": _NAMES},
                        },
                    ]
                },
                # Fix options and steps: the persona holds the grant through a group.
                "via_group": {"type": "boolean"},
                # Persona scope: the access includes a profile of the project.
                "profile_known": {"type": "boolean"},
                "duplicate_component": {"const": True},
                "all": {"type": "array", "items": {"$ref": "#/$defs/matcher"}, "minItems": 1},
                "any": {"type": "array", "items": {"$ref": "#/$defs/matcher"}, "minItems": 1},
                "not": {"$ref": "#/$defs/matcher"},
            },
        },
    },
}
