"""Settings of the stats service (environment prefix TELESERVICES_STATS_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from teleservices.shared.settings import ServiceSettings


class StatsSettings(ServiceSettings):
    """stats service settings."""

    model_config = SettingsConfigDict(env_prefix="TELESERVICES_STATS_", extra="ignore")

    http_port: int = 8012
