"""Settings of the gateway service (environment prefix TELESERVICES_GATEWAY_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from teleservices.shared.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    """gateway service settings."""

    model_config = SettingsConfigDict(env_prefix="TELESERVICES_GATEWAY_", extra="ignore")

    http_port: int = 8000
