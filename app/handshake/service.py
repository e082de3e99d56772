"""Wiring of the service side: context factory, router mounting, controller lifespan.

``build_context`` turns settings into clients and stores; ``mount`` adds every handshake router,
the dev issuer (when no external issuer is configured) and the web page to a FastAPI app;
``create_service_app`` is a complete app for running the service side on its own (tests,
benchmarks) until issue 3's ``app.main.create_app`` mounts it next to the aggregated API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth import devissuer
from app.auth.oidc import OIDCClient
from app.auth.sessions import SessionStore, create_engine, create_tables
from app.auth.tokens import TokenIssuer
from app.controllers import manager
from app.credentials.kubeconfig import KubeconfigTarget
from app.credentials.mint import Minter
from app.handshake import bind, catalog, exports, login, status
from app.handshake.context import ServiceContext, get_context
from app.handshake.errors import install_handlers
from app.handshake.metrics import ServiceMetrics
from app.handshake.settings import ServiceSettings
from app.web import pages
from kubebind.kube import ApiClient, load_kubeconfig
from kubebind.kube.kubeconfig import load_incluster_config

__all__ = ["attach", "build_context", "create_service_app", "mount", "run_service", "templates"]

log = logging.getLogger(__name__)
WEB_DIR = Path(__file__).resolve().parent.parent / "web"


def templates() -> Jinja2Templates:
    return Jinja2Templates(directory=str(WEB_DIR / "templates"))


def _provider_client(settings: ServiceSettings) -> ApiClient:
    config = (
        load_kubeconfig(settings.provider_kubeconfig)
        if settings.provider_kubeconfig
        else load_incluster_config()
    )
    # HTTP/1.1: with HTTP/2 a request queued behind long-lived watch streams on the one shared
    # connection stalled (httpcore read lock) until the watch timed out.
    return ApiClient(config, user_agent="kube-bind-backend", http2=False)


async def build_context(
    settings: ServiceSettings,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    engine: AsyncEngine | None = None,
    registry: CollectorRegistry | None = None,
) -> ServiceContext:
    """Clients and stores from ``settings``. Without ``engine`` a private one is created and the
    auth tables are created if missing (standalone use); a shared engine is expected to be
    migrated by alembic (revision ``0002_auth``)."""
    owns_engine = engine is None
    if engine is None:
        engine = create_engine(settings.database_url)
        await create_tables(engine)
    store = SessionStore(engine, clock=clock)
    lifetime = timedelta(seconds=settings.session_lifetime_seconds)
    provider = _provider_client(settings)
    ca = (
        await asyncio.to_thread(Path(settings.external_ca_file).read_bytes)
        if settings.external_ca_file
        else provider.config.ca_data
    )
    target = KubeconfigTarget(
        server=settings.external_address or provider.config.server,
        ca_pem=ca,
        tls_server_name=settings.external_server_name,
    )
    minter = Minter(
        provider,
        target=target,
        prefix=settings.namespace_prefix,
        pretty_name=settings.pretty_name,
        lifetime=timedelta(seconds=settings.credential_lifetime_seconds),
        clock=clock,
    )
    external = None
    if settings.oidc_issuer_url:
        external = OIDCClient(
            issuer=settings.oidc_issuer_url,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            scopes=settings.oidc_scopes,
            groups_claim=settings.oidc_groups_claim,
            ca_file=settings.oidc_ca_file,
            clock=clock,
        )
    return ServiceContext(
        settings=settings,
        store=store,
        tokens=TokenIssuer(store, max_lifetime=lifetime, clock=clock),
        provider=provider,
        minter=minter,
        clock=clock,
        metrics=ServiceMetrics(registry or CollectorRegistry()),
        external_oidc=external,
        owns_engine=owns_engine,
    )


def _live(request: Request) -> tuple[ServiceSettings, SessionStore]:
    ctx = get_context(request)
    return ctx.settings, ctx.store


def mount(app: FastAPI) -> None:
    """Add the handshake API, login, dev issuer and web page routes to ``app``.

    Routes find their :class:`ServiceContext` on ``app.state`` at request time (:func:`attach`),
    so an app can mount them at creation and build the context in its lifespan.
    """
    install_handlers(app)
    tmpl = templates()
    for router in (exports.router, login.router, catalog.router, bind.router, status.router):
        app.include_router(router)
    app.include_router(devissuer.build_router(tmpl, _live))
    app.include_router(pages.build_router(tmpl))
    app.mount("/web/static", StaticFiles(directory=str(WEB_DIR / "static")), name="web-static")


def attach(app: FastAPI, ctx: ServiceContext) -> None:
    app.state.kube_bind_service = ctx


@contextlib.asynccontextmanager
async def run_service(ctx: ServiceContext) -> AsyncIterator[None]:
    """Run the provider-side controllers (when enabled) for the app's lifetime."""
    stop = asyncio.Event()
    task = None
    if ctx.settings.run_controllers:
        task = asyncio.create_task(manager.run(ctx, stop), name="kube-bind-service-controllers")
    try:
        yield
    finally:
        stop.set()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await ctx.aclose()
        await ctx.provider.aclose()
        if ctx.owns_engine:
            await ctx.store.engine.dispose()


async def create_service_app(settings: ServiceSettings, **kw: object) -> FastAPI:
    ctx = await build_context(settings, **kw)  # type: ignore[arg-type]

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with run_service(ctx):
            yield

    app = FastAPI(
        title="kube-bind backend (service)",
        description="Handshake API of the kube-bind provider backend: login, catalog, bind.",
        version=settings.backend_version,
        lifespan=lifespan,
    )
    attach(app, ctx)
    mount(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
