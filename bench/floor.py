"""What a cold run cannot do without, measured on one project in one process:

    python bench/floor.py PROJECT

Prints, as ratios to ``xmllint --noout`` over the same files (best of a few runs each):
reading the bytes, libxml2's tree-free well-formedness check (``xmlsafe.well_formed``), one
count of the newlines (the lines every finding needs), building the project's grants as the
model's values, and starting Python with sflint's command line and lxml imported. Halving
the per-byte parts for two cores and adding the start gives the floor of a cold run with
two workers whose scan, rules and report cost nothing: the cold target of issue 12 (0.5x)
is measured against it in bench/README.md.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sflint.metadata.reader import parse_bytes  # noqa: E402
from sflint.model import Grant, Location  # noqa: E402
from sflint.project import load_project  # noqa: E402
from sflint.xmlsafe import well_formed  # noqa: E402

T = TypeVar("T")


def best(f: Callable[[], T], n: int) -> tuple[float, T]:
    times, result = [], None
    for _ in range(n):
        start = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - start)
    return min(times), result  # type: ignore[return-value]


def main() -> None:
    project = load_project(Path(sys.argv[1]).resolve())
    files = list(project.files)
    paths = [str(f.path) for f in files]
    xmllint, _ = best(
        lambda: subprocess.run(["xmllint", "--noout", "--nonet", *paths], check=False), 3
    )
    read, datas = best(lambda: [Path(p).read_bytes() for p in paths], 5)
    check, _ = best(lambda: [well_formed(d) for d in datas], 5)
    lines, _ = best(lambda: [d.count(b"\n") for d in datas], 5)
    parsed = [parse_bytes(d, f.rel, f.type, f.role) for d, f in zip(datas, files, strict=True)]
    count = sum(len(p.grants) for p in parsed)
    grants, _ = best(lambda: [Grant("ApiEnabled", True, Location("a", i)) for i in range(count)], 5)
    imports = [sys.executable, "-c", "import sflint.cli, lxml.etree"]
    start, _ = best(lambda: subprocess.run(imports, check=False), 5)
    size = sum(len(d) for d in datas)
    print(f"{len(files)} files, {size / 1e6:.0f} MB; xmllint --noout {xmllint:.3f} s")
    for name, seconds in (
        ("reading the bytes", read),
        ("libxml2's tree-free check", check),
        ("one newline count", lines),
        (f"building {count:,} grants", grants),
        ("starting Python, sflint.cli and lxml", start),
    ):
        print(f"  {name}: {seconds:.3f} s ({seconds / xmllint:.2f}x)")
    floor = (read + check + lines + grants) / 2 + start
    print(f"floor with two workers and a free scan: {floor:.3f} s ({floor / xmllint:.2f}x)")


if __name__ == "__main__":
    main()
