"""Retention periods of issue 10 defined in one place, and every retention figure the platform's jobs apply."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from teleservices.shared.settings import Environment


class RetentionSettings(BaseSettings):
    """Retention periods shared by several services (environment prefix TELESERVICES_RETENTION_).

    The purge after departure (every service) and the connection-log purge (portal) read them from here.
    """

    model_config = SettingsConfigDict(env_prefix="TELESERVICES_RETENTION_", extra="ignore")

    departure_purge_days: int = Field(default=90, ge=1, le=92)
    """A pupil who left, or a person with no pupil left, is erased this long after the import that saw it
    (ENT regulatory act, art. 6: within three months)."""
    connection_log_days: int = Field(default=365, ge=1, le=366)
    """Connection logs and access statistics are purged or anonymised after this long (CNIL 2021-122: 6 months
    to 1 year)."""


@dataclass(frozen=True)
class RetentionFigures:
    """Every retention period in force, as the purge and expiry jobs read it."""

    notified_expiry_days: int
    unused_expiry_days: int
    document_retention_days: int
    siecle_archive_days: int
    outbox_retention_days: dict[str, int]
    departure_purge_days: int
    connection_log_days: int


def current_retention() -> RetentionFigures:
    """Read the periods from the same settings classes (and environment) the services' jobs use."""
    from teleservices.accounts.settings import AccountsSettings
    from teleservices.notifier.settings import NotifierSettings
    from teleservices.sync.settings import SyncSettings

    # Only retention figures are read here: the secrets check of a running service does not apply.
    accounts = AccountsSettings(environment=Environment.development)
    notifier = NotifierSettings(environment=Environment.development)
    sync = SyncSettings(environment=Environment.development)
    shared = RetentionSettings()
    return RetentionFigures(
        notified_expiry_days=accounts.notified_expiry_days,
        unused_expiry_days=accounts.unused_expiry_days,
        document_retention_days=notifier.document_retention_days,
        siecle_archive_days=sync.archive_retention_days,
        outbox_retention_days={"accounts": accounts.outbox_retention_days, "sync": sync.outbox_retention_days,
                               "notifier": notifier.outbox_retention_days},
        departure_purge_days=shared.departure_purge_days,
        connection_log_days=shared.connection_log_days,
    )
