"""The ``sflint`` console script: ``cli.main`` with the cyclic collector's thresholds raised
from before the command line's modules are imported."""

from __future__ import annotations

import gc


def main() -> int:
    """``sflint.cli.main`` for the command line.

    A run is short and allocates hundreds of thousands of objects that their reference
    counts free (tuples, strings, decoded JSON, the modules it imports): with the default
    first threshold (700), a warm run of the enterprise bench collected about 80 times for
    nothing (28 of its 670 million instructions, callgrind). mypy raises its thresholds the
    same way; a cycle still goes at the next collection, and the reader pauses the
    collector while it reads anyway. Restored afterwards, for a caller in the same process.
    """
    threshold = gc.get_threshold()
    gc.set_threshold(200_000, 30, 30)
    try:
        from sflint.cli import main as run  # after the thresholds: its imports allocate too

        return run()
    finally:
        gc.set_threshold(*threshold)
