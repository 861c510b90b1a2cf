"""Settings of the sync service (environment prefix TELESERVICES_SYNC_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from teleservices.shared.settings import ServiceSettings


class SyncSettings(ServiceSettings):
    """sync service settings."""

    model_config = SettingsConfigDict(env_prefix="TELESERVICES_SYNC_", extra="ignore")

    http_port: int = 8011
