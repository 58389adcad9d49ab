"""The composition root: settings in, adapters built, use cases wired, the ASGI app out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route as StarletteRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from esign import __version__, startup
from esign.api import openapi
from esign.api.router import Dispatcher, method_not_allowed
from esign.api.routes import ROUTES
from esign.config import Settings
from esign.identity.crypto import ScryptPasswordHasher, ServerCipher
from esign.jobs.queue import JobEngine
from esign.notify.webhook_http import HttpWebhookTransport
from esign.pdf.convert import OfficeConverter
from esign.pdf.inspect import PikePdfInspector
from esign.pdf.pipeline import PdfPipeline
from esign.pdf.render import PdfiumPageRenderer
from esign.pdf.upload_check import UploadFileChecker
from esign.services.context import Deps, Limits
from esign.storage.blobs import LocalBlobStore
from esign.storage.database import sqlite_url
from esign.storage.unit_of_work import SqlUnitOfWorkFactory

log = logging.getLogger("esign")


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    deps: Deps
    jobs: JobEngine


def build_runtime(settings: Settings, *, clock: Any = None, migrate: bool = True) -> Runtime:
    startup.ready_data_dir(settings.data_dir)
    engine = startup.open_database(settings.database_url or sqlite_url(settings.data_dir))
    generated = startup.key_file_to_make(settings)
    cipher = ServerCipher(startup.master_key(settings))
    if migrate:
        # Checked before too: a migration may encrypt with the key (a database that predates
        # the check, or a new one, has nothing to compare with yet).
        startup.check_key(engine, cipher.digest, generated)
        startup.migrate(engine, cipher)
    else:
        startup.check_schema(engine)
    startup.check_key(engine, cipher.digest, generated)
    limits = Limits(
        max_session_bytes=settings.max_session_mb * 1024 * 1024,
        max_pages=settings.max_pages,
        blob_grace=timedelta(seconds=settings.blob_grace_seconds),
    )
    holder: dict[str, Deps] = {}
    job_engine = JobEngine(startup.job_queue(settings), lambda: holder["deps"])
    deps = Deps(
        uow=SqlUnitOfWorkFactory(engine, job_engine, seal=cipher.digest),
        clock=clock or SystemClock(),
        cipher=cipher,
        passwords=ScryptPasswordHasher(),
        blobs=LocalBlobStore(settings.data_dir / "blobs"),
        pdf=PikePdfInspector(max_pages=limits.max_pages),
        uploads=UploadFileChecker(max_pages=limits.max_pages),
        webhooks=HttpWebhookTransport(settings.webhook_allow_private, settings.webhook_allow_hosts),
        # LibreOffice starts on the first Word file, one per process, in its own profile.
        processor=PdfPipeline(
            OfficeConverter(settings.data_dir / "office"),
            limits.max_pages,
            settings.data_dir / "work",
        ),
        renderer=PdfiumPageRenderer(),
        public_url=settings.public_url,
        limits=limits,
    )
    holder["deps"] = deps
    return Runtime(settings, engine, deps, job_engine)


def build_app(runtime: Runtime) -> ASGIApp:
    dispatcher = Dispatcher(
        runtime.deps,
        ROUTES,
        runtime.settings.max_body_mb * 1024 * 1024,
        runtime.settings.request_threads or (2 if runtime.engine.dialect.name == "sqlite" else 8),
    )
    spec = openapi.document(ROUTES, __version__)
    page = openapi.html_page(ROUTES)

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(spec)

    async def docs(request: Request) -> Response:
        return HTMLResponse(page)

    async def root(request: Request) -> Response:
        return RedirectResponse("/docs")

    pages = Starlette(
        routes=[
            StarletteRoute("/", root),
            StarletteRoute("/openapi.json", openapi_json),
            StarletteRoute("/docs", docs),
        ],
        exception_handlers={405: _page_refusal},
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        # Every other HTTP path is the API's, which answers unknown ones in its envelope.
        if scope["type"] == "http" and scope["path"] not in _PAGES:
            await dispatcher(scope, receive, send)
        else:
            await pages(scope, receive, send)

    return app


_PAGES = frozenset({"/", "/openapi.json", "/docs"})


async def _page_refusal(request: Request, exc: Exception) -> Response:
    """A page asked with another method than GET: the API's 405, as everywhere else."""
    return method_not_allowed(request.method, "GET")
