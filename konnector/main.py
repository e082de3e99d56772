"""Console entry point of `konnector` (filled in by its own issue)."""

import sys


def cli() -> None:
    sys.stderr.write("konnector: not implemented yet in this build\n")
    raise SystemExit(2)
