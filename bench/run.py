"""sflint benchmark: start-up, and cold, warm, after-one-edit and one-file runs on a synthetic
enterprise project and on ../shared/corpus, as ratios to baselines measured in the same run.

    python bench/run.py [--runs 5] [--profiles 40] [--sets 1500] [--corpus ../shared/corpus]

Every timing is the median wall time of ``--runs`` runs of a whole process (after one
warm-up run), because that is what a pre-commit hook and a CI step pay; peak memory is the
largest resident set of any process of a run (``os.wait4``: the process and the workers it
waited for), the largest over the runs. Baselines:

* ``python -c "import lxml.etree, yaml, click"``: the libraries sflint needs to check
  anything (the "import baseline"), and ``python -c pass``;
* ``xmllint --noout --nonet`` over the same permission metadata files, in one process
  (``apt-get install libxml2-utils``; without it, an lxml parse loop, and the output says so).

Modes, each in a copy of the project with its own cache folder:

* cold: ``--no-cache``, everything read and parsed (and the same with an empty cache, which
  also writes the entries);
* warm: nothing changed since the last run;
* after one edit: one permission set changed before each run;
* one file: ``sflint check <one permission set>`` from the project root, as pre-commit calls
  it, with a warm cache; the rest of the project is still loaded for context.

The findings are checked to be identical across cold, warm, parallel (``SFLINT_WORKERS=2``),
serial (``SFLINT_WORKERS=1``) and one-file runs (a one-file run reports exactly the findings
of the full run that are in that file or pass through it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sflint.project import PROJECT_FILE, classify  # noqa: E402

EXAMPLE = ROOT / "testdata" / "projects" / "commission-app"
HOOK_FILE = (
    "force-app/main/default/permissionsetgroups/Integration_Base.permissionsetgroup-meta.xml"
)
PYTHON = sys.executable
IMPORTS = [PYTHON, "-c", "import lxml.etree, yaml, click"]

LXML_LOOP = """
import sys
from lxml import etree
parser = etree.XMLParser(resolve_entities=False, no_network=True)
for name in sys.argv[1:]:
    etree.parse(name, parser)
"""

# The targets (issue 12), as ratios.
TARGETS = {
    "cold": ("xmllint", 0.5),
    "warm": ("xmllint", 0.1),
    "after one edit": ("xmllint", 0.2),
    "one file (warm)": ("imports", 5.0),
}
PEAK_TARGET_MB = 150


def find_sflint() -> list[str]:
    beside = Path(PYTHON).parent / ("sflint.exe" if os.name == "nt" else "sflint")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("sflint")
    return [found] if found else [PYTHON, "-m", "sflint"]


def compile_sflint() -> str:
    """Byte-compile sflint's modules, as ``pip install`` does for an installed package. An
    editable install has no ``.pyc`` files, and with ``PYTHONDONTWRITEBYTECODE`` set (as in
    many containers) Python never writes them: every run would then compile each module it
    imports from source (about 40 ms of a one-file run), which no installed copy pays."""
    import compileall

    import sflint

    package = Path(sflint.__file__).parent
    compileall.compile_dir(str(package), quiet=1)
    flag = os.environ.get("PYTHONDONTWRITEBYTECODE", "")
    return f"byte-compiled {package} (PYTHONDONTWRITEBYTECODE={flag!r})"


def xml_reference() -> tuple[str, list[str]]:
    xmllint = shutil.which("xmllint")
    if xmllint:
        return "xmllint --noout", [xmllint, "--noout", "--nonet"]
    return "lxml parse loop (xmllint not installed)", [PYTHON, "-c", LXML_LOOP]


# --- running ----------------------------------------------------------------------------------


@dataclass
class Timing:
    seconds: float  # wall
    cpu: float  # user + system of the process and every child it waited for
    peak_mb: float


def run_once(
    cmd: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MB) of the process and every child it
    waited for (its worker processes)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        sys.exit(f"bench: {' '.join(cmd)} exited {proc.returncode}:\n{err.decode()[-2000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # KB on Linux


def median(
    cmd: Sequence[str],
    runs: int,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    before: object = None,
) -> Timing:
    """Median of ``runs`` timed runs after one warm-up; ``before()`` runs before each."""
    times, cpus, peaks = [], [], []
    for i in range(runs + 1):
        if callable(before):
            before()
        seconds, cpu, peak = run_once(cmd, cwd, env)
        if i:
            times.append(seconds)
            cpus.append(cpu)
            peaks.append(peak)
    return Timing(statistics.median(times), statistics.median(cpus), max(peaks))


def report(
    sflint: list[str], targets: Sequence[str], cwd: Path | None, env: dict[str, str]
) -> list[dict[str, object]]:
    """The findings of one JSON run, sorted."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        cmd = [
            *sflint,
            "check",
            *targets,
            "--allow-empty",
            "--fail-on",
            "never",
            "--format",
            "json",
        ]
        cmd += ["-o", str(out)]
        subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
        found = json.loads(out.read_text(encoding="utf-8"))["findings"]
    return sorted(found, key=lambda f: json.dumps(f, sort_keys=True))


