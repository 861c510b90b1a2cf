"""Composition root of the family portal (Scolarité services)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from teleservices.portal_auth.settings import PortalAuthSettings
from teleservices.shared.pages import simple_page
from teleservices.shared.runtime import ServiceRuntime
from teleservices.shared.web import create_service_app


def create_app(settings: PortalAuthSettings) -> FastAPI:
    """Wire the portal."""
    runtime = ServiceRuntime("portal-auth", settings)
    app = create_service_app(runtime, title="Scolarité services")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def home() -> str:
        return simple_page("Scolarité services", "Scolarité services",
                           "<p>Le portail des familles est en cours de mise en service.</p>")

    return app
