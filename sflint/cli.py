"""Command line: a thin click shell that builds Options and calls ``sflint.app``.

Only click is imported at start-up; lxml, YAML, jsonschema and sarif-om load when a command
needs them, so ``sflint --help`` and ``--version`` stay instant (a pre-commit hook runs on
every commit).
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from sflint import __version__
from sflint.choices import FailOn, FixStrategy, Format
from sflint.errors import INTERNAL, USAGE, UsageError, show_error
from sflint.sanitize import inert
from sflint.streams import tolerant_streams

if TYPE_CHECKING:
    from pathlib import Path

    from sflint.settings import LoadOptions

F = TypeVar("F", bound=Callable[..., Any])

# Options of the group itself, which may come before the (implied) command.
_GROUP_FLAGS = ("--debug",)


class _DefaultGroup(click.Group):
    """``sflint [PATHS]`` means ``sflint check [PATHS]``, as ``ruff`` users expect."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        lead = 0
        while lead < len(args) and args[lead] in _GROUP_FLAGS:
            lead += 1
        rest = args[lead:]
        if not rest or (
            rest[0] not in self.commands and rest[0] not in ("--help", "-h", "--version")
        ):
            rest = ["check", *rest]
        return super().parse_args(ctx, [*args[:lead], *rest])


class _Run:
    """One ``main()`` call's state, handed to click as ``obj``. Mutable because ``--debug``
    is seen while click parses, and the exception it governs is caught after click returns.
    A plain class: ``dataclasses`` would cost ``sflint --help`` its import (and ``inspect``)."""

    def __init__(self, debug: bool = False) -> None:
        self.debug = debug


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(_Run).debug = True


def _debug_option(f: F) -> F:
    # Eager, so that it counts even when another option's conversion is what fails; on the
    # group and on every command, since users add it at the end of the line they re-run.
    return click.option(
        "--debug",
        is_flag=True,
        is_eager=True,
        expose_value=False,
        callback=_set_debug,
        help="On an internal error, print the traceback (also: SFLINT_DEBUG=1).",
    )(f)


def _use_color(flag: bool | None) -> bool:
    # https://no-color.org: any non-empty NO_COLOR disables colour; otherwise only on a TTY.
    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


class _PathArg(click.Path["Path"]):
    """``click.Path(path_type=pathlib.Path)``, except that pathlib (and the urllib.parse it
    imports) loads only when a path is converted: ``sflint --help`` and ``--version``, which
    every commit's hook may run, never convert one."""

    def coerce_path_result(self, value: str | os.PathLike[str]) -> Path:
        from pathlib import Path

        return Path(value)


class _EnumChoice(click.Choice):  # type: ignore[type-arg]
    """A choice of names that converts to the enum member named (``--format json`` is
    ``Format.JSON``): the commands receive values, never strings to compare."""

    def __init__(self, members: Iterable[tuple[str, enum.Enum]]) -> None:
        self._members = dict(members)
        super().__init__(list(self._members))

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, enum.Enum):
            return value
        return self._members[super().convert(value, param, ctx)]


# Options that several commands share: check, access and init load a project the same way.
_RULE_DIRS = click.option(
    "--rules",
    "rule_dirs",
    multiple=True,
    type=_PathArg(file_okay=False),
    help="Add a folder of YAML rules.",
)
_PROJECT_PATH = click.option(
    "--path",
    "root",
    type=_PathArg(),
    default=".",
    help="The project, or a file or folder inside it (default: the current folder).",
)
_CONFIG = click.option(
    "--config",
    type=_PathArg(dir_okay=False),
    help="Config file (default: .sflint.yml at the project root).",
)
_NO_FORCEIGNORE = click.option(
    "--no-forceignore", is_flag=True, help="Also read files that .forceignore excludes."
)
_NO_CACHE = click.option("--no-cache", is_flag=True, help="Do not read or write sflint's cache.")


def _loading(command: Callable[..., Any]) -> Callable[..., Any]:
    """--path, --config, --rules, --no-forceignore and --no-cache, in that order: how
    ``access`` and ``diff`` load a project (their help lists them so)."""
    for option in (_NO_CACHE, _NO_FORCEIGNORE, _RULE_DIRS, _CONFIG, _PROJECT_PATH):
        command = option(command)
    return command


