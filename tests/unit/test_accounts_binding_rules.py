"""The binding table: staff action × account state → password, letter, resulting state."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from teleservices.accounts.domain.model import Account, AccountState, ActionRefused, StateChange
from teleservices.shared.messages.catalog import Channel, LetterVariant, Population

NON_NOTIFIE = AccountState.non_notifie
NOTIFIE = AccountState.notifie
EN_COURS = AccountState.en_cours_activation
UTILISE = AccountState.utilise

DELIVERED_AT = datetime(2025, 9, 15, 10, 30, tzinfo=UTC)
EARLIER = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    """One cell of the binding table."""

    state: AccountState
    reset_password: bool
    variant: LetterVariant
    new_password: bool
    keeps_current_password: bool
    state_after: AccountState

    def __str__(self) -> str:
        action = "reinitialiser-et-notifier" if self.reset_password else "notifier"
        return f"{self.state.name}-{action}"


BINDING_TABLE = [
    # Non notifié: a new temporary password, letter "nouveau compte", → Notifié (both actions).
    Row(NON_NOTIFIE, False, LetterVariant.nouveau_compte, True, False, NOTIFIE),
    Row(NON_NOTIFIE, True, LetterVariant.nouveau_compte, True, False, NOTIFIE),
    # Notifié: renotify keeps the password in force; reset draws a new one; stays Notifié.
    Row(NOTIFIE, False, LetterVariant.nouveau_compte, False, True, NOTIFIE),
    Row(NOTIFIE, True, LetterVariant.nouveau_compte, True, False, NOTIFIE),
    # En cours d'activation: a new temporary password, → Notifié (both actions).
    Row(EN_COURS, False, LetterVariant.nouveau_compte, True, False, NOTIFIE),
    Row(EN_COURS, True, LetterVariant.nouveau_compte, True, False, NOTIFIE),
    # Utilisé: a reminder of the identifier without password, stays Utilisé; reset → new password, Notifié.
    Row(UTILISE, False, LetterVariant.rappel_identifiant, False, False, UTILISE),
    Row(UTILISE, True, LetterVariant.nouveau_compte, True, False, NOTIFIE),
]


def _account(state: AccountState, population: Population = Population.responsable) -> Account:
    return Account(id=uuid.uuid4(), uai="0750001A", population=population, identifiant="philippe.dupont1",
                   state=state)


def _channels(population: Population) -> list[Channel]:
    return [Channel.paper] if population is Population.eleve else [Channel.email, Channel.paper]


CASES = [
    pytest.param(row, population, channel, id=f"{row}-{population.value}-{channel.value}")
    for row in BINDING_TABLE
    for population in Population
    for channel in _channels(population)
]


@pytest.mark.parametrize(("row", "population", "channel"), CASES)
def test_binding_table(row: Row, population: Population, channel: Channel) -> None:
    account = _account(row.state, population)

    plan = account.plan_notification(channel, reset_password=row.reset_password)

    assert plan.channel is channel
    assert plan.variant is row.variant
    assert plan.new_password is row.new_password
    assert plan.keeps_current_password is row.keeps_current_password
    assert account.state is row.state, "nothing changes before the letter is delivered"
    assert account.changes == []

    account.notification_delivered(plan.variant, channel, DELIVERED_AT)

    assert account.state is row.state_after
    assert account.notified_at == DELIVERED_AT
    assert account.notification_channel is channel
    if row.state_after is row.state:
        assert account.changes == []
    else:
        [change] = account.changes
        assert change == StateChange(row.state, row.state_after, change.cause, DELIVERED_AT)
        assert change.cause


def test_a_letter_never_both_draws_and_keeps_a_password() -> None:
    for row in BINDING_TABLE:
        plan = _account(row.state).plan_notification(Channel.paper, reset_password=row.reset_password)
        assert not (plan.new_password and plan.keeps_current_password)
        if plan.variant is LetterVariant.rappel_identifiant:
            assert not plan.new_password and not plan.keeps_current_password


def test_reset_password_always_draws_a_new_password_and_sends_nouveau_compte() -> None:
    for state in AccountState:
        plan = _account(state).plan_notification(Channel.email, reset_password=True)
        assert (plan.variant, plan.new_password, plan.keeps_current_password) == (
            LetterVariant.nouveau_compte, True, False)


@pytest.mark.parametrize("state", list(AccountState))
@pytest.mark.parametrize("reset_password", [False, True])
def test_pupils_are_notified_on_paper_only(state: AccountState, reset_password: bool) -> None:
    account = _account(state, Population.eleve)

    with pytest.raises(ActionRefused) as refused:
        account.plan_notification(Channel.email, reset_password=reset_password)

    assert refused.value.field == "mode"
    assert refused.value.reason
    assert account.state is state
    assert account.plan_notification(Channel.paper, reset_password=reset_password).channel is Channel.paper


def test_each_plan_has_its_own_notification_id() -> None:
    account = _account(NON_NOTIFIE)
    first = account.plan_notification(Channel.email)
    second = account.plan_notification(Channel.email)
    assert first.notification_id != second.notification_id


def test_redelivery_moves_the_clock_and_channel_but_records_no_change() -> None:
    account = _account(NON_NOTIFIE)
    account.notification_delivered(LetterVariant.nouveau_compte, Channel.email, EARLIER)
    assert [(c.previous, c.state, c.at) for c in account.changes] == [(NON_NOTIFIE, NOTIFIE, EARLIER)]

    plan = account.plan_notification(Channel.paper)
    account.notification_delivered(plan.variant, Channel.paper, DELIVERED_AT)

    assert account.state is NOTIFIE
    assert account.notified_at == DELIVERED_AT
    assert account.notification_channel is Channel.paper
    assert len(account.changes) == 1


def test_reminder_to_a_used_account_keeps_its_history() -> None:
    account = _account(UTILISE)
    plan = account.plan_notification(Channel.email)

    account.notification_delivered(plan.variant, Channel.email, DELIVERED_AT)

    assert account.state is UTILISE
    assert account.changes == []
    assert (account.notified_at, account.notification_channel) == (DELIVERED_AT, Channel.email)
