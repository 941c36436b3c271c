"""Load YAML with the line of every value, rejecting duplicate keys.

Config and rule files come from the repository under review, so they are loaded with the
safe loader only, and every later error (schema, unknown key) can point at its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from sflint.errors import UsageError

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Document:
    data: Any
    path: str
    lines: dict[JsonPath, int] = field(hash=False)

    def line(self, where: JsonPath) -> int:
        """The line of ``where``, or of its nearest ancestor that has one."""
        for cut in range(len(where), -1, -1):
            if where[:cut] in self.lines:
                return self.lines[where[:cut]]
        return 1

    def error(self, where: JsonPath, message: str) -> UsageError:
        return UsageError(message, self.path, self.line(where))


def _convert(
    node: yaml.Node, loader: yaml.SafeLoader, doc: str, where: JsonPath, lines: dict[JsonPath, int]
) -> Any:
    lines[where] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise UsageError(
                    f"keys must be strings, not {key!r}", doc, key_node.start_mark.line + 1
                )
            if key in out:
                raise UsageError(f"duplicate key {key!r}", doc, key_node.start_mark.line + 1)
            out[key] = _convert(value_node, loader, doc, (*where, key), lines)
            # An error about a key reads best at the key's own line, not its value's.
            lines[(*where, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(v, loader, doc, (*where, i), lines) for i, v in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


# libyaml's safe loader when PyYAML was built with it: same safety, about 10x faster to
# compose (a pre-commit run loads every rule file).
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str, path: str) -> Document:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        lines: dict[JsonPath, int] = {}
        data = None if node is None else _convert(node, loader, path, (), lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise UsageError(f"invalid YAML: {exc.problem or exc}", path, line) from None
    except yaml.YAMLError as exc:
        raise UsageError(f"invalid YAML: {exc}", path) from None
    finally:
        loader.dispose()
    return Document(data, path, lines)


def load_yaml(file: Path, display: str) -> Document:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read: {exc}", display) from None
    return parse_yaml(text, display)


def validate(doc: Document, schema: dict[str, Any]) -> None:
    """Validate against a JSON schema; the first error (by position) becomes a UsageError."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(doc.data), key=lambda e: doc.line(tuple(e.absolute_path)))
    if not errors:
        return
    err = errors[0]
    where = tuple(err.absolute_path)
    message = err.message
    if err.validator == "additionalProperties":
        # Point at the unknown key itself rather than at its parent mapping.
        extra = [k for k in err.instance if k not in err.schema.get("properties", {})]
        if extra:
            where = (*where, extra[0])
            message = f"unknown key {extra[0]!r}"
    elif where:
        message = f"{'.'.join(str(p) for p in where)}: {message}"
    raise doc.error(where, message)
