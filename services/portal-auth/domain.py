"""The portal's rules, without I/O: who may log in how, the password policy, dates, throttling delays."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

NON_NOTIFIE, NOTIFIE, EN_COURS, UTILISE = "Non notifié", "Notifié", "En cours d'activation", "Utilisé"
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128
PASSWORD_POLICY = (f"Au moins {PASSWORD_MIN_LENGTH} caractères, dont au moins une lettre et un chiffre ; "
                   "différent de votre identifiant et de votre mot de passe provisoire.")
_EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$")
_FR_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


class Access(StrEnum):
    """What a correct password opens."""

    premiere_connexion = "premiere_connexion"
    """The temporary password of a Notifié account: only the first-connection form."""
    attente_activation = "attente_activation"
    """A representative who chose his password and has not clicked his activation link yet."""
    normale = "normale"


@dataclass(frozen=True)
class Credential:
    """What the portal knows to let someone in."""

    state: str
    population: str | None
    temp_password_hash: str | None
    password_hash: str | None

    def hash_to_check(self) -> tuple[str | None, Access | None]:
        """The hash the typed password must match, and what it then opens (None: nothing can)."""
        if self.state == NOTIFIE:
            return self.temp_password_hash, Access.premiere_connexion
        if self.state == EN_COURS:
            return self.password_hash, Access.attente_activation
        if self.state == UTILISE:
            return self.password_hash, Access.normale
        return None, None


def password_problem(password: str, confirmation: str, identifiant: str) -> str | None:
    """Why a chosen password is refused (French, for the form), or None."""
    if password != confirmation:
        return "Les deux mots de passe saisis sont différents."
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"Le mot de passe doit comporter au moins {PASSWORD_MIN_LENGTH} caractères."
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"Le mot de passe doit comporter au plus {PASSWORD_MAX_LENGTH} caractères."
    if not re.search(r"[^\W\d_]", password) or not re.search(r"\d", password):
        return "Le mot de passe doit comporter au moins une lettre et un chiffre."
    if password.lower() == identifiant.lower():
        return "Le mot de passe doit être différent de l'identifiant."
    return None


def parse_birth_date(text: str) -> date | None:
    """A date typed as jj/mm/aaaa (or aaaa-mm-jj, as a date field sends it); None when it is not one."""
    if match := _FR_DATE.match(text or ""):
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO_DATE.match(text or ""):
        year, month, day = (int(g) for g in match.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def normalise_email(text: str) -> str | None:
    """The address trimmed, or None when it is not a plausible email address."""
    value = (text or "").strip()
    if len(value) > 254 or not _EMAIL.match(value):
        return None
    return value


@dataclass(frozen=True)
class ThrottlePolicy:
    """Progressive delays then temporary locks per identifier; a loose budget per client address."""

    free_failures: int = 3
    max_delay_s: int = 60
    lock_every: int = 10
    lock_s: int = 900
    hard_limit: int = 100
    address_failures: int = 300
    address_window_s: int = 900

    def identifier_wait(self, failures: int, last_failure: datetime, locked_until: datetime | None,
                        now: datetime) -> float | None:
        """Seconds before the next attempt on an identifier may be made (inf: blocked until a reset); None: now."""
        if failures >= self.hard_limit:
            return float("inf")
        if locked_until is not None and locked_until > now:
            return (locked_until - now).total_seconds()
        if failures > self.free_failures:
            delay = min(2 ** (failures - self.free_failures - 1), self.max_delay_s)
            ready = last_failure + timedelta(seconds=delay)
            if ready > now:
                return (ready - now).total_seconds()
        return None

    def lock_after(self, failures: int, now: datetime) -> datetime | None:
        """The temporary lock that this failure count starts, if any."""
        if failures % self.lock_every == 0:
            return now + timedelta(seconds=self.lock_s)
        return None

    def address_wait(self, failures: int, window_start: datetime, now: datetime) -> float | None:
        """Seconds before a client address that failed too often within the window may try again."""
        window_end = window_start + timedelta(seconds=self.address_window_s)
        if failures >= self.address_failures and window_end > now:
            return (window_end - now).total_seconds()
        return None
