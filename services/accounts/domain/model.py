"""Accounts and the binding rules: staff action × state → password, letter, resulting state."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
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

    def _move(self, state: AccountState, cause: str, at: datetime) -> None:
        if state is not self.state:
            self.changes.append(StateChange(self.state, state, cause, at))
            self.state = state