_MIN_CONFIDENCE = click.option(
    "--min-confidence",
    # Literal values: the model module stays unimported until the command runs.
    type=click.Choice(["low", "medium", "high"]),
    help="Only personas detected with at least this confidence (default: medium; declared"
    " personas are high).",
)


def _load_options(paths: tuple[Path, ...], kw: dict[str, Any]) -> LoadOptions:
    """The options every command loads a project with (those it does not take stay unset)."""
    from sflint.settings import LoadOptions

    def split(values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip() for item in values for v in item.split(",") if v.strip())

    return LoadOptions(
        paths=paths,
        config=kw.get("config"),
        rule_dirs=tuple(kw.get("rule_dirs", ())),
        select=split(kw.get("select", ())),
        ignore=split(kw.get("ignore", ())),
        fail_on=kw.get("fail_on"),
        min_confidence=_confidence(kw.get("min_confidence")),
        use_forceignore=not kw["no_forceignore"],
        cache_dir=None if kw["no_cache"] else cache_dir(),
    )


def _confidence(value: str | None) -> Any:
    """``--min-confidence`` as the enum member (the model module loads only when given)."""
    if value is None:
        return None
    from sflint.model import Confidence

    return Confidence(value)


def cache_dir() -> Path:
    """``$SFLINT_CACHE_DIR``, else ``$XDG_CACHE_HOME/sflint``, else ``~/.cache/sflint``."""
    from pathlib import Path

    if os.environ.get("SFLINT_CACHE_DIR"):
        return Path(os.environ["SFLINT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sflint"


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="sflint", message="%(prog)s %(version)s")
@_debug_option
def cli() -> None:
    """Lint Salesforce permission metadata: integration users' API-login MFA and more."""


@cli.command()
@_debug_option
@click.argument("paths", nargs=-1, type=_PathArg())
@click.option(
    "--format",
    "fmt",
    type=_EnumChoice((f.spec.name, f) for f in Format),
    default=Format.CONSOLE.spec.name,
    show_default=True,
    help="Output format.",
)
@click.option(
    "-o",
    "--output",
    type=_PathArg(dir_okay=False),
    help="Write the report to FILE instead of standard output.",
)
@click.option(
    "--sarif-file",
    type=_PathArg(dir_okay=False),
    help="Also write SARIF to FILE (for GitHub code scanning).",
)
@click.option(
    "--sarif-category",
    help="SARIF runAutomationDetails id (leave unset with upload-sarif's category).",
)
@click.option(
    "--select", multiple=True, help="Only these rules (id or name); repeatable or comma-separated."
)
@click.option(
    "--ignore", multiple=True, help="Skip these rules (id or name); repeatable or comma-separated."
)
@_RULE_DIRS
@_CONFIG
@click.option(
    "--fail-on",
    type=_EnumChoice((f.value, f) for f in FailOn),
    help="Exit 1 when a finding is at or above this severity (default: error).",
)
@_MIN_CONFIDENCE
@click.option("--show-fixes", is_flag=True, help="Show each finding's fix options and steps.")
@_NO_FORCEIGNORE
@click.option(
    "--color/--no-color",
    default=None,
    help="Force colour on or off (default: on a TTY, unless NO_COLOR).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing when there are no findings.")
@click.option("--fix", is_flag=True, help="Apply machine fixes to the files.")
@click.option("--diff", is_flag=True, help="Show the fixes as a unified diff; write nothing.")
@click.option(
    "--fix-strategy",
    type=_EnumChoice((s.value, s) for s in FixStrategy),
    default=FixStrategy.EDIT.value,
    show_default=True,
    help="edit: uncheck in the existing set; clone: write a new set without the permission;"
    " mute: mute it in the muting permission set of the group it comes through.",
)
@click.option(
    "--path-base",
    type=_PathArg(file_okay=False, exists=True),
    help="Show paths relative to DIR (default: the git top level, else the project).",
)
@click.option(
    "--allow-empty",
    is_flag=True,
    help="Exit 0 on a project without permission metadata (default: exit 2).",
)
@click.option(
    "--new-since",
    metavar="REV",
    help="Report only findings that git revision REV does not have (by fingerprint).",
)
@click.option(
    "--baseline",
    type=_PathArg(dir_okay=False),
    help="Baseline file (default: .sflint-baseline.json at the project root, if present).",
)
@click.option(
    "--no-ignores",
    is_flag=True,
    help="Report every finding: ignore comments, exceptions and the baseline.",
)
@click.option(
    "--sarif-suppressed",
    type=click.Choice(["include", "omit"]),
    default="include",
    show_default=True,
    help="SARIF: suppressed findings as results with suppressions, or left out.",
)
@_NO_CACHE
def check(paths: tuple[Path, ...], fmt: Format, **kw: Any) -> None:
    """Lint the project containing PATHS (default: the current folder)."""
    from sflint.batch import run
    from sflint.settings import Options

    options = Options(
        load=_load_options(paths, kw),
        format=fmt,
        output=kw["output"],
        sarif_file=kw["sarif_file"],
        sarif_category=kw["sarif_category"],
        show_fixes=kw["show_fixes"],
        color=_use_color(kw["color"]) and kw["output"] is None,
        quiet=kw["quiet"],
        fix=kw["fix"],
        diff=kw["diff"],
        fix_strategy=kw["fix_strategy"],
        path_base=kw["path_base"],
        allow_empty=kw["allow_empty"],
        new_since=kw["new_since"],
        baseline=kw["baseline"],
        ignores=not kw["no_ignores"],
        sarif_suppressed=kw["sarif_suppressed"] == "include",
    )
    raise SystemExit(run(options))


@cli.command("baseline")
@_debug_option
@click.argument("paths", nargs=-1, type=_PathArg())
@click.option(
    "-o",
    "--output",
    type=_PathArg(dir_okay=False),
    help="The file to write (default: .sflint-baseline.json at the project root).",
)
@_RULE_DIRS
@_CONFIG
@_NO_FORCEIGNORE
@_NO_CACHE
def baseline_cmd(paths: tuple[Path, ...], output: Path | None, **kw: Any) -> None:
    """Write the findings of today to the baseline file: check then reports only others."""
    from sflint.commands_baseline import write_baselines

    raise SystemExit(write_baselines(_load_options(paths, kw), output))


@cli.command("rules")
@_debug_option
@_RULE_DIRS
@click.option(
    "--format",
    "fmt",
    # Literal values: the enum's module stays unimported until the command runs.
    type=click.Choice(["table", "markdown"]),
    default="table",
    show_default=True,
    help="table: one line per rule; markdown: the rule reference (docs/rules.md).",
)
@click.option(
    "--check-examples",
    is_flag=True,
    help="Run every rule's examples and report those that do not hold (exit 1).",
)
def rules_cmd(rule_dirs: tuple[Path, ...], fmt: str, check_examples: bool) -> None:
    """List the rules, print their reference, or test their examples."""
    from sflint import commands_rules as cr

    if check_examples:
        raise SystemExit(cr.check_examples(rule_dirs))
    raise SystemExit(cr.list_rules(rule_dirs, cr.RulesFormat(fmt)))


@cli.command()
@_debug_option
@click.argument("rule")
@_RULE_DIRS
def explain(rule: str, rule_dirs: tuple[Path, ...]) -> None:
    """Explain RULE (id or name): why, how to fix, the fix options, the examples."""
    from sflint.commands_rules import explain_rule

    raise SystemExit(explain_rule(rule, rule_dirs))


@cli.command()
@_debug_option
@click.argument("persona", required=False)
@_loading
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["console", "json"]),
    default="console",
    show_default=True,
    help="console: a tree; json: the sflint/access/v1 contract (docs/json.md).",
)
@_MIN_CONFIDENCE
def access(persona: str | None, root: Path, fmt: str, **kw: Any) -> None:
    """Show each persona's effective permissions and object access, and where each comes
    from."""
    from sflint.commands_access import show_access

    raise SystemExit(show_access(_load_options((root,), kw), persona, json=fmt == "json"))