# --- the synthetic enterprise project -------------------------------------------------------


def catalogue_names() -> list[str]:
    tsv = ROOT / "sflint" / "data" / "user-permissions.tsv"
    lines = tsv.read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t", 1)[0] for line in lines if line.strip()]


HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="http://soap.sforce.com/2006/04/metadata">\n'


def _field_block(n: int, seed: int) -> str:
    return (
        "    <fieldPermissions>\n"
        f"        <editable>{'true' if (n + seed) % 2 else 'false'}</editable>\n"
        f"        <field>Object_{n // 200:03d}__c.Field_{n % 200:03d}_{seed}__c</field>\n"
        "        <readable>true</readable>\n"
        "    </fieldPermissions>\n"
    )


def _grant(name: str, enabled: bool) -> str:
    return (
        "    <userPermissions>\n"
        f"        <enabled>{'true' if enabled else 'false'}</enabled>\n"
        f"        <name>{name}</name>\n"
        "    </userPermissions>\n"
    )


def write_profile(path: Path, target_bytes: int, seed: int = 0) -> int:
    """A deterministic profile of about ``target_bytes``, as Salesforce orders one:
    fieldPermissions until the size is reached, then userLicense and every catalogue user
    permission (TwoFactorApi among them). Returns the number of permission elements."""
    names = catalogue_names()
    users = "".join(_grant(name, (i + seed) % 3 != 0) for i, name in enumerate(names))
    tail = "    <userLicense>Salesforce</userLicense>\n" + users + "</Profile>\n"
    head = HEAD.format(root="Profile") + "    <custom>true</custom>\n"
    fields: list[str] = []
    size, n = len(head) + len(tail), 0
    while size < target_bytes:
        fields.append(_field_block(n, seed))
        size += len(fields[-1])
        n += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + "".join(fields) + tail, encoding="utf-8")
    return n + len(names)


def write_set(path: Path, index: int, names: list[str], target_bytes: int) -> None:
    """A permission set of about ``target_bytes``: fieldPermissions, its label, 20 user
    permissions; every 100th enables TwoFactorApi."""
    head = HEAD.format(root="PermissionSet")
    grants = [names[(index * 7 + k * 13) % len(names)] for k in range(20)]
    if index % 100 == 0:
        grants[0] = "TwoFactorApi"
    tail = (
        f"    <label>Set {index}</label>\n"
        + "".join(_grant(g, True) for g in grants)
        + "</PermissionSet>\n"
    )
    fields: list[str] = []
    size, n = len(head) + len(tail), 0
    while size < target_bytes:
        fields.append(_field_block(n, index))
        size += len(fields[-1])
        n += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + "".join(fields) + tail, encoding="utf-8")


def enterprise_project(folder: Path, profiles: int, sets: int) -> Path:
    """``profiles`` profiles of 2.3 MB and ``sets`` permission sets of 67 KB (the shape of
    the largest real org in issue 12), 10 groups of 5 sets, and an integration persona."""
    (folder / PROJECT_FILE).parent.mkdir(parents=True, exist_ok=True)
    (folder / PROJECT_FILE).write_text(
        json.dumps({"packageDirectories": [{"path": "force-app", "default": True}]}),
        encoding="utf-8",
    )
    (folder / ".sflint.yml").write_text(
        "personas:\n  - name: Bulk integration\n    kind: integration\n    profile: Profile_000\n"
        "    permission_sets: [Set_0001, Set_0100]\n    permission_set_groups: [Group_00]\n",
        encoding="utf-8",
    )
    base = folder / "force-app" / "main" / "default"
    names = catalogue_names()
    for i in range(profiles):
        write_profile(base / "profiles" / f"Profile_{i:03d}.profile-meta.xml", 2_411_724, i)
    for i in range(sets):
        write_set(base / "permissionsets" / f"Set_{i:04d}.permissionset-meta.xml", i, names, 68_608)
    for g in range(10):
        members = "".join(
            f"    <permissionSets>Set_{g * 5 + k:04d}</permissionSets>\n" for k in range(5)
        )
        (base / "permissionsetgroups").mkdir(parents=True, exist_ok=True)
        (base / "permissionsetgroups" / f"Group_{g:02d}.permissionsetgroup-meta.xml").write_text(
            HEAD.format(root="PermissionSetGroup")
            + f"    <label>Group {g}</label>\n"
            + members
            + "</PermissionSetGroup>\n",
            encoding="utf-8",
        )
    return folder


