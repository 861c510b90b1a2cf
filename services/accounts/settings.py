"""Settings of the accounts service (environment prefix TELESERVICES_ACCOUNTS_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from teleservices.shared.settings import ServiceSettings


class AccountsSettings(ServiceSettings):
    """Accounts service settings."""

    model_config = SettingsConfigDict(env_prefix="TELESERVICES_ACCOUNTS_", extra="ignore")

    http_port: int = 8010
    portal_url: str = "http://127.0.0.1:8001"
    activation_link_ttl_s: int = 72 * 3600
    notified_expiry_days: int = 92
    """Notifié / En cours d'activation accounts are deleted this long after their last notification."""
    unused_expiry_days: int = 365
    """Utilisé accounts are deleted after this long without a login."""
    campaign_stuck_after_s: int = 600
    """A campaign with letters pending and no result for this long has its pending jobs sent again."""
    campaign_watch_every_s: int = 60
