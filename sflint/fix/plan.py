"""Turn findings into file edits: the admin's Option 1 (``edit``) or Option 2 (``clone``).

The byte-level work lives in :mod:`sflint.fix.ops`; this module decides which files to
touch. Each file is read, scanned and verified once however many findings it has: the edit
strategy disables all of a file's permissions in one pass and keeps each finding's share of
the change apart, so ``--fix``, ``--diff`` and the SARIF ``fixes`` of every result come from
the same plan (a file with thousands of findings is not re-planned once per finding).

The plan is a list of units, each written whole or not at all (:mod:`sflint.fix.write`): an
edited file; or a clone with the ``.sflint.yml`` and group edits that point at it, so that a
clone that could not be written never leaves the config naming a set that does not exist.
Every file is read through :mod:`sflint.safeio`: a clone copies regular files of the project
only, never what a symbolic link in a decomposed folder points at (``/proc/self/environ``).
Planning is linear in the number of components, findings and references: names, earlier
clones, group members and persona references are looked up in indexes built once.
"""

from __future__ import annotations

import bisect
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sflint.config import Config
from sflint.fix.mute import MUTE, plan_mute
from sflint.fix.ops import (
    CloneNames,
    Disabled,
    clone_base,
    clone_label,
    clone_path,
    disable_permissions,
    plan_clone,
    plan_clone_decomposed,
)
from sflint.fix.values import (
    MAX_PROPOSED_ELEMENTS,
    ByteEdit,
    FileEdit,
    FixError,
    Patch,
    Plan,
    ProposedFix,
    Unit,
)

if TYPE_CHECKING:
    from sflint.fix.ops import Splice
from sflint.model import CloneNaming, Component, ComponentType, Finding

__all__ = ["ACTIONS", "plan", "proposed_fixes"]

ACTIONS = {"edit": "disable-permission", "clone": "clone-without-permission", "mute": MUTE}

Components = dict[tuple[ComponentType, str], Component]


@dataclass(frozen=True)
class _Clone:
    component: Component
    new_name: str
    findings: tuple[Finding, ...]
    edits: tuple[FileEdit, ...]  # the clone's files; none when an earlier clone is reused
    folder: Path | None  # the folder a decomposed clone creates
    done: str
    would: str


@dataclass(frozen=True)
class _Rename:
    """Where the project names a cloned set: replace ``old`` with ``new`` on ``line``."""

    path: str
    line: int
    old: str
    new: str
    who: str  # "persona 'X'" or "permission set group Y", for the note


class _NotCloned(Exception):
    """A file a clone needs is refused; the message is ``<file> <reason>``."""


def _fixable(f: Finding, action: str) -> bool:
    return any(o.action == action for o in f.fixes)


def _main(component: Component) -> str:
    """The component's main file, project-relative: where its refusals point."""
    return component.anchor.path if component.anchor else component.files[0]


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _read(root: Path, rel: str) -> bytes:
    """A project file under the file-access policy (a regular file inside the project, at
    most the metadata size limit); raises _NotCloned with what the file is."""
    from sflint.safeio import METADATA_LIMIT, Refused, read_bytes

    try:
        return read_bytes(root / rel, root, METADATA_LIMIT)
    except Refused as exc:
        raise _NotCloned(f"{rel} {exc.reason}") from None


# --------------------------------------------------------------------------------------------
# Option 1: edit the file that grants the permission


