"""sflint benchmark: start-up, throughput and a one-file hook run, as ratios to baselines
measured in the same run.

    python bench/run.py [--runs 11] [--corpus ../shared/corpus] [--sizes 1,5]

Every timing is the median wall time of ``--runs`` runs of a whole process (after one
warm-up run), because that is what a pre-commit hook and a CI step pay. Baselines:

* start-up: ``python -c "import lxml.etree, yaml, click"`` (the libraries sflint needs to
  check anything) and ``python -c pass`` (the interpreter alone);
* throughput: ``xmllint --noout`` over the same permission metadata files, one process per
  project as for sflint (falls back to an lxml parse loop in Python if xmllint is absent,
  and says so; ``apt-get install libxml2-utils`` provides xmllint);
* synthetic profiles of a few MB (~20k fieldPermissions/userPermissions) show scaling.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sflint.project import PROJECT_FILE, classify  # noqa: E402

EXAMPLE = ROOT / "testdata" / "projects" / "commission-app"
HOOK_FILE = (
    "force-app/main/default/permissionsetgroups/Integration_Base.permissionsetgroup-meta.xml"
)
PYTHON = sys.executable

LXML_LOOP = """
import sys
from lxml import etree
parser = etree.XMLParser(resolve_entities=False, no_network=True)
for name in sys.argv[1:]:
    etree.parse(name, parser)
"""


def find_sflint() -> list[str]:
    beside = Path(PYTHON).parent / ("sflint.exe" if os.name == "nt" else "sflint")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("sflint")
    return [found] if found else [PYTHON, "-m", "sflint"]


def median_time(cmd: Sequence[str], runs: int, cwd: Path | None = None) -> float:
    """Median seconds of ``runs`` runs after one warm-up; checks the exit code is 0 or 1."""
    times: list[float] = []
    for i in range(runs + 1):
        start = time.perf_counter()
        result = subprocess.run(
            cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
        )
        elapsed = time.perf_counter() - start
        if result.returncode not in (0, 1):
            sys.exit(f"bench: {' '.join(cmd)} exited {result.returncode}:\n{result.stderr!r}")
        if i:
            times.append(elapsed)
    return statistics.median(times)


def median_total(cmds: Sequence[Sequence[str]], runs: int) -> float:
    """Median over runs of the summed wall time of running every command once."""
    totals: list[float] = []
    for i in range(runs + 1):
        total = 0.0
        for cmd in cmds:
            start = time.perf_counter()
            result = subprocess.run(
                cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
            )
            total += time.perf_counter() - start
            if result.returncode not in (0, 1):
                sys.exit(f"bench: {' '.join(cmd)} exited {result.returncode}:\n{result.stderr!r}")
        if i:
            totals.append(total)
    return statistics.median(totals)


def xml_reference() -> tuple[str, list[str]]:
    xmllint = shutil.which("xmllint")
    if xmllint:
        return "xmllint --noout", [xmllint, "--noout", "--nonet"]
    return "lxml parse loop (xmllint not installed)", [PYTHON, "-c", LXML_LOOP]


def corpus_projects(corpus: Path) -> list[tuple[Path, list[Path]]]:
    """Folders holding sfdx-project.json, plus top-level corpus folders without one, each
    with the permission metadata files under it (nested projects are their own)."""
    roots = sorted(p.parent for p in corpus.rglob(PROJECT_FILE))
    roots += [d for d in sorted(corpus.iterdir()) if d.is_dir() and not any(d.rglob(PROJECT_FILE))]
    out: list[tuple[Path, list[Path]]] = []
    for root in roots:
        files = []
        for f in sorted(root.rglob("*")):
            if not f.is_file() or classify(f) is None:
                continue
            inside = [p for p in f.parents if corpus in p.parents]
            owner = next((p for p in inside if (p / PROJECT_FILE).is_file()), None)
            if owner in (root, None):
                files.append(f)
        out.append((root, files))
    return out


def findings_count(sflint: list[str], target: Path, cwd: Path | None = None) -> tuple[int, int]:
    """(files read, findings) from one JSON run."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [*sflint, "check", str(target), "--fail-on", "never", "--format", "json"]
        subprocess.run([*cmd, "-o", str(report)], cwd=cwd, check=True)
        summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
    return int(summary["files"]), int(summary["findings"])