@cli.command("diff")
@_debug_option
@click.argument("base")
@click.argument("head", required=False)
@_loading
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["console", "json", "markdown"]),
    default="console",
    show_default=True,
    help="console; json: the sflint/diff/v1 contract; markdown: a PR comment or job summary.",
)
@click.option(
    "--fail-on",
    type=_EnumChoice((f.value, f) for f in FailOn),
    help="Exit 1 when the change introduces a finding at or above this severity"
    " (default: the head's fail_on, else error).",
)
@click.option(
    "-o",
    "--output",
    type=_PathArg(dir_okay=False),
    help="Write the report to FILE instead of standard output.",
)
def diff_cmd(base: str, head: str | None, root: Path, fmt: str, **kw: Any) -> None:
    """Show what a change does to each persona's access: BASE and HEAD are git revisions
    (HEAD: the working tree) or two folders."""
    from sflint.commands_diff import DiffFormat, run_diff

    options = _load_options((root,), kw)
    raise SystemExit(run_diff(base, head, options, DiffFormat(fmt), output=kw["output"]))


@cli.command("init")
@_debug_option
@_PROJECT_PATH
@click.option(
    "--config",
    type=_PathArg(dir_okay=False),
    help="The file to write (default: .sflint.yml at the project root).",
)
@_NO_FORCEIGNORE
@_NO_CACHE
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
def init_cmd(root: Path, force: bool, **kw: Any) -> None:
    """Write a starter .sflint.yml listing the integration users sflint detects."""
    from sflint.commands_init import init

    raise SystemExit(init(_load_options((root,), kw), force))