def corpus_roots(corpus: Path) -> list[Path]:
    """Folders holding sfdx-project.json, plus top-level corpus folders without one."""
    roots = sorted(p.parent for p in corpus.rglob(PROJECT_FILE))
    roots += [d for d in sorted(corpus.iterdir()) if d.is_dir() and not any(d.rglob(PROJECT_FILE))]
    return [r for r in roots if not any(o != r and o in r.parents for o in roots)]


def metadata_files(roots: Sequence[Path]) -> list[Path]:
    return [
        f for r in roots for f in sorted(r.rglob("*")) if f.is_file() and classify(f) is not None
    ]


# --- one scenario ---------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    roots: list[Path]  # the projects, checked in one process
    one_file: tuple[Path, str]  # (project root, file relative to it): the hook's file
    edit: Path  # the file edited before each "after one edit" run
    rows: dict[str, Timing] = field(default_factory=dict)


def measure(
    scenario: Scenario, sflint: list[str], ref_cmd: list[str], runs: int, cache: Path
) -> dict[str, object]:
    files = metadata_files(scenario.roots)
    size = sum(f.stat().st_size for f in files)
    targets = [str(r) for r in scenario.roots]
    # --allow-empty: some corpus projects hold no permission metadata (exit 2 otherwise).
    check = [
        *sflint,
        "check",
        *targets,
        "--allow-empty",
        "--fail-on",
        "never",
        "--format",
        "json",
        "-o",
        os.devnull,
    ]
    env = {**os.environ, "SFLINT_CACHE_DIR": str(cache)}
    rows = scenario.rows
    rows["xmllint"] = median([*ref_cmd, *map(str, files)], runs)
    rows["imports"] = median(IMPORTS, runs)
    rows["cold"] = median([*check, "--no-cache"], runs, env=env)
    rows["cold, serial"] = median(
        [*check, "--no-cache"], max(1, runs // 2), env={**env, "SFLINT_WORKERS": "1"}
    )
    rows["cold, empty cache"] = median(
        check, runs, env=env, before=lambda: shutil.rmtree(cache, ignore_errors=True)
    )
    time.sleep(2.1)  # past the 2 s in which a record of a just-written file is not trusted
    run_once(check, env=env)
    rows["warm"] = median(check, runs, env=env)
    original = scenario.edit.read_bytes()
    state = {"n": 0}

    def edit() -> None:
        state["n"] += 1
        scenario.edit.write_bytes(
            original.replace(b"</label>", f" {state['n']}</label>".encode(), 1)
        )

    rows["after one edit"] = median(check, runs, env=env, before=edit)
    scenario.edit.write_bytes(original)
    root, rel = scenario.one_file
    run_once(check, env=env)
    time.sleep(2.1)
    run_once(check, env=env)
    rows["one file (warm)"] = median([*sflint, "check", rel], runs, cwd=root, env=env)

    # Findings: identical in every mode.
    cold = report(sflint, [*targets, "--no-cache"], None, env)
    modes = {
        "warm": report(sflint, targets, None, env),
        "parallel": report(sflint, [*targets, "--no-cache"], None, {**env, "SFLINT_WORKERS": "2"}),
        "serial": report(sflint, [*targets, "--no-cache"], None, {**env, "SFLINT_WORKERS": "1"}),
    }
    same = {m: found == cold for m, found in modes.items()}
    one = report(sflint, [rel], root, env)
    here = [f for f in cold if f["path"] == rel] if len(scenario.roots) == 1 else None
    same["one file"] = all(f in cold or len(scenario.roots) > 1 for f in one) and (
        here is None or all(f in one for f in here)
    )
    return {"files": len(files), "bytes": size, "findings": len(cold), "same": same}


def table(scenario: Scenario, info: dict[str, object], xml_name: str) -> str:
    rows = scenario.rows
    xml, imports = rows["xmllint"].seconds, rows["imports"].seconds
    mb = int(info["bytes"]) / 1e6  # type: ignore[call-overload]
    out = [
        f"\n## {scenario.name}: {info['files']} files, {mb:.0f} MB, {info['findings']} findings",
        "",
        f"| run | wall s | x {xml_name} | x import baseline | CPU s | CPU x {xml_name} "
        "| peak MB | target (wall) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, timing in rows.items():
        target = ""
        if name in TARGETS:
            base, limit = TARGETS[name]
            ratio = timing.seconds / (xml if base == "xmllint" else imports)
            against = "xmllint" if base == "xmllint" else "imports"
            target = f"<= {limit}x {against}: {'met' if ratio <= limit else 'MISSED'}"
        out.append(
            f"| {name} | {timing.seconds:.3f} | {timing.seconds / xml:.2f} | "
            f"{timing.seconds / imports:.2f} | {timing.cpu:.2f} | "
            f"{timing.cpu / rows['xmllint'].cpu:.2f} | "
            f"{timing.peak_mb:.0f} | {target} |"
        )
    same = info["same"]
    assert isinstance(same, dict)
    out.append("")
    out.append(
        "findings identical to cold: "
        + ", ".join(f"{m} {'yes' if ok else 'NO'}" for m, ok in same.items())
    )
    peak = max(t.peak_mb for n, t in rows.items() if n not in ("xmllint", "imports"))
    out.append(f"peak memory of any sflint process: {peak:.0f} MB (target <= {PEAK_TARGET_MB} MB)")
    return "\n".join(out)


def startup(sflint: list[str], runs: int) -> str:
    imports = median(IMPORTS, runs).seconds
    bare = median([PYTHON, "-c", "pass"], runs).seconds
    version = median([*sflint, "--version"], runs).seconds
    helps = median([*sflint, "--help"], runs).seconds
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "example"
        shutil.copytree(EXAMPLE, project)
        env = {**os.environ, "SFLINT_CACHE_DIR": str(Path(tmp) / "cache")}
        run_once([*sflint, "check", HOOK_FILE], project, env)
        time.sleep(2.1)
        hook = median([*sflint, "check", HOOK_FILE], runs, cwd=project, env=env).seconds
    return "\n".join(
        [
            "\n## start-up (ratios to the import baseline)",
            "",
            "| run | seconds | x import baseline |",
            "|---|---:|---:|",
            f'| python -c "pass" | {bare:.3f} | {bare / imports:.2f} |',
            f'| python -c "import lxml.etree, yaml, click" | {imports:.3f} | 1.00 |',
            f"| sflint --version | {version:.3f} | {version / imports:.2f} |",
            f"| sflint --help | {helps:.3f} | {helps / imports:.2f} |",
            f"| sflint check <one file> (example project, warm) | {hook:.3f} "
            f"| {hook / imports:.2f} |",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs per measurement (median)")
    ap.add_argument("--profiles", type=int, default=40, help="2.3 MB profiles (issue 12: 160)")
    ap.add_argument("--sets", type=int, default=1500, help="67 KB permission sets")
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--skip-enterprise", action="store_true")
    args = ap.parse_args(argv)
    sflint = find_sflint()
    compiled = compile_sflint()
    xml_name, ref_cmd = xml_reference()
    print(
        f"sflint: {' '.join(sflint)}  python: {PYTHON}  runs: {args.runs} (median)"
        f"  cpus: {os.cpu_count()}  load average: {os.getloadavg()[0]:.1f}"
    )
    print(f"XML reference: {xml_name}")
    print(compiled)
    print(startup(sflint, args.runs * 2))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if not args.skip_enterprise:
            project = enterprise_project(work / "enterprise", args.profiles, args.sets)
            sets = project / "force-app" / "main" / "default" / "permissionsets"
            scenario = Scenario(
                f"synthetic enterprise project ({args.profiles} profiles of 2.3 MB,"
                f" {args.sets} sets of 67 KB, 10 groups)",
                [project],
                (
                    project,
                    "force-app/main/default/permissionsets/"
                    f"Set_{args.sets // 2:04d}.permissionset-meta.xml",
                ),
                sets / f"Set_{args.sets // 2 + 1:04d}.permissionset-meta.xml",
            )
            info = measure(scenario, sflint, ref_cmd, args.runs, work / "cache-enterprise")
            print(table(scenario, info, xml_name), flush=True)
        if args.corpus.is_dir():
            copy = work / "corpus"
            shutil.copytree(args.corpus, copy)
            for path in copy.rglob("*"):
                path.chmod(0o755 if path.is_dir() else 0o644)
            roots = corpus_roots(copy)
            biggest = max(roots, key=lambda r: len(metadata_files([r])))
            sets_in = [
                f for f in metadata_files([biggest]) if f.name.endswith(".permissionset-meta.xml")
            ]
            edit = next(f for f in sets_in if b"</label>" in f.read_bytes())
            scenario = Scenario(
                f"../shared/corpus ({len(roots)} projects in one process)",
                roots,
                (biggest, edit.relative_to(biggest).as_posix()),
                edit,
            )
            info = measure(scenario, sflint, ref_cmd, args.runs, work / "cache-corpus")
            print(table(scenario, info, xml_name), flush=True)
        else:
            print(f"\ncorpus: skipped, {args.corpus} is absent")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
