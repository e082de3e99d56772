"""``kubectl bind cluster-identity``: print the consumer identity the backend keys namespaces by.

The identity is the UID of the consumer's ``kube-system`` namespace (``-n`` to choose another); the
backend derives the consumer's namespace on the provider from it.
"""

from __future__ import annotations

import argparse
import sys

from kubectl_bind.clusters import consumer_client
from kubectl_bind.commands import common


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "cluster-identity",
        help="print the consumer cluster's identity (UID of kube-system)",
        description="Print the consumer cluster identity used by kube-bind "
        "(the UID of a namespace, default kube-system).",
    )
    common.add_kube_flags(p)
    p.add_argument(
        "-n",
        "--namespace",
        default="kube-system",
        help="namespace whose UID is the identity (default %(default)s)",
    )
    p.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    async with consumer_client(args.kubeconfig, args.context) as client:
        uid = await common.cluster_identity(client, args.namespace)
    sys.stdout.write(f"{uid}\n")
    return 0
