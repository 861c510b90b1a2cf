"""Composition root of the staff gateway."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from teleservices.gateway.settings import GatewaySettings
from teleservices.gateway.staff import router as staff_router
from teleservices.shared.pages import simple_page
from teleservices.shared.runtime import ServiceRuntime
from teleservices.shared.web import create_service_app


def create_app(settings: GatewaySettings) -> FastAPI:
    """Wire the gateway."""
    runtime = ServiceRuntime("gateway", settings, migrations=Path(__file__).parent / "migrations")
    app = create_service_app(runtime, title="Administration Téléservices")
    app.include_router(staff_router)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def home() -> str:
        return simple_page("Administration Téléservices", "Administration Téléservices",
                           "<p>La plateforme est démarrée. Les écrans du personnel arrivent ici.</p>")

    return app