def _own_edits(
    path: str, data: bytes, shares: dict[str, tuple[Splice, ...]], fixed: list[Finding]
) -> list[tuple[Finding, tuple[ByteEdit, ...]]]:
    """Each finding's own part of its permission's share: the splices from its element's line
    up to the next finding of that permission (the first finding also takes any before it).
    The parts partition the share, so applied together they are exactly what ``--fix``
    writes; and a file that grants one permission N times costs N edits, not N x N (each
    finding used to carry the whole share)."""
    by_key: dict[str, list[Finding]] = defaultdict(list)
    for f in fixed:
        by_key[f.key].append(f)
    out: list[tuple[Finding, tuple[ByteEdit, ...]]] = []
    for key, findings in by_key.items():
        lines = sorted({f.line for f in findings})
        parts: list[list[ByteEdit]] = [[] for _ in lines]
        line, counted = 1, 0
        for s in sorted(shares[key], key=lambda splice: splice.start):
            line += data.count(b"\n", counted, s.start)  # a running count: one pass per key
            counted = s.start
            index = max(bisect.bisect_right(lines, line) - 1, 0)
            parts[index].append(ByteEdit(path, s.start, s.end - s.start, s.replacement))
        edits = {at: tuple(part) for at, part in zip(lines, parts, strict=True)}
        out.extend((f, edits[f.line]) for f in findings)
    return out


def _disable(
    root: Path, findings: list[Finding], errors: list[str]
) -> tuple[list[Unit], list[tuple[Finding, tuple[ByteEdit, ...]]]]:
    """One unit per file, with the findings it fixes, and each fixed finding's own edits."""
    from sflint.safeio import METADATA_LIMIT, Refused, read_bytes

    by_file: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_file[f.path].append(f)
    units: list[Unit] = []
    changes: list[tuple[Finding, tuple[ByteEdit, ...]]] = []
    for path, group in sorted(by_file.items()):
        file = root / path
        ctype = group[0].component_type
        if ctype is None:
            errors.append(f"{path}: not fixed: the finding is about a persona, not a component")
            continue
        try:
            before = read_bytes(file, root, METADATA_LIMIT)
        except Refused as exc:
            errors.append(f"{path}: not fixed: it {exc.reason}")
            continue
        try:
            done: Disabled = disable_permissions(
                before, [f.key for f in group], component_type=ctype
            )
        except FixError as exc:
            errors.append(f"{path}: not fixed: {exc}")
            continue
        shares = dict(done.shares)
        fixed = [f for f in group if f.key in shares]  # else nothing enabled to disable
        changes.extend(_own_edits(path, before, shares, fixed))
        if done.after != before:
            # A permission granted more than once is one finding; say that every element of
            # it is disabled (one file, written whole or not at all).
            many = [(p, n) for p, n in done.elements if n > 1]
            units.append(
                Unit(
                    edits=(FileEdit(file, before, done.after),),
                    fixed=tuple(fixed),
                    done=tuple(
                        f"{path}: disabled {p} in all {n:,} elements that granted it."
                        for p, n in many
                    ),
                    would=tuple(
                        f"{path}: would disable {p} in all {n:,} elements that grant it."
                        for p, n in many
                    ),
                )
            )
    return units, changes


# --------------------------------------------------------------------------------------------
# Option 2: a clone of the permission set without the permission


class _Earlier:
    """Permission sets by the casefolded name an earlier clone's base would have: the name
    itself, and the name without a ``_N`` suffix (private index, built once)."""

    def __init__(self, components: Components) -> None:
        self._by_key: dict[str, list[Component]] = defaultdict(list)
        for (ctype, name), c in components.items():
            if ctype is not ComponentType.PERMISSION_SET:
                continue
            self._by_key[name.casefold()].append(c)
            stem, _, number = name.rpartition("_")
            if stem and number.isdigit():
                self._by_key[stem.casefold()].append(c)

    def find(
        self, root: Path, component: Component, permissions: list[str], naming: CloneNaming
    ) -> Component | None:
        """A clone that an earlier ``--fix-strategy clone`` wrote (``<name><suffix>`` or
        ``..._N``) and that still lacks the permissions; the first by name. A set that could
        not be read (a dangling link, a broken file) lacks every permission only because it
        holds nothing: it is no clone, and pointing the config at it would hide the finding."""
        base = clone_base(component.name, naming.name_suffix)
        found = []
        for other in self._by_key.get(base.casefold(), ()):
            name = other.name
            suffix = name[len(base) :]
            if (
                other is not component
                and name.casefold().startswith(base.casefold())
                and (not suffix or (suffix[:1] == "_" and suffix[1:].isdigit()))
                and not any(other.enabled(p) for p in permissions)
                and _sound(root, other)
            ):
                found.append(other)
        return min(found, key=lambda c: c.name, default=None)


