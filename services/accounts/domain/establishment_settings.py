"""Settings of the online services of an establishment: Notes, Paiement, Emploi du temps, Bourses (§2.2–§2.6).

The portal and letter settings (§2.7–§2.10) and the address checks live in their own modules and are re-exported
here, so that this module is the one entry point for an establishment's settings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from teleservices.accounts.domain.contact_et_liens import (
    ContactEtablissement,
    LiensUtiles,
    LienUtile,
    configure_contact,
)
from teleservices.accounts.domain.ent_et_courrier import (
    EntEtCourrier,
    LienEntPredefini,
    TypeCourrier,
    adresse_des_services,
    configure_ent_et_courrier,
    shows_ent_tile,
)
from teleservices.accounts.domain.message_accueil import (
    MESSAGE_MAX_LENGTH,
    MessageAccueil,
    sanitise_message_html,
    write_message_accueil,
)
from teleservices.accounts.domain.model import ActionRefused
from teleservices.accounts.domain.web_addresses import validate_email, validate_url

__all__ = [
    "MESSAGE_MAX_LENGTH", "BourseCollege", "BourseLycee", "ConfigurationNotes", "ContactEtablissement",
    "DatePublication", "EmploiDuTemps", "EntEtCourrier", "LienEntPredefini", "LienUtile", "LiensUtiles",
    "MessageAccueil", "PaiementEnLigne", "PublicationNotes", "TipiMatch", "TypeCourrier", "adresse_des_services",
    "check_tipi", "configure_bourse_college", "configure_bourse_lycee", "configure_contact",
    "configure_emploi_du_temps", "configure_ent_et_courrier", "configure_paiement", "sanitise_message_html",
    "shows_ent_tile", "validate_email", "validate_url", "write_message_accueil",
]

NOMBRE_SEMAINES_MIN, NOMBRE_SEMAINES_MAX = 1, 10
_TIPI_NUMBER = re.compile(r"[0-9]{1,6}")
_AMOUNT = re.compile(r"[0-9]{1,9}(?:[.,][0-9]{1,2})?")
_CENT = Decimal("0.01")


def _service_closed(label: str) -> ActionRefused:
    return ActionRefused("service", f"Le service {label} est fermé : le paramétrage n'est pas modifiable.")


class PublicationNotes(StrEnum):
    """When notes reach families (guide §2.2)."""

    au_fil_de_l_eau = "au_fil_de_l_eau"
    """Each contrôle is published the day after it is entered, for the whole establishment."""
    a_echeance = "a_echeance"
    """Only notes whose publication date has reached the échéance set per MEF and division are shown."""


@dataclass(frozen=True, order=True)
class DatePublication:
    """An échéance: notes of this MEF and division are published up to this date."""

    code_mef: str
    division: str
    date: date


@dataclass(frozen=True)
class ConfigurationNotes:
    """Configuration Notes; kept as it is while the Notes service is closed, for later use."""

    publication: PublicationNotes = PublicationNotes.au_fil_de_l_eau
    dates: tuple[DatePublication, ...] = ()
    """Sorted by MEF, division and date."""

    def with_publication(self, publication: PublicationNotes, service_open: bool) -> ConfigurationNotes:
        """The configuration with another publication mode; the échéances are kept."""
        if not service_open:
            raise _service_closed("Notes")
        try:
            return replace(self, publication=PublicationNotes(publication))
        except ValueError:
            raise ActionRefused("publication", "Le type de publication doit être « au fil de l'eau » "
                                               "ou « à échéance ».") from None

    def add_date(self, code_mef: str, division: str, echeance: date, divisions: frozenset[str],
                 service_open: bool) -> ConfigurationNotes:
        """The configuration with one more échéance (the « + » button)."""
        if not service_open:
            raise _service_closed("Notes")
        if not code_mef.strip():
            raise ActionRefused("code_mef", "Le MEF est obligatoire.")
        if division not in divisions:
            raise ActionRefused("division", f"La division « {division} » n'existe pas dans l'établissement.")
        added = DatePublication(code_mef.strip(), division, echeance)
        if added in self.dates:
            raise ActionRefused("date", "Cette date de publication existe déjà pour ce MEF et cette division.")
        return replace(self, dates=tuple(sorted((*self.dates, added))))

    def remove_date(self, code_mef: str, division: str, echeance: date, service_open: bool) -> ConfigurationNotes:
        """The configuration without this échéance (the « - » button)."""
        if not service_open:
            raise _service_closed("Notes")
        removed = DatePublication(code_mef.strip(), division, echeance)
        if removed not in self.dates:
            raise ActionRefused("date", "Cette date de publication n'existe pas pour ce MEF et cette division.")
        return replace(self, dates=tuple(d for d in self.dates if d != removed))


@dataclass(frozen=True)
class TipiMatch:
    """A TIPI client number found in the academy's reference list, shown for confirmation."""

    number: str
    label: str


