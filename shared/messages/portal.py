"""What happens on the families' portal (portal-auth → accounts, stats)."""

from __future__ import annotations

import uuid
from datetime import datetime

from teleservices.shared.messages.envelope import Event, message


@message("portal.FirstConnectionCompleted")
class FirstConnectionCompleted(Event):
    """A family member chose a password (and, for a representative, gave an email to validate)."""

    account_id: uuid.UUID
    email: str | None
    at: datetime


@message("portal.ActivationConfirmed")
class ActivationConfirmed(Event):
    """A representative clicked the activation link: the account is in use."""

    account_id: uuid.UUID
    email: str
    at: datetime


@message("portal.EmailValidated")
class EmailValidated(Event):
    """An account's email address was validated through its link (pupil's optional email, a change)."""

    account_id: uuid.UUID
    email: str
    at: datetime


@message("portal.LoggedIn")
class LoggedIn(Event):
    """A real (not simulated) login."""

    account_id: uuid.UUID
    at: datetime


@message("portal.ServiceOpened")
class ServiceOpened(Event):
    """A family member opened a service tile (for the access statistics)."""

    account_id: uuid.UUID
    uai: str
    service: str
    at: datetime


@message("portal.AccountsGrouped")
class AccountsGrouped(Event):
    """A representative grouped another child's account into his own; the other account is closed."""

    account_id: uuid.UUID
    grouped_account_id: uuid.UUID
    at: datetime
