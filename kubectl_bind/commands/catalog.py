"""``kubectl bind templates`` and ``kubectl bind collections``: what the backend offers.

Both read the backend's authenticated ``GET /api/templates`` / ``GET /api/collections`` and print
a kubectl-like table, or ``-o json`` (a Kubernetes List) / ``-o yaml`` (one document per item).
"""

from __future__ import annotations

import argparse

from kubebind.apis import constants
from kubectl_bind import output
from kubectl_bind.commands import common
from kubectl_bind.commands.tables import COLLECTION_COLUMNS, TEMPLATE_COLUMNS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for verb, helptext in (
        ("templates", "list the APIServiceExportTemplates (services) a backend offers"),
        ("collections", "list the Collections (groups of templates) a backend offers"),
    ):
        p = sub.add_parser(verb, help=helptext, description=helptext[0].upper() + helptext[1:] + ".")
        common.add_server_flags(p)
        common.add_output_flag(p)
        p.set_defaults(func=run, verb=verb)


async def run(args: argparse.Namespace) -> int:
    resolved = common.resolve_server(args)
    async with common.open_backend(args, resolved) as backend:
        if args.verb == "templates":
            items = await backend.templates()
            columns, kind = TEMPLATE_COLUMNS, "APIServiceExportTemplateList"
        else:
            items = await backend.collections()
            columns, kind = COLLECTION_COLUMNS, "CollectionList"
    items.sort(key=lambda o: str((o.get("metadata") or {}).get("name", "")))
    output.print_objects(
        items,
        args.output,
        columns=columns,
        list_kind=kind,
        list_api_version=constants.API_VERSION,
        empty_message=f"No {args.verb} found on {resolved.url}.",
    )
    return 0