@cli.group("cache")
def cache_group() -> None:
    """sflint's cache of validated config and rule files and of read metadata files."""


@cache_group.command("clear")
@_debug_option
def cache_clear() -> None:
    """Remove every entry sflint wrote to its cache folder (and nothing else there)."""
    from sflint.metadata.cache import clear

    folder = cache_dir()
    removed = clear(folder)
    click.echo(
        f"removed {removed} cache file{'s' if removed != 1 else ''} from {inert(str(folder))}"
    )


def _env_debug() -> bool:
    return os.environ.get("SFLINT_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def main(argv: list[str] | None = None) -> int:
    """Run sflint; the exit code: 0 clean, 1 findings, 2 usage error, 3 internal error,
    130 interrupted. Never a traceback unless ``--debug`` asks for it."""
    run = _Run(debug=_env_debug())
    with tolerant_streams():
        return _main(argv, run)


def _main(argv: list[str] | None, run: _Run) -> int:
    try:
        cli.main(args=argv, prog_name="sflint", standalone_mode=False, obj=run)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    except click.ClickException as exc:
        # click quotes the argument it rejects (`No such option: NAME`, unescaped), and the
        # arguments of a hook run are file names. ``message`` is typed Final in click's stubs
        # but is a plain attribute that ``show`` formats; setattr replaces it.
        setattr(exc, "message", inert(exc.message))  # noqa: B010
        exc.show()
        return USAGE
    except (click.exceptions.Abort, KeyboardInterrupt):
        return 130
    except UsageError as exc:  # a command that forgot to catch one: still the user's mistake
        return show_error(exc, sys.stderr)
    except Exception as exc:  # the last line of defence, by design: see _internal_error
        _internal_error(exc, run.debug)
        return INTERNAL
    return 0


def _internal_error(exc: BaseException, debug: bool) -> None:
    """A bug (or an OSError, MemoryError, RecursionError nobody caught): one line that says
    so, or with ``--debug`` the traceback, never a bare traceback read as "findings"."""
    first = next(iter(str(exc).splitlines()), "")
    short = inert(first if len(first) <= 200 else first[:199] + "…")
    what = f"{type(exc).__name__}: {short}" if short else type(exc).__name__
    if debug:
        import traceback  # lazy: only --debug prints one

        lines = "".join(traceback.format_exception(exc)).splitlines()
        text = "".join(f"{inert(line)}\n" for line in lines) + f"sflint: internal error: {what}\n"
    else:
        text = f"sflint: internal error: {what}; run again with --debug for the traceback\n"
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr closed or gone: the exit code still says it
        pass
