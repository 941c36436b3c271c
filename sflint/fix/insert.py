"""Pure byte operations that add elements: a permission to a muting permission set, a muting
permission set to a group, and a new muting permission set file.

Like :mod:`sflint.fix.ops`, every function takes bytes and returns bytes, copies every byte
outside the inserted range unchanged, and checks its result with :func:`sflint.fix.scan.verify`
(the result, with the inserted element removed again, is the original to a second parser).
The new element goes where Salesforce itself would write it: root children in alphabetical
order of their element names, and ``userPermissions`` and ``mutingPermissionSets`` entries in
the order of their names (Metadata API Developer Guide; SALESFORCE.md, Files), indented like
its siblings, with the file's own line ending.
"""

from __future__ import annotations

from collections.abc import Sequence

from sflint.fix.ops import Splice, _apply_splices, _escape_text, _text_splice
from sflint.fix.scan import TRUE, Element, scan, verify
from sflint.fix.values import FixError

__all__ = ["add_muting_member", "mute_permissions", "new_muting_set"]

MUTING_ROOT = "MutingPermissionSet"
GROUP_ROOT = "PermissionSetGroup"
_NAMESPACE = "http://soap.sforce.com/2006/04/metadata"


def _newline(data: bytes) -> bytes:
    return b"\r\n" if b"\r\n" in data else b"\n"


def _indent_of(data: bytes, element: Element) -> bytes | None:
    """The spaces and tabs before ``element`` on its line, or None when anything else is."""
    line_start = max(data.rfind(b"\n", 0, element.start), data.rfind(b"\r", 0, element.start)) + 1
    lead = data[line_start : element.start]
    return lead if not lead.strip(b" \t") else None


def _sort_key(data: bytes, element: Element) -> tuple[str, str]:
    """Where a root child sorts: by element name, then by the name it carries."""
    if element.name == "userPermissions":
        names = element.child_texts("name")
        return (element.name, names[0] if names else "")
    text = data[element.content_start : element.content_end].strip(b" \t\r\n")
    return (element.name, text.decode("utf-8", "replace"))


def _insert_child(data: bytes, root: Element, key: tuple[str, str], body: bytes) -> bytes:
    """``data`` with the root child ``body`` inserted in its sorted place and verified;
    ``body``'s lines are joined by ``\n`` and indented relative to its first line (they get
    the siblings' indentation and the file's line ending here)."""
    newline = _newline(data)
    children = list(root.children)
    if not children:
        if root.content_start == root.content_end:
            raise FixError(f"<{root.name}/> is empty and self-closing; cannot add to it")
        indent = b"    "
        at = root.content_start  # any whitespace already there closes the new line
        text = newline + indent + body.replace(b"\n", newline + indent)
        start = at + len(newline) + len(indent)
        if root.content_start == root.content_end:  # <X></X>: nothing to close it
            text += newline
    else:
        after = next((c for c in children if _sort_key(data, c) > key), None)
        anchor = after or children[-1]
        found = _indent_of(data, anchor)
        if found is None:
            raise FixError(f"<{anchor.name}> does not start its own line; cannot add beside it")
        indent = found
        element = indent + body.replace(b"\n", newline + indent)
        if after is not None:  # on its own line, before the first child that sorts after it
            at = anchor.start - len(indent)
            text = element + newline
            start = anchor.start
        else:  # on a line of its own after the last child
            at = anchor.end
            text = newline + element
            start = at + len(newline) + len(indent)
    result = _apply_splices(data, [Splice(at, at, text)])
    inserted = next((c for c in scan(result).children if c.start == start), None)
    if inserted is None:
        raise FixError("verification failed: the new element is not where it was written")
    # Removing the new element again must give the original, to a second parser.
    verify(result, data, removed=[inserted.ordinal])
    return result


def _user_permission(name: str, indent: bytes = b"    ") -> bytes:
    """A ``<userPermissions>`` element enabling ``name``: lines joined by ``\\n``, the
    children one ``indent`` in (the caller re-indents and converts line endings)."""
    return b"\n".join(
        [
            b"<userPermissions>",
            indent + b"<enabled>true</enabled>",
            indent + b"<name>" + _escape_text(name) + b"</name>",
            b"</userPermissions>",
        ]
    )


def _unit(data: bytes, root: Element) -> bytes:
    """One level of indentation in this file: that of the root's first child (4 spaces in
    what Salesforce writes)."""
    for child in root.children:
        found = _indent_of(data, child)
        if found:
            return found
    return b"    "


def mute_permissions(data: bytes, permissions: Sequence[str]) -> bytes:
    """A muting permission set's bytes with each of ``permissions`` enabled: an enabled
    permission in a muting permission set removes it from the group that lists the set
    (Metadata API Developer Guide, MutingPermissionSet). A permission listed as disabled is
    switched on; one enabled already is left as it is (a second run changes nothing)."""
    for permission in dict.fromkeys(permissions):
        root = scan(data)
        if root.name != MUTING_ROOT:
            raise FixError(f"expected a <{MUTING_ROOT}> root element, found <{root.name}>")
        listed = [
            c
            for c in root.children
            if c.name == "userPermissions" and c.child_texts("name") == [permission]
        ]
        if any(t in TRUE for c in listed for t in c.child_texts("enabled")):
            continue
        enabled = [e for c in listed for e in c.children if e.name == "enabled"]
        if enabled:
            after = _apply_splices(data, [_text_splice(data, enabled[0], b"true")])
            verify(data, after, retext={enabled[0].ordinal: "true"})
            data = after
            continue
        body = _user_permission(permission, _unit(data, root))
        data = _insert_child(data, root, ("userPermissions", permission), body)
    return data


def add_muting_member(data: bytes, muting_set: str) -> bytes:
    """A permission set group's bytes that list ``muting_set`` in ``<mutingPermissionSets>``
    (left as they are when they list it already)."""
    root = scan(data)
    if root.name != GROUP_ROOT:
        raise FixError(f"expected a <{GROUP_ROOT}> root element, found <{root.name}>")
    key = ("mutingPermissionSets", muting_set)
    if any(_sort_key(data, c) == key for c in root.children):
        return data
    body = b"<mutingPermissionSets>" + _escape_text(muting_set) + b"</mutingPermissionSets>"
    return _insert_child(data, root, key, body)


def new_muting_set(label: str, permissions: Sequence[str], like: bytes) -> bytes:
    """A new muting permission set file with ``label`` that mutes ``permissions``, written
    as Salesforce writes one (XML declaration, namespace, children in order), with the line
    ending and indentation of ``like`` (the group file it is made for)."""
    root = scan(like)
    unit = _unit(like, root)
    newline = _newline(like)
    lines = [
        b'<?xml version="1.0" encoding="UTF-8"?>',
        b'<MutingPermissionSet xmlns="' + _NAMESPACE.encode() + b'">',
        unit + b"<label>" + _escape_text(label) + b"</label>",
    ]
    for permission in sorted(dict.fromkeys(permissions)):
        element = _user_permission(permission, unit)
        lines += [unit + line for line in element.split(b"\n")]
    lines.append(b"</MutingPermissionSet>")
    data = newline.join(lines) + newline
    check = scan(data)  # what was written reads back as intended
    if check.name != MUTING_ROOT or len(check.children) != 1 + len(set(permissions)):
        raise FixError("verification failed: the new muting permission set does not read back")
    return data
