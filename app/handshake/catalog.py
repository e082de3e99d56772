"""``GET /api/templates`` and ``GET /api/collections``: the provider's catalog (reference §3.1).

Read through the provider kube-apiserver with the backend's identity; the caller must be logged
in and allowed to bind. Items keep their ``apiVersion``/``kind``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.credentials import refs
from app.handshake.context import CallerDep, ContextDep
from app.handshake.errors import NO_CACHE
from kubebind.kube.resources import ResourceRef

__all__ = ["list_kind", "router"]

router = APIRouter(prefix="/api", tags=["catalog"])


async def list_kind(ctx: Any, ref: ResourceRef) -> dict[str, Any]:
    items, rv = await ctx.provider.list_all(ref)
    for item in items:
        item.setdefault("apiVersion", ref.api_version)
        item.setdefault("kind", ref.kind)
    items.sort(key=lambda o: o["metadata"]["name"])
    return {
        "apiVersion": ref.api_version,
        "kind": f"{ref.kind}List",
        "metadata": {"resourceVersion": rv},
        "items": items,
    }


@router.get("/templates", summary="APIServiceExportTemplateList")
async def templates(ctx: ContextDep, _caller: CallerDep) -> JSONResponse:
    return JSONResponse(await list_kind(ctx, refs.TEMPLATES), headers=NO_CACHE)


@router.get("/collections", summary="CollectionList")
async def collections(ctx: ContextDep, _caller: CallerDep) -> JSONResponse:
    return JSONResponse(await list_kind(ctx, refs.COLLECTIONS), headers=NO_CACHE)
