"""The services of the platform and how to build each one (imported lazily: one process runs one service)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from fastapi import FastAPI

from teleservices.shared.settings import ServiceSettings


@dataclass(frozen=True)
class ServiceSpec:
    """Where a service's settings class and composition root live."""

    name: str
    module: str
    settings_class: str

    def settings(self) -> ServiceSettings:
        """Load the service's settings from the environment."""
        cls: type[ServiceSettings] = getattr(importlib.import_module(f"{self.module}.settings"), self.settings_class)
        return cls()

    def create_app(self, settings: ServiceSettings) -> FastAPI:
        """Build the service's app from its settings."""
        app: FastAPI = importlib.import_module(f"{self.module}.app").create_app(settings)
        return app


SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec("accounts", "teleservices.accounts", "AccountsSettings"),
        ServiceSpec("notifier", "teleservices.notifier", "NotifierSettings"),
        ServiceSpec("sync", "teleservices.sync", "SyncSettings"),
        ServiceSpec("stats", "teleservices.stats", "StatsSettings"),
        ServiceSpec("portal-auth", "teleservices.portal_auth", "PortalAuthSettings"),
        ServiceSpec("gateway", "teleservices.gateway", "GatewaySettings"),
    )
}
