"""The portal's pure rules: what a password opens, the password policy, dates, addresses, throttling delays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from teleservices.portal_auth.domain import (
    Access,
    Credential,
    ThrottlePolicy,
    normalise_email,
    parse_birth_date,
    password_problem,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("state", "expected"), [
    ("Non notifié", (None, None)),
    ("Notifié", ("temp", Access.premiere_connexion)),
    ("En cours d'activation", ("chosen", Access.attente_activation)),
    ("Utilisé", ("chosen", Access.normale)),
])
def test_the_temporary_password_works_only_while_notifie(state: str, expected: tuple[object, object]) -> None:
    assert Credential(state, "responsable", "temp", "chosen").hash_to_check() == expected


@pytest.mark.parametrize(("password", "confirmation", "problem"), [
    ("Cartable2024", "Cartable2024", None),
    ("Cartable2024", "Cartable2025", "différents"),
    ("Court1", "Court1", "au moins 10"),
    ("sanschiffres", "sanschiffres", "une lettre et un chiffre"),
    ("1234567890", "1234567890", "une lettre et un chiffre"),
    ("jean.dupont1", "jean.dupont1", "différent de l'identifiant"),
    ("a1" * 65, "a1" * 65, "au plus 128"),
])
def test_password_policy(password: str, confirmation: str, problem: str | None) -> None:
    found = password_problem(password, confirmation, "Jean.Dupont1")
    assert (found is None) if problem is None else (problem in (found or ""))


@pytest.mark.parametrize(("typed", "expected"), [
    ("28/02/2011", date(2011, 2, 28)), ("8/2/2011", date(2011, 2, 8)), (" 28.02.2011 ", date(2011, 2, 28)),
    ("2011-02-28", date(2011, 2, 28)), ("31/02/2011", None), ("28/02/11", None), ("", None), ("demain", None),
])
def test_birth_dates_as_families_type_them(typed: str, expected: date | None) -> None:
    assert parse_birth_date(typed) == expected


@pytest.mark.parametrize(("typed", "expected"), [
    (" parent@exemple.fr ", "parent@exemple.fr"), ("p.a+r@sous.exemple.fr", "p.a+r@sous.exemple.fr"),
    ("parent@exemple", None), ("pas une adresse", None), ("a@b@c.fr", None), ("<a@b.fr>", None),
])
def test_email_addresses(typed: str, expected: str | None) -> None:
    assert normalise_email(typed) == expected


def test_identifier_delays_grow_then_lock_temporarily_then_block_at_the_hard_limit() -> None:
    policy = ThrottlePolicy()
    assert policy.identifier_wait(3, NOW, None, NOW) is None
    assert policy.identifier_wait(4, NOW, None, NOW) == 1
    assert policy.identifier_wait(8, NOW, None, NOW) == 16
    assert policy.identifier_wait(9, NOW, None, NOW) == 32
    assert policy.identifier_wait(30, NOW - timedelta(seconds=59), None, NOW) == 1  # capped at 60 s
    assert policy.identifier_wait(9, NOW - timedelta(seconds=40), None, NOW) is None
    assert policy.lock_after(10, NOW) == NOW + timedelta(minutes=15) and policy.lock_after(11, NOW) is None
    assert policy.identifier_wait(10, NOW, NOW + timedelta(minutes=15), NOW) == 900
    assert policy.identifier_wait(99, NOW - timedelta(hours=1), None, NOW) is None
    assert policy.identifier_wait(100, NOW - timedelta(days=30), None, NOW) == float("inf")


def test_a_client_address_has_a_loose_budget_per_window() -> None:
    policy = ThrottlePolicy(address_failures=300, address_window_s=900)
    assert policy.address_wait(299, NOW, NOW) is None
    assert policy.address_wait(300, NOW, NOW + timedelta(minutes=5)) == 600
    assert policy.address_wait(300, NOW - timedelta(minutes=16), NOW) is None