def _sound(root: Path, component: Component) -> bool:
    """Whether every file of ``component`` was read without a problem and is a regular file
    inside the project."""
    from sflint.safeio import Refused, check_regular

    if component.problems or not component.files:
        return False
    try:
        for rel in component.files:
            check_regular(root / rel, root)
    except Refused:
        return False
    return True


def _naming(findings: list[Finding]) -> CloneNaming:
    """The clone naming of the first finding's clone option (the rule's choice)."""
    for f in findings:
        for o in f.fixes:
            if o.action == ACTIONS["clone"] and o.clone is not None:
                return o.clone
    raise FixError("the rule's clone option names no clone suffix")


def _link_reason(path: Path, root: Path) -> str:
    from sflint.safeio import Refused, resolve_inside

    try:
        resolve_inside(path, root)
    except Refused as exc:
        return exc.reason
    return "is a symbolic link"


def _folder_files(root: Path, folder: Path) -> dict[str, bytes]:
    """Every file of a decomposed set's folder, by its path in the folder, each read under
    the file-access policy. A symbolic link (to a file or a folder), a FIFO, a device or an
    unreadable subfolder raises _NotCloned: copying it would copy what it points at, or block,
    and leaving it out would make the clone differ from the set without saying so."""
    from sflint.safeio import METADATA_LIMIT, Refused, read_bytes

    def refuse(path: Path, reason: str) -> _NotCloned:
        return _NotCloned(f"{_rel(path, root)} {reason}")

    def fail(exc: OSError) -> None:
        raise exc

    if folder.is_symlink():
        raise refuse(folder, _link_reason(folder, root))
    files: dict[str, bytes] = {}
    try:
        for dirpath, dirnames, filenames in os.walk(folder, onerror=fail):
            here = Path(dirpath)
            dirnames.sort()
            for name in (*dirnames, *sorted(filenames)):
                if (here / name).is_symlink():
                    raise refuse(here / name, _link_reason(here / name, root))
            for name in sorted(filenames):
                try:
                    data = read_bytes(here / name, root, METADATA_LIMIT)
                except Refused as exc:
                    raise refuse(here / name, exc.reason) from None
                files[(here / name).relative_to(folder).as_posix()] = data
    except OSError as exc:
        where = Path(exc.filename) if isinstance(exc.filename, str) else folder
        raise refuse(where, f"cannot be read: {exc.strerror}") from None
    return files


def _decomposed(component: Component) -> bool:
    return any(p.endswith(".userPermission-meta.xml") for p in component.files)


def _clone_target(root: Path, component: Component, new_name: str) -> Path:
    """What a clone named ``new_name`` creates at the top: its file, or a decomposed set's
    folder (every file of which lies inside it)."""
    main = root / _main(component)
    return main.parent.with_name(new_name) if _decomposed(component) else clone_path(main, new_name)


def _free_name(
    root: Path, component: Component, names: CloneNames, suffix: str
) -> tuple[str, list[str]]:
    """The clone's name: the first of ``<name><suffix>``, ``..._2``, ``..._3``... that no
    component has and that nothing on disk holds (a folder, a file that ``.forceignore``
    skips, a link), and the project-relative paths of those passed over for the latter.

    A clone sflint made before is a component of the project and is reused (``_Earlier``),
    so a second run never gets here for it; whatever else holds a name is left alone rather
    than written over or merged into, and taking the next name is deterministic: the same
    project gives the same name."""
    passed: list[str] = []
    while True:
        name = names.take(component.name, suffix)
        target = _clone_target(root, component, name)
        if not os.path.lexists(target):
            return name, passed
        passed.append(_rel(target, root))


