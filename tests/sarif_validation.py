"""Validate SARIF the way GitHub code scanning will read it, from any test.

Uses the shared validators next to the repository (``../shared/sarif``, see its README):
``validate_sarif.py --github --strict`` always (OASIS schema with a real RFC 3986 URI check,
plus GitHub's ingestion rules), and Microsoft's SARIF Multitool (``validate-github.sh``) when
it is already installed, since installing it downloads about 100 MB with npm.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

SARIF_TOOLS = Path(__file__).resolve().parents[1].parent / "shared" / "sarif"
_MULTITOOL = (
    Path(os.environ.get("SARIF_TOOLS_CACHE", Path.home() / ".cache" / "sarif-multitool"))
    / "node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
)


def assert_valid_sarif(sarif: str | Path, *, strict: bool = True, multitool: bool = True) -> None:
    """Fail the calling test unless ``sarif`` (a file, or SARIF text) passes the validators.

    ``strict`` also fails on the GitHub checks' warnings (a space in a URI, a missing rule
    description...). ``multitool`` additionally runs the Multitool when it is installed (or
    ``SARIF_MULTITOOL`` points at it), failing on its errors only: its warnings include
    SARIF2005 (no ``informationUri``), which sflint cannot satisfy until it has a home page.
    Skips when ``../shared/sarif`` is absent.
    """
    script = SARIF_TOOLS / "validate_sarif.py"
    if not script.is_file():
        pytest.skip(f"SARIF validators not found at {SARIF_TOOLS} (../shared/sarif)")
    with tempfile.TemporaryDirectory() as tmp:
        if isinstance(sarif, Path):
            path = sarif
        else:
            path = Path(tmp) / "sflint.sarif"
            path.write_text(sarif, encoding="utf-8")
        args = ["--github", *(["--strict"] if strict else []), str(path)]
        _run([sys.executable, str(script), *args])
        if multitool and (_MULTITOOL.is_file() or os.environ.get("SARIF_MULTITOOL")):
            _run(
                [
                    "bash",
                    str(SARIF_TOOLS / "validate-github.sh"),
                    "--multitool-only",
                    str(path),
                ]
            )


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.fail(
            f"SARIF validation failed ({' '.join(cmd[1:])}):\n{proc.stdout}{proc.stderr}",
            pytrace=False,
        )
