"""``kubectl bind deploy``: consume a backend-only binding (no browser, no backend HTTP).

In the backend-only flow (reference §4.5) the provider hands over a Secret with a
BindingResourceResponse (or a bare kubeconfig). ``deploy`` reads it from a file (``-f``, ``-`` =
stdin) or a consumer Secret (``--secret ns/name``, ``--secret-key``, default: ``binding-response``
then ``kubeconfig``), stores the kubeconfig in ``kube-bind``, deploys the konnector, and binds any
requests the response carries. ``--dry-run`` prints the objects instead (needs ``-f``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
from pathlib import Path

from kubebind.kube import ApiClient
from kubebind.kube.resources import SECRETS
from kubectl_bind import output
from kubectl_bind.binder import Binder
from kubectl_bind.clusters import api_errors, consumer_client
from kubectl_bind.commands import common
from kubectl_bind.commands.tables import print_bindings
from kubectl_bind.errors import CLIError, UsageError
from kubectl_bind.response import BindingResult, parse_secret_payload

_KEYS = ("binding-response", "kubeconfig")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "deploy",
        help="deploy the konnector from a backend-only binding response",
        description="Store a provider kubeconfig (from a BindingResourceResponse file or Secret) "
        "on the consumer, "
        "deploy the konnector and bind the requests it carries.",
    )
    p.add_argument(
        "-f", "--file", default="", help="BindingResourceResponse JSON or kubeconfig file (`-` = stdin)"
    )
    p.add_argument(
        "--secret", default="", metavar="NAMESPACE/NAME", help="consumer Secret holding the response"
    )
    p.add_argument(
        "--secret-key", default="", help="key in that Secret (default: binding-response, then kubeconfig)"
    )
    common.add_kube_flags(p)
    common.add_bind_flags(p)
    common.add_output_flag(p)
    p.set_defaults(func=run)


async def _from_secret(args: argparse.Namespace, client: ApiClient) -> BindingResult:
    ns, sep, name = args.secret.partition("/")
    if not sep or not ns or not name:
        raise UsageError(f"invalid --secret {args.secret!r}: expected NAMESPACE/NAME")
    async with api_errors(f"reading Secret {args.secret}"):
        secret = await client.get(SECRETS, name, namespace=ns)
    data = secret.get("data") or {}
    keys = [args.secret_key] if args.secret_key else list(_KEYS)
    for key in keys:
        if data.get(key):
            return parse_secret_payload(base64.b64decode(data[key]), f"Secret {args.secret} key {key}")
    raise CLIError(f"Secret {args.secret} has none of the keys {', '.join(keys)}")


async def run(args: argparse.Namespace) -> int:
    options = common.binder_options(args)
    if bool(args.file) == bool(args.secret):
        raise UsageError("give exactly one of -f/--file or --secret")
    if args.secret:
        ns, sep, name = args.secret.partition("/")
        if not sep or not ns or not name:
            raise UsageError(f"invalid --secret {args.secret!r}: expected NAMESPACE/NAME")
    if args.dry_run and args.secret:
        raise UsageError("--dry-run touches no cluster: use -f instead of --secret")
    result: BindingResult | None = None
    if args.file:
        try:
            data = (
                sys.stdin.buffer.read()
                if args.file == "-"
                else await asyncio.to_thread(Path(args.file).read_bytes)
            )
        except OSError as exc:
            raise UsageError(f"cannot read {args.file}: {exc.strerror}") from exc
        result = parse_secret_payload(data, args.file)
    if args.dry_run:
        assert result is not None
        output.print_objects(
            Binder(None, options).plan(result), "yaml" if args.output == "table" else args.output
        )
        return 0
    async with consumer_client(args.kubeconfig, args.context) as client:
        if result is None:
            result = await _from_secret(args, client)
        bindings = await Binder(client, options).run(result)
    if bindings:
        print_bindings(bindings, args.output)
    return 0
