"""Staff REST API of the accounts service (/api/v1), scoped by the staff token."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from teleservices.accounts.actions import Busy
from teleservices.accounts.api import academies, accounts, campaigns, establishments, operations, settings
from teleservices.accounts.domain.model import ActionRefused, NotAllowed
from teleservices.accounts.repository import AlreadyExists, NotFound


def install(app: FastAPI) -> None:
    """Mount the routers and turn domain errors into 4xx answers naming the field."""
    app.include_router(establishments.router)
    app.include_router(accounts.router)
    app.include_router(operations.router)
    app.include_router(settings.router)
    app.include_router(academies.router)
    app.include_router(campaigns.router)

    @app.exception_handler(NotAllowed)
    async def not_allowed(request: Request, exc: NotAllowed) -> JSONResponse:
        return JSONResponse({"detail": {"field": exc.field, "reason": exc.reason}}, status_code=403)

    @app.exception_handler(ActionRefused)
    async def refused(request: Request, exc: ActionRefused) -> JSONResponse:
        return JSONResponse({"detail": {"field": exc.field, "reason": exc.reason}}, status_code=409)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        return JSONResponse({"detail": {"field": "compte", "reason": "ce compte est en cours de modification ;"
                                                                      " réessayez"}}, status_code=409)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": "Introuvable."}, status_code=404)

    @app.exception_handler(AlreadyExists)
    async def exists(request: Request, exc: AlreadyExists) -> JSONResponse:
        return JSONResponse({"detail": {"field": "uai", "reason": "existe déjà"}}, status_code=409)
