"""``kubectl-bind`` console entry point (``kubectl bind …`` as a kubectl plugin).

Why a hand-rolled dispatch on top of argparse: the Go CLI's root command both binds
(``kubectl bind [URL]``, the catalog flow) and has verbs (``login``, ``apiservice`` …). argparse
cannot mix an optional positional with sub-commands, so ``cli`` looks for the first argument that
names a verb (skipping values of leading flags) and parses with that verb's parser; otherwise the
root bind parser is used. Every expected failure is a :class:`~kubectl_bind.errors.CLIError`:
one ``error: …`` line on stderr and a non-zero exit code (2 for usage errors). Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from kubectl_bind import __version__
from kubectl_bind.commands import (
    apiservice,
    bind,
    catalog,
    cluster_identity,
    common,
    deploy,
    dev,
    login,
    unbind,
)
from kubectl_bind.errors import EXIT_USAGE, CLIError

__all__ = ["build_parser", "cli", "main"]

PROG = "kubectl bind"

_REGISTRARS = (login, apiservice, catalog, deploy, cluster_identity, unbind, dev)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"error: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser, set[str]]:
    """(root bind parser, verbs parser, verb names)."""
    verbs = _Parser(prog=PROG, description="kube-bind: bind APIs of a service provider into this cluster.")
    sub = verbs.add_subparsers(dest="verb", metavar="COMMAND", parser_class=_Parser)
    for module in _REGISTRARS:
        module.register(sub)
    names = set(sub.choices)
    listing = "\n".join(f"  {action.dest:18s}{action.help}" for action in sub._choices_actions)
    root = _Parser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Bind an API service from a kube-bind backend into the current (consumer) cluster.\n"
        "Without a command: open the backend's catalog page in the browser, pick a service, bind it.",
        epilog=f"commands:\n{listing}\n\nRun `{PROG} COMMAND --help` for a command's flags.",
    )
    root.add_argument("--version", action="version", version=f"kubectl-bind {__version__}")
    root.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    bind.configure(root)
    return root, verbs, names


def _split_verb(argv: Sequence[str], names: set[str]) -> list[str] | None:
    """``argv`` with the verb moved first, or None when there is no verb (root bind)."""
    skip = False
    for index, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg == "--":
            return None
        if arg.startswith("-"):
            skip = arg in common.VALUE_FLAGS
            continue
        if arg in names:
            return [arg, *argv[:index], *argv[index + 1 :]]
        return None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    root, verbs, names = build_parser()
    verb_argv = _split_verb(args_list, names)
    verbose = "-v" in args_list or "--verbose" in args_list
    if verb_argv is not None:
        verb_argv = [a for a in verb_argv if a not in ("-v", "--verbose")]
        args = verbs.parse_args(verb_argv)
    else:
        args = root.parse_args(args_list)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    func: Callable[[argparse.Namespace], int | Coroutine[Any, Any, int]] | None = getattr(args, "func", None)
    if func is None:
        (verbs.print_help if verb_argv is not None else root.print_help)()
        return EXIT_USAGE
    try:
        result = func(args)
        if inspect.iscoroutine(result):
            return int(asyncio.run(result))
        assert isinstance(result, int)
        return result
    except CLIError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except Exception as exc:  # a bug or an unexpected failure: one line, details with -v
        if verbose:
            logging.getLogger("kubectl_bind").exception("unexpected error")
        sys.stderr.write(f"error: unexpected {type(exc).__name__}: {exc} (run with -v for details)\n")
        return 1


def cli() -> None:
    raise SystemExit(main())


if __name__ == "__main__":
    cli()