def _clone_files(
    root: Path, component: Component, permissions: list[str], new_name: str, label: str
) -> tuple[tuple[FileEdit, ...], Path | None]:
    """The files of a clone of ``component`` named ``new_name``, without ``permissions``, and
    the folder it creates (a decomposed set's)."""
    main = _main(component)
    if not _decomposed(component):
        data = _read(root, main)
        edit = plan_clone(root / main, data, permissions, new_name=new_name, new_label=label)
        return (edit,), None
    folder = (root / main).parent
    target = folder.with_name(new_name)
    files = _folder_files(root, folder)
    edits = plan_clone_decomposed(
        target, files, permissions, old_name=component.name, new_name=new_name, new_label=label
    )
    return edits, target


def _group_by_component(
    findings: list[Finding], components: Components, errors: list[str]
) -> dict[tuple[ComponentType, str], list[Finding]]:
    by_component: dict[tuple[ComponentType, str], list[Finding]] = defaultdict(list)
    said: set[str] = set()
    for f in findings:
        if f.component_type is None:
            why = "the finding is about a persona, not a component"
        elif (f.component_type, f.component_name) not in components:
            why = f"no {f.type_name} {f.component_name} in the project"
        else:
            by_component[(f.component_type, f.component_name)].append(f)
            continue
        line = f"{f.path}: not cloned: {why}"
        if line not in said:
            said.add(line)
            errors.append(line)
    return by_component


def _clone(
    root: Path, findings: list[Finding], components: Components, errors: list[str]
) -> list[_Clone]:
    # One pass per cloned component: naming, reuse of an earlier clone, the files, the note.
    clones: list[_Clone] = []
    names = CloneNames(n for (t, n) in components if t is ComponentType.PERMISSION_SET)
    earlier_clones = _Earlier(components)
    for key, group in sorted(_group_by_component(findings, components, errors).items()):
        component = components[key]
        permissions = list(dict.fromkeys(f.key for f in group))
        without = ", ".join(permissions)
        try:
            naming = _naming(group)
        except FixError as exc:
            errors.append(f"{_main(component)}: not cloned: {exc}")
            continue
        earlier = earlier_clones.find(root, component, permissions, naming)
        if earlier is not None:
            # A second run must change nothing: point at the clone made before.
            note = (
                f"{earlier.name} already is a copy of {component.name} without {without}: "
                f"give it to the integration user in place of {component.name}."
            )
            clones.append(_Clone(component, earlier.name, tuple(group), (), None, note, note))
            continue
        try:
            new_name, passed = _free_name(root, component, names, naming.name_suffix)
        except FixError as exc:  # not a permission set file name (clone_path)
            errors.append(f"{_main(component)}: not cloned: {exc}")
            continue
        label = clone_label(component.label or component.name, naming.label_suffix)
        try:
            edits, folder = _clone_files(root, component, permissions, new_name, label)
        except (_NotCloned, FixError) as exc:
            errors.append(f"{_main(component)}: not cloned: {exc}")
            continue
        personas = ", ".join(sorted({f.persona for f in group if f.persona}))
        personas = f" ({personas})" if personas else ""
        copy = f"permission set {new_name} (label {label!r}), a copy of {component.name}"
        # Why the clone is not named as usual, when something on disk holds that name.
        held = (
            f" (the name is taken: {', '.join(passed)} already"
            f" {'exists' if len(passed) == 1 else 'exist'})"
            if passed
            else ""
        )
        done = (
            f"Created {copy} without {without}{held}. Next: in the org, give the integration"
            f" user{personas} {new_name} wherever it now gets {component.name} (its "
            "assignments, or the permission set group that includes it), and deploy."
        )
        would = f"Would create {copy} without {without}{held} (--fix writes it)."
        clones.append(_Clone(component, new_name, tuple(group), edits, folder, done, would))
    return clones


