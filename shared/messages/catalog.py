"""Messages exchanged between services. Commands are imperative, events are in the past tense."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from teleservices.shared.messages.envelope import Command, Event, message


class Channel(StrEnum):
    """How a letter reaches its recipient."""

    email = "email"
    paper = "paper"


class LetterVariant(StrEnum):
    """Which letter is sent (guide §2.8.1)."""

    nouveau_compte = "nouveau_compte"
    rappel_identifiant = "rappel_identifiant"


class Population(StrEnum):
    """Whose account it is."""

    eleve = "eleve"
    responsable = "responsable"


class Recipient(BaseModel):
    """Who a letter goes to: names and addresses, as the accounts service holds them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    civilite: str | None = None
    nom: str
    prenom: str
    email: str | None = None
    address_lines: tuple[str, ...] = ()


@message("notifier.SendNotification")
class SendNotification(Command):
    """Deliver one account's notification letter by the given channel."""

    notification_id: uuid.UUID
    account_id: uuid.UUID
    uai: str
    population: Population
    channel: Channel
    variant: LetterVariant
    identifiant: str
    establishment_name: str
    services_url: str
    recipient: Recipient
    eleve_nom: str | None = None
    eleve_prenom: str | None = None
    division: str | None = None
    sealed_password: str | None = None
    redriven: bool = False
    """Sent again because its result never came back: if it was delivered, the result is reported again."""
    """The temporary password sealed with the transit key (never in clear on a topic)."""


class EstablishmentHeader(BaseModel):
    """What a letter's header and footer say about the establishment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    academy: str
    town: str | None = None
    address_lines: tuple[str, ...] = ()
    phone: str | None = None
    email: str | None = None
    chef: str | None = None


@message("notifier.NotifyBatch")
class NotifyBatch(Command):
    """Deliver one job of a campaign: at most a few hundred letters of one division."""

    campaign_id: uuid.UUID
    uai: str
    division: str
    chunk: int
    establishment: EstablishmentHeader
    templates: dict[str, str] = Field(default_factory=dict)
    """The establishment's customised letter texts (TemplatePart → text); defaults for the others."""
    letters: tuple[SendNotification, ...]
    redriven: bool = False
    """Sent again because the campaign made no progress: letters already delivered report their result again."""


@message("notifier.SendActivationEmail")
class SendActivationEmail(Command):
    """Send (again) a representative's activation link to the address he gave or staff corrected."""

    notification_id: uuid.UUID
    account_id: uuid.UUID
    uai: str
    identifiant: str
    establishment_name: str
    email: str
    activation_url: str


@message("notifier.SendFreeEmail")
class SendFreeEmail(Command):
    """Send a free email written by staff to one person (each recipient gets his own)."""

    notification_id: uuid.UUID
    account_id: uuid.UUID
    uai: str
    establishment_name: str
    reply_to: str | None
    email: str
    subject: str
    body: str
    redriven: bool = False
    """Sent again because its result never came back: if it was delivered, the result is reported again."""


@message("notifier.NotificationDelivered")
class NotificationDelivered(Event):
    """A notification letter was accepted by the SMTP server or printed into a PDF."""

    notification_id: uuid.UUID
    account_id: uuid.UUID
    channel: Channel
    delivered_at: datetime


@message("notifier.NotificationFailed")
class NotificationFailed(Event):
    """A notification could not be delivered; nothing changes for the account."""

    notification_id: uuid.UUID
    account_id: uuid.UUID
    channel: Channel
    reason: str
    permanent: bool


@message("accounts.AccountCreated")
class AccountCreated(Event):
    """An account was pre-created (state Non notifié)."""

    account_id: uuid.UUID
    uai: str
    population: Population
    identifiant: str


@message("accounts.AccountStateChanged")
class AccountStateChanged(Event):
    """An account moved from one state to another."""

    account_id: uuid.UUID
    uai: str
    population: Population
    previous_state: str
    state: str
    cause: str
    changed_at: datetime


@message("accounts.EstablishmentCreated")
class EstablishmentCreated(Event):
    """An academy operator created an establishment (the import may now feed it)."""

    uai: str
    name: str
    academy: str


@message("accounts.IdentifierChanged")
class IdentifierChanged(Event):
    """Staff gave a person a new account: a new identifier replaces the old one."""

    account_id: uuid.UUID
    replaced_account_id: uuid.UUID
    uai: str
    identifiant: str


@message("accounts.EstablishmentSettingsChanged")
class EstablishmentSettingsChanged(Event):
    """An establishment's settings changed (services open, welcome message, letters…): effective at once."""

    uai: str
    group: str
    values: dict[str, Any]


@message("accounts.AcademySettingsChanged")
class AcademySettingsChanged(Event):
    """An academy's lists or switches changed (grouping, academy services, ENT links…)."""

    academy: str
    values: dict[str, Any]


@message("accounts.TemporaryCredentialIssued")
class TemporaryCredentialIssued(Event):
    """A temporary password took effect; only its argon2id hash travels, for the portal."""

    account_id: uuid.UUID
    identifiant: str
    password_hash: str
    issued_at: datetime


@message("shared.MessageDeadLettered")
class MessageDeadLettered(Event):
    """A consumer gave up on a message after repeated failures; it is kept for replay."""

    consumer: str
    topic: str
    partition: int
    offset: int
    raw: str
    """The original message, base64."""
    error: str


@message("accounts.AccountAttached")
class AccountAttached(Event):
    """An account now gives access to a pupil of an establishment (pre-creation, grouping, continuity)."""

    account_id: uuid.UUID
    uai: str
    eleve_id: str
    personne_id: str | None
    population: Population
    at: datetime


@message("accounts.AccountDetached")
class AccountDetached(Event):
    """An account no longer gives access to a pupil of an establishment (departure, grouping, closing)."""

    account_id: uuid.UUID
    uai: str
    eleve_id: str
    population: Population
    at: datetime


@message("accounts.PersonalDataPurged")
class PersonalDataPurged(Event):
    """The purge after departure (ENT regulatory act, art. 6) deleted these accounts, pupils and persons of an
    establishment: every service deletes what it holds about them. One per establishment and run, keyed by UAI;
    each account is also announced alone, keyed by its id, after its own events (its closing among them)."""

    uai: str
    account_ids: list[uuid.UUID]
    eleve_ids: list[str]
    personne_ids: list[str]
    at: datetime
