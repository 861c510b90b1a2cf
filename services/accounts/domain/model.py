"""Accounts and the binding rules: staff action × state → password, letter, resulting state."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from teleservices.shared.messages.catalog import Channel, LetterVariant, Population


class AccountState(StrEnum):
    """Account states, in the guide's words (§1.4.1)."""

    non_notifie = "Non notifié"
    notifie = "Notifié"
    en_cours_activation = "En cours d'activation"
    utilise = "Utilisé"


class ActionRefused(Exception):
    """A staff action that the account's state or the establishment does not allow."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotAllowed(ActionRefused):
    """The staff member's role or delegation does not allow the action."""


@dataclass(frozen=True)
class NotificationPlan:
    """What a launched notification will do once delivered."""

    notification_id: uuid.UUID
    channel: Channel
    variant: LetterVariant
    new_password: bool
    """A new temporary password is drawn (it takes effect only on delivery)."""
    keeps_current_password: bool
    """The letter carries the temporary password already in force."""


@dataclass(frozen=True)
class StateChange:
    """A state change and why, for the history."""

    previous: AccountState
    state: AccountState
    cause: str
    at: datetime


@dataclass
class Account:
    """One online-service account of a pupil or a legal representative in an establishment."""

    id: uuid.UUID
    uai: str
    population: Population
    identifiant: str
    state: AccountState = AccountState.non_notifie
    notified_at: datetime | None = None
    notification_channel: Channel | None = None
    last_access_at: datetime | None = None
    email: str | None = None
    """The account's own address: validated, or awaiting validation when `email_validated` is False."""
    email_validated: bool = False
    continuity: bool = False
    closed_at: datetime | None = None
    changes: list[StateChange] = field(default_factory=list)

    def plan_notification(self, channel: Channel, reset_password: bool = False) -> NotificationPlan:
        """Apply the binding table to a notify, renotify or "réinitialiser et notifier" action."""
        if self.population is Population.eleve and channel is not Channel.paper:
            raise ActionRefused("mode", "les élèves sont notifiés par courrier papier uniquement")
        state = self.state
        if state is AccountState.utilise and not reset_password:
            variant, new_password, keeps = LetterVariant.rappel_identifiant, False, False
        elif state is AccountState.notifie and not reset_password:
            variant, new_password, keeps = LetterVariant.nouveau_compte, False, True
        else:
            variant, new_password, keeps = LetterVariant.nouveau_compte, True, False
        return NotificationPlan(uuid.uuid4(), channel, variant, new_password, keeps)

    def notification_delivered(self, plan_variant: LetterVariant, channel: Channel, at: datetime) -> None:
        """A letter reached its recipient: the state and the 3-month clock move now."""
        self.notified_at = at
        self.notification_channel = channel
        if plan_variant is LetterVariant.nouveau_compte:
            self._move(AccountState.notifie, "notification délivrée", at)

    def first_connection(self, at: datetime, email: str | None) -> None:
        """The holder chose a password: a representative awaits his activation link, a pupil is done."""
        if self.state is not AccountState.notifie:
            return
        if self.population is Population.responsable:
            self.email, self.email_validated = email, False
            self._move(AccountState.en_cours_activation, "première connexion", at)
        else:
            if email:
                self.email, self.email_validated = email, False
            self._move(AccountState.utilise, "première connexion", at)
        self.last_access_at = at

    def activation_confirmed(self, at: datetime, email: str) -> None:
        """A representative clicked his activation link."""
        if self.state is AccountState.en_cours_activation:
            self.email, self.email_validated = email, True
            self._move(AccountState.utilise, "lien d'activation confirmé", at)

    def email_validated_at(self, email: str) -> None:
        """An address was validated through its link."""
        self.email, self.email_validated = email, True

    def logged_in(self, at: datetime) -> None:
        """A real login: the last access date moves (never for a simulated session)."""
        if self.last_access_at is None or at > self.last_access_at:
            self.last_access_at = at

    def ensure_can_simulate(self) -> None:
        """Simulated access exists only for accounts in use (guide §3.2.1)."""
        if self.state is not AccountState.utilise:
            raise ActionRefused("etat", "la simulation n'est accessible que pour les comptes à l'état « Utilisé »")

    def ensure_can_resend_activation(self) -> None:
        """The activation email exists only for a representative awaiting activation."""
        if self.population is not Population.responsable:
            raise ActionRefused("population", "le courriel d'activation ne concerne que les comptes responsables")
        if self.state is not AccountState.en_cours_activation:
            raise ActionRefused("etat",
                                "le courriel d'activation n'est renvoyé qu'aux comptes « En cours d'activation »")

    def expires_at(self, notified_delay: timedelta, unused_delay: timedelta) -> datetime | None:
        """When the account will be deleted if nothing happens (guide §1.4.1: 3 months, 1 year)."""
        if self.state in (AccountState.notifie, AccountState.en_cours_activation) and self.notified_at:
            return self.notified_at + notified_delay
        if self.state is AccountState.utilise:
            reference = self.last_access_at or self.notified_at
            return reference + unused_delay if reference else None
        return None

    def close(self, cause: str, at: datetime) -> None:
        """The account is deleted: its identifier is retired and never reused."""
        if self.closed_at is None:
            self.closed_at = at
            self._move(AccountState.non_notifie, cause, at)

    def _move(self, state: AccountState, cause: str, at: datetime) -> None:
        if state is not self.state:
            self.changes.append(StateChange(self.state, state, cause, at))
            self.state = state
