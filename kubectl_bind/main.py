"""Console entry point of `kubectl_bind` (filled in by its own issue)."""

import sys


def cli() -> None:
    sys.stderr.write("kubectl_bind: not implemented yet in this build\n")
    raise SystemExit(2)
