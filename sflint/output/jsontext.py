"""Indented JSON, written fast: the SARIF and JSON formatters' serializer.

``json.dumps(indent=2)`` cannot use the standard library's C encoder (only compact output
does), and with thousands of findings it took most of the formatters' time. ``dumper``
writes the same bytes about three times faster, so that the outputs stay as they were.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

__all__ = ["Raw", "dumper"]


class Raw(str):
    """Text already serialized, written as it is by ``dumper``."""


def dumper() -> Callable[[Any, str], str]:
    """A function that writes ``json.dumps(value, indent=2, ensure_ascii=False)`` byte for byte,
    three times faster (the standard library writes indented JSON with its pure-Python
    encoder only), the value starting at column ``len(indent)``. One per document: it
    remembers the encoded keys, which repeat in every finding."""
    encode: Callable[[str], str] = json.encoder.encode_basestring
    keys: dict[str, str] = {}

    def dumps(value: Any, indent: str = "") -> str:
        out: list[str] = []
        append = out.append

        # The scalar cases are inlined in the loops: this is the formatter's inner loop,
        # and a call per string would double its time.
        def write(value: Any, indent: str) -> None:
            kind = type(value)
            if kind is dict:
                if not value:
                    append("{}")
                    return
                inner = indent + "  "
                separator = ",\n" + inner
                append("{\n" + inner)
                first = True
                for key, item in value.items():
                    head = keys.get(key)
                    if head is None:
                        head = keys[key] = encode(key) + ": "
                    append(head if first else separator + head)
                    first = False
                    if type(item) is str:
                        append(encode(item))
                    else:
                        write(item, inner)
                append("\n" + indent + "}")
            elif kind is list or kind is tuple:
                if not value:
                    append("[]")
                    return
                inner = indent + "  "
                separator = ",\n" + inner
                append("[\n" + inner)
                first = True
                for item in value:
                    if not first:
                        append(separator)
                    first = False
                    if type(item) is str:
                        append(encode(item))
                    else:
                        write(item, inner)
                append("\n" + indent + "]")
            else:
                append(_scalar(value, encode))

        write(value, indent)
        return "".join(out)

    return dumps


def _scalar(value: Any, encode: Callable[[str], str]) -> str:
    kind = type(value)
    if kind is str:
        return encode(value)
    if kind is Raw:
        return str.__str__(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if kind is int:
        return int.__repr__(value)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    raise TypeError(f"cannot write {kind.__name__} to SARIF")
