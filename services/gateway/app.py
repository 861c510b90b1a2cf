"""Composition root of the staff gateway: the staff web UI in front of the services' staff APIs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from teleservices.gateway import auth, screens
from teleservices.gateway.backend import Backend, BackendError
from teleservices.gateway.oidc import OidcClient
from teleservices.gateway.sessions import SessionStore
from teleservices.gateway.settings import GatewaySettings
from teleservices.gateway.staff import router as staff_router
from teleservices.gateway.web import LoginRequired, PageError, error_reason, render
from teleservices.shared.runtime import ServiceRuntime
from teleservices.shared.web import create_service_app

HERE = Path(__file__).parent
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none';"
       " frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self' {oidc}")
_STATUS_TITLES = {400: "Demande refusée", 403: "Accès refusé", 404: "Page introuvable", 409: "Conflit",
                  413: "Fichier trop volumineux", 422: "Saisie refusée", 503: "Service indisponible"}


def create_app(settings: GatewaySettings) -> FastAPI:
    """Wire the gateway."""
    runtime = ServiceRuntime("gateway", settings, migrations=HERE / "migrations")
    app = create_service_app(runtime, title="Administration Téléservices")
    backend = Backend({"accounts": settings.accounts_url, "sync": settings.sync_url, "stats": settings.stats_url},
                      settings.notifiers, settings.secrets.staff_token_key.get_secret_value())
    app.state.backend = backend
    app.state.oidc = OidcClient(settings.oidc) if settings.oidc.enabled else None

    async def open_sessions() -> None:
        app.state.sessions = SessionStore(runtime.db, timedelta(minutes=settings.session_idle_minutes),
                                          timedelta(hours=settings.session_max_hours))

    async def nothing() -> None:
        return None

    runtime.resource(open_sessions, nothing)
    runtime.resource(nothing, backend.close)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(staff_router)
    app.include_router(auth.router)
    for router in screens.routers():
        app.include_router(router)
    csp = CSP.format(oidc=settings.oidc.issuer if settings.oidc.enabled else "").strip()

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault("content-security-policy", csp)
        response.headers["x-content-type-options"] = "nosniff"
        response.headers["referrer-policy"] = "same-origin"
        response.headers.setdefault("x-frame-options", "SAMEORIGIN")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("cache-control", "no-store")
        return response

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = "/connexion" + (f"?suite={exc.next_url}" if exc.next_url != "/" else "")
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        return await render(None, request, "error.html", status=exc.status, title=exc.title, message=exc.message)

    @app.exception_handler(BackendError)
    async def backend_error(request: Request, exc: BackendError) -> Response:
        status = 404 if exc.status == 404 else exc.status if exc.status in _STATUS_TITLES else 503
        message = ("Cette page n'existe pas ou vous n'y avez pas accès." if status == 404 else error_reason(exc))
        return await render(None, request, "error.html", status=status, title=_STATUS_TITLES[status], message=message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            from fastapi.exception_handlers import http_exception_handler

            return await http_exception_handler(request, exc)
        status = exc.status_code if exc.status_code in _STATUS_TITLES else 400
        message = ("Cette page n'existe pas ou vous n'y avez pas accès." if status == 404
                   else str(exc.detail) if isinstance(exc.detail, str) else "La demande n'a pas pu être traitée.")
        return await render(None, request, "error.html", status=status, title=_STATUS_TITLES[status],
                            message=message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith("/api/"):
            from fastapi.exception_handlers import request_validation_exception_handler

            return await request_validation_exception_handler(request, exc)
        fields = ", ".join(str(e["loc"][-1]) for e in exc.errors())
        return await render(None, request, "error.html", status=422, title="Saisie refusée",
                            message=f"Champ(s) refusé(s) : {fields}.")

    return app
