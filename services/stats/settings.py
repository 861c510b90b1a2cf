"""Settings of the stats service (environment prefix TELESERVICES_STATS_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from teleservices.shared.settings import ServiceSettings


class StatsSettings(ServiceSettings):
    """stats service settings."""

    model_config = SettingsConfigDict(env_prefix="TELESERVICES_STATS_", extra="ignore")

    http_port: int = 8012
    school_year_start_month: int = Field(default=9, ge=1, le=12)
    """A school year starts on the 1st of this month ("année courante" of the representatives' synthesis)."""
    notified_expiry_days: int = 92
    """As the accounts service: Notifié / En cours d'activation accounts expire this long after notification."""
    unused_expiry_days: int = 365
    """As the accounts service: Utilisé accounts expire after this long without a login."""
    expiring_within_days: int = 15
    """The "accounts due to expire" table looks this far ahead."""
