"""Console entry point of `app` (filled in by its own issue)."""

import sys


def cli() -> None:
    sys.stderr.write("app: not implemented yet in this build\n")
    raise SystemExit(2)