@dataclass(frozen=True)
class PaiementEnLigne:
    """Paiement en ligne des factures: the DDFIP's TIPI client, the minimum amount, the contact address."""

    numero_tipi: str
    libelle_tipi: str
    montant_minimum: Decimal
    adresse_messagerie: str


def check_tipi(number: str, reference: Mapping[str, str]) -> TipiMatch:
    """The reference entry for a TIPI client number (first step: the head confirms it), or ActionRefused."""
    number = number.strip()
    if not _TIPI_NUMBER.fullmatch(number):
        raise ActionRefused("numero_tipi", "Le numéro de client TIPI ne comporte que des chiffres (6 au plus).")
    if number not in reference:
        raise ActionRefused("numero_tipi", "Le numéro de client TIPI n'a pas été trouvé dans le référentiel.")
    return TipiMatch(number, reference[number])


def _montant(value: Decimal | int | str) -> Decimal:
    refused = ActionRefused("montant_minimum", "Le montant minimum doit être un nombre positif ou nul, "
                                               "avec au plus deux décimales.")
    if isinstance(value, bool):
        raise refused
    if isinstance(value, str):
        typed = value.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
        if not _AMOUNT.fullmatch(typed):
            raise refused
        value = typed.replace(",", ".")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise refused from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(_CENT):
        raise refused
    return amount.quantize(_CENT)


def configure_paiement(numero_tipi: str, montant_minimum: Decimal | int | str, adresse_messagerie: str,
                       reference: Mapping[str, str]) -> PaiementEnLigne:
    """The confirmed Paiement en ligne settings, or ActionRefused naming the wrong field."""
    match = check_tipi(numero_tipi, reference)
    return PaiementEnLigne(match.number, match.label, _montant(montant_minimum),
                           validate_email(adresse_messagerie, "adresse_messagerie"))


@dataclass(frozen=True)
class EmploiDuTemps:
    """How many weeks of timetable the service shows, the current one included."""

    nombre_semaines: int = 1


def configure_emploi_du_temps(nombre_semaines: int, service_open: bool) -> EmploiDuTemps:
    """The Emploi du temps settings; not editable while the service is closed."""
    if not service_open:
        raise _service_closed("Emploi du temps")
    if (isinstance(nombre_semaines, bool) or not isinstance(nombre_semaines, int)
            or not NOMBRE_SEMAINES_MIN <= nombre_semaines <= NOMBRE_SEMAINES_MAX):
        raise ActionRefused("nombre_semaines", f"Le nombre de semaines affichées doit être compris entre "
                                               f"{NOMBRE_SEMAINES_MIN} et {NOMBRE_SEMAINES_MAX}, "
                                               "semaine en cours comprise.")
    return EmploiDuTemps(nombre_semaines)


@dataclass(frozen=True)
class BourseCollege:
    """The contact address shown in the « Bourse de collège » service."""

    adresse_messagerie: str


@dataclass(frozen=True)
class BourseLycee:
    """The optional contact address of the « Bourse de lycée » service."""

    adresse_messagerie: str | None = None

    @property
    def shows_contact_tab(self) -> bool:
        """The « Nous contacter » tab exists only when an address is set."""
        return self.adresse_messagerie is not None


def configure_bourse_college(adresse_messagerie: str | None) -> BourseCollege:
    """The Bourse de collège settings: the contact address is required."""
    return BourseCollege(validate_email(adresse_messagerie, "adresse_messagerie"))


def configure_bourse_lycee(adresse_messagerie: str | None) -> BourseLycee:
    """The Bourse de lycée settings: the contact address is optional."""
    if not (adresse_messagerie or "").strip():
        return BourseLycee()
    return BourseLycee(validate_email(adresse_messagerie, "adresse_messagerie"))