# --- synthetic large profile ---------------------------------------------------------------


def catalogue_names() -> list[str]:
    tsv = ROOT / "sflint" / "data" / "user-permissions.tsv"
    lines = tsv.read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t", 1)[0] for line in lines if line.strip()]


def write_profile(path: Path, target_bytes: int) -> int:
    """A deterministic profile of about ``target_bytes``: every catalogue user permission
    (TwoFactorApi among them), then fieldPermissions until the size is reached.
    Returns the number of permission elements."""
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Profile xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        "    <custom>true</custom>\n"
    )
    users = "".join(
        "    <userPermissions>\n"
        f"        <enabled>{'true' if i % 3 else 'false'}</enabled>\n"
        f"        <name>{name}</name>\n"
        "    </userPermissions>\n"
        for i, name in enumerate(catalogue_names())
    )
    tail = "    <userLicense>Salesforce</userLicense>\n</Profile>\n"
    fields: list[str] = []
    size = len(head) + len(users) + len(tail)
    n = 0
    while size < target_bytes:
        block = (
            "    <fieldPermissions>\n"
            f"        <editable>{'true' if n % 2 else 'false'}</editable>\n"
            f"        <field>Object_{n // 200:03d}__c.Field_{n % 200:03d}__c</field>\n"
            "        <readable>true</readable>\n"
            "    </fieldPermissions>\n"
        )
        fields.append(block)
        size += len(block)
        n += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + "".join(fields) + users + tail, encoding="utf-8")
    return n + len(catalogue_names())


def synthetic_project(folder: Path, megabytes: float) -> tuple[Path, Path, int]:
    folder.mkdir(parents=True)
    (folder / PROJECT_FILE).write_text(
        json.dumps({"packageDirectories": [{"path": "force-app", "default": True}]}),
        encoding="utf-8",
    )
    (folder / ".sflint.yml").write_text(
        "personas:\n  - name: Bulk integration\n    kind: integration\n    profile: Big\n",
        encoding="utf-8",
    )
    profile = folder / "force-app" / "main" / "default" / "profiles" / "Big.profile-meta.xml"
    elements = write_profile(profile, int(megabytes * 1024 * 1024))
    return folder, profile, elements


# --- report --------------------------------------------------------------------------------