class _Places:
    """Where the project names a permission set: group members by (group file, name), and
    persona references by name (private index, built once, so that each clone looks up its
    own names instead of walking every group member and persona)."""

    def __init__(self, config: Config | None, components: Components) -> None:
        self.members: dict[tuple[str, str], list[_Rename]] = defaultdict(list)
        for c in components.values():
            if c.type is ComponentType.PERMISSION_SET_GROUP:
                files = set(c.files)
                who = f"permission set group {c.name}"
                for m in c.members:
                    if m.location.path in files:
                        key = (m.location.path, m.name)
                        self.members[key].append(
                            _Rename(m.location.path, m.location.line, m.name, "", who)
                        )
        self.refs: dict[str, list[tuple[int, _Rename]]] = defaultdict(list)
        order = 0
        for persona in config.personas if config is not None else ():
            for ref in persona.references:
                if ref.type is ComponentType.PERMISSION_SET:
                    where = ref.location
                    rename = _Rename(
                        where.path, where.line, ref.name, "", f"persona {persona.name!r}"
                    )
                    self.refs[ref.name].append((order, rename))
                    order += 1

    def renames(self, clone: _Clone) -> list[_Rename]:
        """The persona entries in ``.sflint.yml`` and the groups that pull the set in."""
        old = clone.component
        out: list[_Rename] = []
        for f in clone.findings:
            for path in f.related_paths:
                out.extend(self.members.get((path, old.name), ()))
        names = dict.fromkeys((old.name, old.label))
        refs = sorted(r for n in names if n is not None for r in self.refs.get(n, ()))
        out.extend(rename for _, rename in refs)
        return [_Rename(r.path, r.line, r.old, clone.new_name, r.who) for r in dict.fromkeys(out)]


