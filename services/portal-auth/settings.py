"""Settings of the portal-auth service (environment prefix TELESERVICES_PORTAL_AUTH_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from teleservices.shared.settings import ServiceSettings


class PortalAuthSettings(ServiceSettings):
    """portal-auth service settings."""

    model_config = SettingsConfigDict(env_prefix="TELESERVICES_PORTAL_AUTH_", extra="ignore")

    http_port: int = 8001
