"""Settings of the notifier service (environment prefix TELESERVICES_NOTIFIER_)."""

from __future__ import annotations

from pydantic import Field, SecretStr
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
    smtp_use_tls: bool = False
    smtp_validate_certs: bool = True
    smtp_ca_file: str | None = None
    """A private CA for the SMTP server's certificate; None: the system's."""
    smtp_local_hostname: str | None = None
    smtp_pool_size: int = 8
    smtp_recycle_after: int = 100
    smtp_max_idle_s: float = 30.0
    smtp_rate_per_s: float | None = None
    """At most this many emails per second per worker (None: no limit)."""
    smtp_rate_burst: int = 1
    smtp_max_attempts: int = 3
    smtp_base_delay_s: float = 0.5
    smtp_max_delay_s: float = 5.0
    smtp_auth_retry_after_s: float = 60.0
    document_retention_days: int = 7
    """Letters' PDFs are deleted after this many days."""
    pdf_processes: int = 1
    """Processes rendering PDF letters (CPU-bound); scale out by adding notifier workers."""
    pdf_render_slots: int | None = Field(default=None, ge=0)
    """PDF renders at once among the notifier workers of this host (those sharing `pdf_render_slots_dir`): None, one
    per core; 0, no limit. More renders than cores print fewer letters, not more."""
    pdf_render_slots_dir: str | None = None
    """The directory the workers of a host share for their render slots (None: one in the temporary directory)."""
    pdf_niceness: int = Field(default=10, ge=0, le=19)
    """How much the render processes lower their CPU priority (nice): on shared cores the portal's and the APIs'
    requests go first and rendering takes what is left; no effect on a machine with idle cores."""
    portal_url: str = "http://127.0.0.1:8001"
    """The families' portal, for the QR code of new-account letters."""
    email_concurrency: int = 8
    """Emails of one job sent at once (the pool must hold at least this many connections)."""
    sender: str = "Scolarité services <ne-pas-repondre@teleservices.example>"
    message_id_domain: str = "teleservices.example"
