"""Settings of the portal-auth service (environment prefix TELESERVICES_PORTAL_AUTH_)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from teleservices.shared.settings import ServiceSettings


class PortalAuthSettings(ServiceSettings):
    """portal-auth service settings."""

    model_config = SettingsConfigDict(env_prefix="TELESERVICES_PORTAL_AUTH_", extra="ignore")

    http_port: int = 8001
    public_url: str = "http://127.0.0.1:8001"
    """The portal's address as families reach it (in the links it emails)."""
    accounts_url: str = Field(default="http://127.0.0.1:8010", validation_alias=AliasChoices(
        "TELESERVICES_PORTAL_AUTH_ACCOUNTS_URL", "TELESERVICES_ACCOUNTS_URL", "accounts_url"))
    """The accounts service (its read-only internal API); the platform-wide TELESERVICES_ACCOUNTS_URL will do."""
    services_url: str = "https://teleservices.education.gouv.fr/services"
    """Where the national services (notes, emploi du temps…) live; a tile opens `{services_url}/{code}`."""
    activation_link_ttl_s: int = 72 * 3600
    email_validation_link_ttl_s: int = 72 * 3600
    reset_link_ttl_s: int = 3600
    session_ttl_s: int = 8 * 3600
    """A session ends this long after its last request."""
    simulation_ttl_s: int = 1800
    cookie_secure: bool = True
    """Secure cookies (HTTPS only); switched off only to test over plain http."""
    throttle_free_failures: int = 3
    """Consecutive failures per identifier before delays start."""
    throttle_max_delay_s: int = 60
    throttle_lock_every: int = 10
    """A temporary lock after every this many consecutive failures of one identifier."""
    throttle_lock_s: int = 900
    throttle_hard_limit: int = 100
    """At this many consecutive failures the password stops working until a reset link is used."""
    throttle_address_failures: int = 300
    """Failures per client address within the window before that address is slowed (a school behind one NAT)."""
    throttle_address_window_s: int = 900
    hash_workers: int = 2
    """Threads verifying argon2id hashes (the CPU-heavy part of a login)."""
