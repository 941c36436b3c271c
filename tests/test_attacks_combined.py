"""Many attacks of one hostile pull request at once, through the real command in a fresh
process, in every format: no traceback, exit 1 (the real SFL001 is still found), bounded
time and memory, nothing written outside the project, no secret text in any output.

The bounds are generous guards against a hang or a blow-up, not measurements."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE

SECRET = "ghp_COMBINEDSECRET0123456789"
NS = "http://soap.sforce.com/2006/04/metadata"
SETS = "force-app/main/default/permissionsets"
REAL = f"{SETS}/Commission_App_API.permissionset-meta.xml"
# Measure the child's own peak: Linux carries ru_maxrss across fork and exec, VmHWM not.
RUNNER = (
    "import resource, runpy, sys\n"
    "sys.argv = ['sflint', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('sflint', run_name='__main__')\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
    "kb = int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "sys.stderr.write(f'PEAK_MB={kb // 1024}\\n')\n"
    "sys.exit(code)\n"
)


def _grant(name: str, enabled: str = "true") -> str:
    return (
        f"    <userPermissions>\n        <enabled>{enabled}</enabled>\n"
        f"        <name>{name}</name>\n    </userPermissions>\n"
    )


def _set(body: str) -> bytes:
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<PermissionSet xmlns="{NS}">\n'
    return (head + body + "</PermissionSet>\n").encode()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top = tmp_path_factory.mktemp("combined")
    (top / "secret.txt").write_text(f"TOKEN={SECRET}\n")
    root = top / "repo"
    shutil.copytree(EXAMPLE, root)
    sets = root / SETS
    # Links out of the project, a loop, a FIFO, and a second name for the real set.
    (sets / "Env.permissionset-meta.xml").symlink_to("/proc/self/environ")
    (sets / "Secret.permissionset-meta.xml").symlink_to(top / "secret.txt")
    (sets / "Loop.permissionset-meta.xml").symlink_to(sets / "Loop.permissionset-meta.xml")
    os.mkfifo(sets / "Fifo.permissionset-meta.xml")
    (sets / "AAA.permissionset-meta.xml").symlink_to("Commission_App_API.permissionset-meta.xml")
    # Names that would drive a terminal or start a CI log command.
    (sets / "x\n::error file=README.md,line=1::pwned.permissionset-meta.xml").write_bytes(
        _set(_grant("TwoFactorApi"))
    )
    (sets / "y\x1b]8;;evil\x07\u202e.permissionset-meta.xml").write_bytes(
        _set(_grant("ApiEnabled"))
    )
    # Suppression text outside comments must not hide the real grant.
    real = root / REAL
    real.write_bytes(
        real.read_bytes().replace(
            b"<label>", b"<?pi <!-- sflint: ignore-file --> ?>\n    <label>", 1
        )
    )
    # Quadratic traps: a megabyte of comments and CDATA, thousands of ambiguous grants.
    (sets / "Comments.permissionset-meta.xml").write_bytes(
        _set("<!-- sflint: ignore SFL002 -->\n" * 30_000 + _grant("ViewSetup"))
    )
    (sets / "Cdata.permissionset-meta.xml").write_bytes(
        _set("<label><![CDATA[" + "<!-- sflint: " * 60_000 + "]]></label>\n")
    )
    (sets / "Ambiguous.permissionset-meta.xml").write_bytes(
        _set("".join(_grant(f"Perm{i}", "True") for i in range(3_000)))
    )
    # As many copies of one grant as the 64 MB limit allows (66.6 MB): one finding per rule.
    (sets / "Copies.permissionset-meta.xml").write_bytes(_set(_grant("TwoFactorApi") * 600_000))
    # Another encoding, and a report name that is a committed link.
    (sets / "Wide.permissionset-meta.xml").write_bytes(
        b"\xff\xfe" + _set(_grant("TwoFactorApi")).decode().encode("utf-16-le")
    )
    (root / "sflint.sarif").symlink_to(top / "secret.txt")
    return root


def _tree(folder: Path) -> dict[str, int]:
    return {
        p.relative_to(folder).as_posix(): p.lstat().st_mtime_ns for p in sorted(folder.rglob("*"))
    }


@pytest.mark.parametrize("fmt", ["console", "full", "json", "sarif", "github", "markdown"])
def test_everything_at_once(hostile: Path, fmt: str) -> None:
    before = _tree(hostile.parent)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, "check", str(hostile), "--format", fmt, "--no-cache"],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=300,
        env={**os.environ, "SECRET_IN_ENV": SECRET},
    )
    elapsed = time.monotonic() - started
    err = result.stderr
    assert result.returncode == 1, err[-2000:]
    assert "Traceback" not in err
    assert "internal error" not in err
    assert SECRET not in result.stdout + err
    assert "Commission_App_API" in result.stdout  # the real SFL001 is still there
    assert "Granted 600,000 times in this file" in result.stdout
    peak = int(err.rsplit("PEAK_MB=", 1)[1].split()[0])
    assert peak < 600, f"peak {peak} MB"
    assert elapsed < 120, f"{elapsed:.0f} s"
    assert _tree(hostile.parent) == before  # nothing written, anywhere


def test_a_report_through_a_committed_link_is_refused(hostile: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sflint",
            "check",
            ".",
            "--sarif-file",
            "sflint.sarif",
            "--no-cache",
        ],
        capture_output=True,
        text=True,
        cwd=hostile,
        timeout=300,
    )
    assert result.returncode == 2
    assert result.stderr.endswith("sflint.sarif: not written: it is a symbolic link\n")
    assert (hostile.parent / "secret.txt").read_text() == f"TOKEN={SECRET}\n"
