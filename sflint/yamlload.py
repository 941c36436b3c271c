"""Load YAML with the line of every value, rejecting duplicate keys.

Config and rule files come from the repository under review, so they are loaded with the
safe loader only, and every later error (schema, unknown key) can point at its line.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sflint.errors import UsageError

if TYPE_CHECKING:
    import yaml

JsonPath = tuple[str | int, ...]

# Bounds on what a config or rule file may hold (docs/security.md). No real rule nests
# matchers more than a few levels deep; a deeper document is refused at its line instead of
# exhausting the stack of the loader, the schema validator or the matcher compiler.
MAX_DEPTH = 32
# A YAML integer of thousands of digits makes Python's int() raise (its conversion limit,
# CVE-2020-10735) or cost quadratic time; no setting needs more than a few digits.
MAX_NUMBER_CHARS = 32
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
# A date (``expires: 2025-12-31``) stays the text it is written as: JSON has no dates (the
# validated document is cached as JSON), and the setting that takes one checks it itself.
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class Document(NamedTuple):
    """A YAML file's data, its display path and the line of each node (a NamedTuple: every
    run with a config imports this module, and a dataclass compiles six methods when it is
    created)."""

    data: Any
    path: str
    lines: dict[JsonPath, int]

    def line(self, where: JsonPath) -> int:
        """The line of ``where``, or of its nearest ancestor that has one."""
        for cut in range(len(where), -1, -1):
            if where[:cut] in self.lines:
                return self.lines[where[:cut]]
        return 1

    def error(self, where: JsonPath, message: str) -> UsageError:
        return UsageError(message, self.path, self.line(where))


def _convert(
    node: yaml.Node,
    loader: yaml.SafeLoader,
    doc: str,
    where: JsonPath,
    lines: dict[JsonPath, int],
    seen: set[int],
) -> Any:
    import yaml

    # An alias is the anchored node met a second time. Refusing aliases keeps a short file
    # from expanding into an exponential tree (or a cycle); config and rules never need them.
    if id(node) in seen:
        raise UsageError(
            "YAML anchors and aliases are not supported; write the value out",
            doc,
            node.start_mark.line + 1,
        )
    seen.add(id(node))
    line = node.start_mark.line + 1
    lines[where] = line
    if len(where) > MAX_DEPTH:
        raise UsageError(f"nested more than {MAX_DEPTH} levels deep", doc, line)
    if isinstance(node, yaml.ScalarNode) and node.tag in (_INT_TAG, _FLOAT_TAG):
        return _number(node, loader, doc, line)
    if isinstance(node, yaml.ScalarNode) and node.tag == _TIMESTAMP_TAG:
        return str(node.value)
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
            here = (*where, key)
            out[key] = _convert(value_node, loader, doc, here, lines, seen)
            # An error about a key reads best at the key's own line, not its value's.
            lines[here] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(v, loader, doc, (*where, i), lines, seen) for i, v in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def _number(node: yaml.ScalarNode, loader: yaml.SafeLoader, doc: str, line: int) -> Any:
    import math

    if len(str(node.value)) > MAX_NUMBER_CHARS:
        raise UsageError(f"number too long ({len(str(node.value))} characters)", doc, line)
    value = loader.construct_object(node, deep=True)
    # .nan and .inf pass every "minimum"/"maximum" bound of a JSON schema (comparisons with
    # NaN are false), so a severity of .nan would slip through; JSON itself has neither.
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(f"{node.value} is not a finite number", doc, line)
    return value


def parse_yaml(text: str, path: str) -> Document:
    import yaml  # lazy: a cache hit never parses YAML

    # libyaml's safe loader when PyYAML was built with it: the same safety, about ten times
    # faster to compose.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        lines: dict[JsonPath, int] = {}
        data = None if node is None else _convert(node, loader, path, (), lines, set())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise UsageError(f"invalid YAML: {exc.problem or exc}", path, line) from None
    except yaml.YAMLError as exc:
        raise UsageError(f"invalid YAML: {exc}", path) from None
    except RecursionError:
        raise UsageError("invalid YAML: nested too deeply", path) from None
    except ValueError as exc:  # a scalar the safe constructors reject (a bad date, say)
        raise UsageError(f"invalid YAML: {_excerpt(str(exc))}", path) from None
    finally:
        loader.dispose()
    return Document(data, path, lines)


def validate(doc: Document, schema: dict[str, Any]) -> None:
    """Validate against a JSON schema; the first error (by position) becomes a UsageError."""
    import jsonschema  # lazy: about 50 ms of imports that a cache hit never needs

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(doc.data), key=lambda e: doc.line(tuple(e.absolute_path)))
    if not errors:
        return
    err = errors[0]
    where = tuple(err.absolute_path)
    message = _excerpt(err.message)
    if err.validator == "additionalProperties":
        # Point at the unknown key itself rather than at its parent mapping.
        extra = [k for k in err.instance if k not in err.schema.get("properties", {})]
        if extra:
            where = (*where, extra[0])
            message = f"unknown key {extra[0]!r}"
    elif where:
        message = f"{'.'.join(str(p) for p in where)}: {message}"
    raise doc.error(where, message)


def _excerpt(message: str, limit: int = 160) -> str:
    """jsonschema quotes the offending value in full; a message shows a short excerpt only,
    so an error about a mistaken file never prints what the file holds."""
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _cache_key(data: bytes, schema: dict[str, Any]) -> str:
    from sflint import __version__

    digest = hashlib.sha256()
    for part in (__version__.encode(), json.dumps(schema, sort_keys=True).encode(), data):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def load_checked(
    file: Path,
    display: str,
    schema: dict[str, Any],
    cache: Path | None = None,
    root: Path | None = None,
    validated: Mapping[str, Any] | None = None,
) -> Document:
    """Load and validate a YAML file, through a content-addressed cache when one is given.

    The file is read under the file-access policy (:mod:`sflint.safeio`): a regular file,
    inside ``root`` after resolving links when a root is given, at most 1 MB.

    The key covers the file's bytes, the schema and sflint's version, so an entry can never
    be stale; only documents that passed validation are stored. A hit skips YAML parsing and
    jsonschema entirely, which is most of a one-file pre-commit run's start-up.
    ``validated`` holds documents by the same key that sflint ships already validated (its
    built-in rules, ``VALIDATED_FILE``): a file whose bytes are not among them is parsed and
    validated as any other.
    """
    from sflint.safeio import read_settings

    raw = read_settings(file, root, display)
    key = _cache_key(raw, schema)
    shipped = validated.get(key) if validated is not None else None
    if isinstance(shipped, dict):
        try:
            lines = {tuple(where): line for where, line in shipped["lines"]}
            return Document(shipped["data"], display, lines)
        except (KeyError, TypeError, ValueError):
            pass  # not as written by ``stored_form``: parsed and validated below
    entry = cache / f"{key}.json" if cache is not None else None
    if entry is not None and entry.is_file():
        try:
            stored = json.loads(entry.read_text(encoding="utf-8"))
            lines = {tuple(where): line for where, line in stored["lines"]}
            return Document(stored["data"], display, lines)
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged entry is rebuilt below
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"not UTF-8: {exc.reason} at byte {exc.start}", display) from None
    doc = parse_yaml(text, display)
    if doc.data is not None:
        validate(doc, schema)
    if entry is not None:
        _store(entry, stored_form(doc))
    return doc


def stored_form(doc: Document) -> dict[str, Any]:
    """A validated document as the cache and the shipped ``validated`` store keep it."""
    return {"data": doc.data, "lines": [[list(k), v] for k, v in doc.lines.items()]}


def cache_key(data: bytes, schema: dict[str, Any]) -> str:
    """The key of a document's bytes validated against ``schema`` by this sflint."""
    return _cache_key(data, schema)


def _store(entry: Path, value: object) -> None:
    """Write a cache entry atomically; a cache that cannot be written is simply not used."""
    import tempfile  # lazy: a run from the cache never writes (and the module costs 10 ms)

    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(value, out)
        Path(tmp).replace(entry)
    except OSError:
        return
