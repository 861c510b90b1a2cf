"""Settings of the notifier service (environment prefix TELESERVICES_NOTIFIER_)."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from teleservices.shared.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    """Notifier settings: where and how emails leave."""

    model_config = SettingsConfigDict(env_prefix="TELESERVICES_NOTIFIER_", extra="ignore")

    http_port: int = 0
    """0: any free port (several notifier workers run side by side and expose no fixed port)."""
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = 30.0
    sender: str = "Scolarité services <ne-pas-repondre@teleservices.example>"
    message_id_domain: str = "teleservices.example"