def row(label: str, seconds: float, base: float | None = None, extra: str = "") -> str:
    ratio = f"{seconds / base:6.2f}x" if base else "       "
    return f"  {label:<58} {seconds * 1000:9.1f} ms  {ratio}  {extra}"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=11, help="timed runs per measurement (median)")
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--sizes", default="1,5", help="synthetic profile sizes in MB, e.g. 1,5")
    args = ap.parse_args(argv)
    runs: int = args.runs
    sflint = find_sflint()
    ref_name, ref_cmd = xml_reference()

    print(
        f"sflint: {' '.join(sflint)}  python: {PYTHON}  runs: {runs} (median)"
        f"  cpus: {os.cpu_count()}"
    )
    print(f"XML reference: {ref_name}")

    # (a) start-up
    print("\n(a) start-up (ratio to the import baseline)")
    imports = median_time([PYTHON, "-c", "import lxml.etree, yaml, click"], runs)
    bare = median_time([PYTHON, "-c", "pass"], runs)
    version = median_time([*sflint, "--version"], runs)
    helps = median_time([*sflint, "--help"], runs)
    print(row('python -c "pass"', bare, imports))
    print(row('python -c "import lxml.etree, yaml, click"  [baseline]', imports, imports))
    print(row("sflint --version", version, imports, f"{version / bare:.2f}x python -c pass"))
    print(row("sflint --help", helps, imports, f"{helps / bare:.2f}x python -c pass"))

    # (c) one-file hook run, as pre-commit calls it (relative path, from the project root)
    print("\n(c) one-file hook run in the example project (ratio to the import baseline)")
    hook = median_time([*sflint, "check", HOOK_FILE], runs, cwd=EXAMPLE)
    files, found = findings_count(sflint, EXAMPLE / HOOK_FILE, cwd=EXAMPLE)
    print(
        row(
            f"sflint check {Path(HOOK_FILE).name}",
            hook,
            imports,
            f"{files} files, {found} finding(s)",
        )
    )

    # (b) throughput over the corpus
    if args.corpus.is_dir():
        projects = corpus_projects(args.corpus)
        every = [f for _, fs in projects for f in fs]
        size = sum(f.stat().st_size for f in every)
        sfl_cmds = [
            [
                *sflint,
                "check",
                str(root),
                "--fail-on",
                "never",
                "--format",
                "json",
                "-o",
                os.devnull,
            ]
            for root, _ in projects
        ]
        ref_cmds = [[*ref_cmd, *map(str, fs)] for _, fs in projects if fs]
        n = max(3, runs // 3)
        sfl = median_total(sfl_cmds, n)
        ref = median_total(ref_cmds, n)
        read = sum(findings_count(sflint, root)[0] for root, _ in projects)
        print(
            f"\n(b) throughput: {args.corpus} ({len(projects)} projects, {len(every)} permission"
            f" files, {size / 1e6:.1f} MB; one process per project; median of {n})"
        )
        print(row(f"{ref_name}", ref, ref, f"{size / 1e6 / ref:.1f} MB/s"))
        print(
            row(
                "sflint check --format json",
                sfl,
                ref,
                f"{size / 1e6 / sfl:.1f} MB/s, {read} files read",
            )
        )
        # One process for everything: sflint checks each project of a multi-project batch
        # with its own settings, so this is the same work without 49 interpreter start-ups.
        one_sfl = median_time(
            [
                *sflint,
                "check",
                *(str(r) for r, _ in projects),
                "--fail-on",
                "never",
                "--format",
                "json",
                "-o",
                os.devnull,
            ],
            n,
        )
        one_ref = median_time([*ref_cmd, *map(str, every)], n)
        print(f"  one process for all {len(projects)} projects:")
        print(row(f"{ref_name}", one_ref, one_ref, f"{size / 1e6 / one_ref:.1f} MB/s"))
        print(
            row("sflint check --format json", one_sfl, one_ref, f"{size / 1e6 / one_sfl:.1f} MB/s")
        )
    else:
        print(f"\n(b) throughput: skipped, {args.corpus} is absent")

    # synthetic large profiles
    print("\nsynthetic profile (one file project with an integration persona on it)")
    with tempfile.TemporaryDirectory() as tmp:
        for mb in (float(s) for s in args.sizes.split(",") if s.strip()):
            folder, profile, elements = synthetic_project(Path(tmp) / f"p{mb:g}", mb)
            size = profile.stat().st_size
            n = max(3, runs // 3)
            sfl = median_time(
                [
                    *sflint,
                    "check",
                    str(folder),
                    "--fail-on",
                    "never",
                    "--format",
                    "json",
                    "-o",
                    os.devnull,
                ],
                n,
            )
            ref = median_time([*ref_cmd, str(profile)], n)
            label = f"{size / 1e6:.1f} MB, {elements} permission elements"
            print(row(f"{ref_name} [{label}]", ref, ref))
            print(row(f"sflint check [{label}]", sfl, ref, f"{size / 1e6 / sfl:.1f} MB/s"))

    print(
        f"\nsummary: --version {version / imports:.2f}x, one-file hook {hook / imports:.2f}x"
        ' the import baseline (python -c "import lxml.etree, yaml, click")'
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