class _Texts:
    """The files that renames edit, each read once, with where each line starts (private)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, tuple[bytes, list[int]]] = {}
        self.claimed: set[tuple[str, int]] = set()  # (path, offset) already replaced

    def get(self, path: str) -> tuple[bytes, list[int]]:
        if path not in self._files:
            data = _read(self.root, path)
            starts = [0]
            for line in data.splitlines(keepends=True):
                starts.append(starts[-1] + len(line))
            self._files[path] = (data, starts)
        return self._files[path]


def _patches(
    texts: _Texts, renames: list[_Rename]
) -> tuple[tuple[Patch, ...], list[str], list[str]]:
    """Replace a name on its line, only where it stands alone exactly once on that line and
    no other clone replaced it already; the patches and the notes (written, and --diff)."""
    patches: list[Patch] = []
    done: list[str] = []
    would: list[str] = []
    by_path: dict[str, list[_Rename]] = defaultdict(list)
    for r in renames:
        by_path[r.path].append(r)
    for path, group in sorted(by_path.items()):
        data, starts = texts.get(path)
        replacements: list[tuple[int, int, bytes]] = []
        for r in group:
            pattern = re.compile(rb"(?<![\w-])" + re.escape(r.old.encode()) + rb"(?![\w-])")
            ok = 0 < r.line < len(starts)
            line = data[starts[r.line - 1] : starts[r.line]] if ok else b""
            found = pattern.findall(line)
            match = pattern.search(line) if len(found) == 1 else None
            offset = starts[r.line - 1] + match.start() if match else -1
            if match is None or (path, offset) in texts.claimed:
                hand = f"{path}:{r.line}: replace {r.old} with {r.new} by hand ({r.who})."
                done.append(hand)
                would.append(hand)
                continue
            texts.claimed.add((path, offset))
            replacements.append((offset, len(match.group()), r.new.encode()))
            done.append(f"{path}:{r.line}: {r.who} now names {r.new} instead of {r.old}.")
            would.append(f"{path}:{r.line}: {r.who} would name {r.new} instead of {r.old}.")
        if replacements:
            patches.append(Patch(texts.root / path, data, tuple(replacements)))
    return tuple(patches), done, would


def _units(root: Path, clones: list[_Clone], places: _Places, errors: list[str]) -> list[Unit]:
    """Each clone with the edits that point the project at it, as one unit."""
    texts = _Texts(root)
    units: list[Unit] = []
    for clone in clones:
        try:
            patches, done, would = _patches(texts, places.renames(clone))
        except _NotCloned as exc:
            errors.append(f"{_main(clone.component)}: not cloned: {exc}")
            continue
        units.append(
            Unit(
                edits=clone.edits,
                patches=patches,
                fixed=clone.findings if clone.edits else (),
                done=(clone.done, *done),
                would=(clone.would, *would),
                subject=_main(clone.component),
                folder=clone.folder,
            )
        )
    return units


# --------------------------------------------------------------------------------------------
# Entry points


_PROFILE_WHY = (
    "A user has exactly one profile and a permission set cannot take a permission away,"
    " so cloning a set does not help; run --fix-strategy edit to set it false in the"
    " profile, or clone the profile in Setup and give it to the integration user."
)


def plan(
    findings: tuple[Finding, ...],
    components: tuple[Component, ...] | Iterable[Component],
    root: Path,
    strategy: str,
    config: Config | None = None,
) -> Plan:
    """What ``--fix`` with ``strategy`` (``edit``, ``clone`` or ``mute``) does for
    ``findings`` in the project at ``root``. A file that cannot be fixed is an error of the
    plan; the other files are still fixed."""
    errors: list[str] = []
    by_key = {c.key_t: c for c in components}
    action = ACTIONS[strategy]
    todo = [f for f in findings if _fixable(f, action)]
    # What the rule would have fixed but no one can edit (a Salesforce standard profile).
    refused = tuple(
        f"{f.path}:{f.line}: not fixed: {o.refusal}"
        for f in findings
        for o in f.fixes
        if o.refusal is not None
    )
    if strategy == "mute":
        # Every finding --fix could fix another way is named when it cannot be muted.
        muted = plan_mute(
            [f for f in findings if _fixable(f, action) or _fixable(f, ACTIONS["edit"])],
            by_key,
            root,
        )
        return Plan(muted.units, refused + muted.general, muted.errors)
    if strategy != "clone":
        units, changes = _disable(root, todo, errors)
        return Plan(tuple(units), refused, tuple(errors), tuple(changes))
    general = refused + tuple(
        f"{f.path}:{f.line}: not cloned: {f.key} is granted by profile "
        f"{f.component_name}. {_PROFILE_WHY}"
        for f in findings
        if f.component_type is ComponentType.PROFILE and _fixable(f, ACTIONS["edit"])
    )
    clones = _clone(root, todo, by_key, errors)
    units = _units(root, clones, _Places(config, by_key), errors)
    return Plan(tuple(units), general, tuple(errors))


def proposed_fixes(
    findings: tuple[Finding, ...], components: tuple[Component, ...], root: Path
) -> dict[tuple[str, int, str], tuple[ProposedFix, ...]]:
    """Option 1 of each fixable finding as byte edits, for outputs that carry machine fixes
    (SARIF ``fixes``), from the plan ``--fix`` would carry out. A fix that deletes a whole
    file (a decomposed beta grant file) has no replacement form in SARIF and is left out.
    Keyed by (path, line, fingerprint): two findings of one fingerprint in one file (a
    permission granted twice with another suppression comment) each have their own
    element's edit. A finding that stands for more than MAX_PROPOSED_ELEMENTS elements has
    none (SARIF says so), and its file is not read for it."""
    out: dict[tuple[str, int, str], tuple[ProposedFix, ...]] = {}
    findings = tuple(f for f in findings if f.occurrences <= MAX_PROPOSED_ELEMENTS)
    for f, edits in plan(findings, components, root, "edit").changes:
        option = next(o for o in f.fixes if o.action == ACTIONS["edit"])
        if edits:
            out[(f.path, f.line, f.fingerprint)] = (ProposedFix(option.title, edits),)
    return out
