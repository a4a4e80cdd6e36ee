"""The ASGI application behind `govarchive serve`: FastAPI routes over one read-only Store.

`create_app` wires the parts: pages (server-side Jinja2 templates, no script), the archived bytes
(originals and attachments read from the WARC files), Atom feeds, the JSON API and its OpenAPI
description, the bundled stylesheet, and the security middleware every response passes through.
FastAPI's own documentation pages are left out: they load their script from a CDN.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.exceptions import HTTPException as StarletteHTTPException

from archive import __version__
from archive.store import Store
from archive.web import api, archived, feeds, pages, templating
from archive.web.replay_link import ReplayLink
from archive.web.security import SecurityMiddleware
from archive.web.warcfiles import WarcFiles
from archive.web.webarchive import BadRequest, NotFound, WebArchive, archive_of

STATIC_DIR = Path(__file__).with_name("static")


def create_app(
    store: Store,
    warc_dir: Path | None = None,
    *,
    replay_url: str | None = None,
    allowed_hosts: Iterable[str] | None = None,
) -> FastAPI:
    """The web interface over `store` (only read), with archived bytes from `warc_dir`."""
    app = FastAPI(
        title="govarchive",
        version=__version__,
        description="Read-only access to archived Chinese government disclosure reports: search, "
        "reports, versions, archived originals and attachments.",
        docs_url=None,
        redoc_url=None,
    )
    env = Environment(
        loader=PackageLoader("archive.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templating.install(env)
    app.state.archive = WebArchive(store, WarcFiles(warc_dir), ReplayLink(replay_url), env)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (pages, archived, feeds, api):
        app.include_router(module.router)
    _error_handlers(app)
    app.add_middleware(SecurityMiddleware, allowed_hosts=allowed_hosts)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    titles = {400: "请求有误 Bad request", 404: "未找到 Not found", 405: "不支持 Method not allowed"}
    return archive_of(request).render(
        "error.html", status, status=status, title=titles.get(status, f"错误 {status}"), message=message, q=""
    )


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return _error(request, 404, str(exc))

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest) -> Response:
        return _error(request, 400, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: f"no page at {request.url.path}"}.get(exc.status_code, str(exc.detail))
        response = _error(request, exc.status_code, message)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors())
        return _error(request, 400, problems or "invalid request")
