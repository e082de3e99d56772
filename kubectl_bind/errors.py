"""The one exception type commands raise to end with a one-line message and a non-zero exit.

Why: a user of a kubectl plugin expects ``error: <what went wrong and what to do>`` on stderr and
an exit code a script can test, never a traceback. Every expected failure (bad flag values,
unreachable backend, a Kubernetes ``Status``, a timeout) is turned into a :class:`CLIError` at the
point where it is understood; ``main`` prints it and exits with its ``exit_code``.
"""

from __future__ import annotations

__all__ = ["EXIT_ERROR", "EXIT_USAGE", "CLIError"]

#: Runtime failure (network, cluster, backend, timeout).
EXIT_ERROR = 1
#: Bad command line or input file.
EXIT_USAGE = 2


class CLIError(Exception):
    """An expected failure; ``str(exc)`` is the single line shown to the user."""

    def __init__(self, message: str, *, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(" ".join(message.split()))
        self.exit_code = exit_code


class UsageError(CLIError):
    """Bad flags, arguments or input files (exit code 2, like argparse)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=EXIT_USAGE)
