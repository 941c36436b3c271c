"""The JSON schema of a rule file. Unknown keys are errors everywhere (checkov #4288 shows
what silently skipping a malformed rule costs)."""

from __future__ import annotations

from typing import Any

from sflint.kinds import component_types
from sflint.model import PERSONA_TYPE

_NAMES = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
# Every component type of the kinds table; a fix option may also be for a persona-wide finding.
_COMPONENT_TYPES = [t.value for t in component_types()]
_TYPES = [*_COMPONENT_TYPES, PERSONA_TYPE]
_TEXT = {"type": "string", "minLength": 1}

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
        "scope": {
            "oneOf": [
                {"enum": ["file", "persona"]},
                {
                    "type": "array",
                    "items": {"enum": ["file", "persona"]},
                    "minItems": 1,
                    "uniqueItems": True,
                },
            ]
        },
        "applies_to": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
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
                    "applies_to": {"type": "array", "items": {"enum": _TYPES}, "minItems": 1},
                    "action": {"enum": ["disable-permission", "clone-without-permission"]},
                    "steps": {"type": "array", "items": _TEXT, "minItems": 1},
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
                "if": {
                    "required": ["action"],
                    "properties": {"action": {"const": "clone-without-permission"}},
                },
                "then": {"required": ["clone"]},
                "else": {"not": {"required": ["clone"]}},
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
        "examples": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "bad": _TEXT,
                    "good": _TEXT,
                    "type": {"enum": _COMPONENT_TYPES},
                    "expect": {"type": "integer", "minimum": 0},
                },
                "oneOf": [{"required": ["bad"]}, {"required": ["good"]}],
            },
        },
    },
    "$defs": {
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
                        "privileged_tier": {"type": "integer", "minimum": 1, "maximum": 3},
                        "enabled": {"type": "boolean"},
                    },
                },
                "license": {"oneOf": [_TEXT, _NAMES]},
                "in_persona": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["kind"],
                    "properties": {"kind": _TEXT},
                },
                "invalid_metadata": {"const": True},
                "detected": {"type": "boolean"},
                "xpath": {"type": "string", "minLength": 1, "maxLength": 2000},
                "unresolved_reference": {"const": True},
                "incomplete_access": {"const": True},
                "all": {"type": "array", "items": {"$ref": "#/$defs/matcher"}, "minItems": 1},
                "any": {"type": "array", "items": {"$ref": "#/$defs/matcher"}, "minItems": 1},
                "not": {"$ref": "#/$defs/matcher"},
            },
        }
    },
}
