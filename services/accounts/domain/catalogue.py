"""The online-service catalogue: what an establishment sees, may open, must keep open (guide §1.1, §1.2, §2.1)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from teleservices.accounts.domain.model import ActionRefused
from teleservices.accounts.domain.web_addresses import validate_url

UAI_PATTERN = re.compile(r"[0-9]{7}[A-Z]")
ACADEMY_CODE_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
NOT_ACTIVATED = "Les téléservices ne sont pas activés pour cet établissement."


class SiecleModule(StrEnum):
    """The SIECLE modules some online services draw their data from."""

    notes = "notes"
    evaluation = "evaluation"
    vie_scolaire = "vie_scolaire"
    emploi_du_temps = "emploi_du_temps"

    @property
    def label(self) -> str:
        """The module's name in the guide."""
        return {"notes": "Notes", "evaluation": "Évaluation", "vie_scolaire": "Vie scolaire",
                "emploi_du_temps": "Emploi du temps"}[self.value]


class Perimetre(StrEnum):
    """The national perimeters outside which a service and its menu are not shown."""

    bourse_college = "bourse_college"
    bourse_lycee = "bourse_lycee"
    emploi_du_temps = "emploi_du_temps"

    @property
    def label(self) -> str:
        """The perimeter's name, as in « le périmètre de … »."""
        return {"bourse_college": "de la bourse de collège", "bourse_lycee": "de la bourse de lycée",
                "emploi_du_temps": "de l'emploi du temps"}[self.value]


class Categorie(StrEnum):
    """The statistics category an access to a service is counted under (guide §5.3)."""

    notes = "Notes"
    vie_scolaire = "Vie scolaire"
    fiche_renseignements = "Fiche de renseignements"
    livret_scolaire = "Livret scolaire"
    paiement = "Paiement"
    bourses = "Bourses"
    emploi_du_temps = "Emploi du temps"
    inscription = "Inscription"
    services_academiques = "Services académiques"


@dataclass(frozen=True)
class NationalService:
    """An online service of the ministry, with the conditions under which it is offered."""

    code: str
    label: str
    categorie: Categorie
    mandatory: bool = False
    """Mandatory nationally: always open, cannot be closed (guide §1.2.2, version 18.1)."""
    closed_by_default: bool = False
    modules: frozenset[SiecleModule] = frozenset()
    """SIECLE modules the establishment must use to open it; greyed out otherwise."""
    perimetre: Perimetre | None = None
    """Not shown at all to establishments outside this perimeter."""


@dataclass(frozen=True)
class AcademyService:
    """A service added by the academy; an experimental one is offered to the listed establishments only."""

    code: str
    label: str
    url: str
    experimental: bool = False
    establishments: frozenset[str] = frozenset()

    @property
    def categorie(self) -> Categorie:
        """Academy services are counted together."""
        return Categorie.services_academiques


Service = NationalService | AcademyService

NOTES = NationalService("notes", "Notes", Categorie.notes, modules=frozenset({SiecleModule.notes}))
EVALUATION = NationalService("evaluation", "Évaluation", Categorie.notes, closed_by_default=True,
                             modules=frozenset({SiecleModule.evaluation}))
VIE_SCOLAIRE = NationalService("vie_scolaire", "Vie scolaire", Categorie.vie_scolaire,
                               modules=frozenset({SiecleModule.vie_scolaire}))
FICHE_RENSEIGNEMENTS = NationalService("fiche_renseignements", "Fiche de renseignements",
                                       Categorie.fiche_renseignements, mandatory=True)
LIVRET_SCOLAIRE = NationalService("livret_scolaire", "Livret scolaire (CP - 3e)", Categorie.livret_scolaire)
LIVRET_SCOLAIRE_LYCEE = NationalService("livret_scolaire_lycee", "Livret scolaire du lycée", Categorie.livret_scolaire)
INSCRIPTION_LYCEE = NationalService("inscription_lycee", "Inscription en ligne au lycée", Categorie.inscription)
PAIEMENT = NationalService("paiement", "Paiement en ligne", Categorie.paiement, closed_by_default=True)
BOURSE_COLLEGE = NationalService("bourse_college", "Bourse de collège", Categorie.bourses,
                                 perimetre=Perimetre.bourse_college)
BOURSE_LYCEE = NationalService("bourse_lycee", "Bourse de lycée", Categorie.bourses, mandatory=True,
                               perimetre=Perimetre.bourse_lycee)
EMPLOI_DU_TEMPS = NationalService("emploi_du_temps", "Emploi du temps", Categorie.emploi_du_temps,
                                  modules=frozenset({SiecleModule.emploi_du_temps}),
                                  perimetre=Perimetre.emploi_du_temps)

NATIONAL_SERVICES: tuple[NationalService, ...] = (
    NOTES, EVALUATION, VIE_SCOLAIRE, FICHE_RENSEIGNEMENTS, LIVRET_SCOLAIRE, LIVRET_SCOLAIRE_LYCEE,
    INSCRIPTION_LYCEE, PAIEMENT, BOURSE_COLLEGE, BOURSE_LYCEE, EMPLOI_DU_TEMPS,
)
"""In the order of the guide's list (§1.1)."""
NATIONAL_SERVICES_BY_CODE = {service.code: service for service in NATIONAL_SERVICES}


@dataclass(frozen=True)
class EstablishmentProfile:
    """What decides an establishment's catalogue: its SIECLE modules, its perimeters, its activation."""

    uai: str
    modules: frozenset[SiecleModule] = frozenset()
    perimetres: frozenset[Perimetre] = frozenset()
    teleservices_active: bool = False


@dataclass(frozen=True)
class ServiceAvailability:
    """How one service appears on the Ouverture / fermeture screen of one establishment."""

    visible: bool
    can_open: bool
    can_close: bool
    mandatory: bool
    reason: str | None
    """Why a button is greyed out or the service hidden, in French; None when both are usable."""


def academy_service(code: str, label: str, url: str, experimental: bool = False,
                    establishments: Iterable[str] = ()) -> AcademyService:
    """An academy service as declared by an academy operator, or ActionRefused."""
    code = code.strip()
    if not ACADEMY_CODE_PATTERN.fullmatch(code):
        raise ActionRefused("code", "Le code du service académique doit comporter de 1 à 40 caractères "
                                    "(minuscules, chiffres, « _ » ou « - »).")
    if code in NATIONAL_SERVICES_BY_CODE:
        raise ActionRefused("code", f"Le code « {code} » est déjà celui d'un service en ligne national.")
    if not label.strip():
        raise ActionRefused("label", "Le libellé du service académique est obligatoire.")
    uais = frozenset(uai.strip().upper() for uai in establishments)
    if not all(UAI_PATTERN.fullmatch(uai) for uai in uais):
        raise ActionRefused("establishments", "Chaque établissement retenu doit être désigné par son UAI "
                                              "(7 chiffres et une lettre).")
    if experimental and not uais:
        raise ActionRefused("establishments", "Un service académique expérimental doit indiquer la liste "
                                              "des établissements retenus.")
    return AcademyService(code, label.strip(), validate_url(url, "url"), experimental, uais)


def _availability(service: Service, profile: EstablishmentProfile,
                  academy_mandatory: frozenset[str]) -> ServiceAvailability:
    """Availability by the catalogue's rules alone, whether or not téléservices are activated yet."""
    if isinstance(service, AcademyService):
        if service.experimental and profile.uai not in service.establishments:
            return ServiceAvailability(False, False, False, False,
                                       f"Le service académique « {service.label} » est expérimental : il n'est "
                                       "proposé qu'aux établissements retenus par l'académie.")
    elif service.perimetre is not None and service.perimetre not in profile.perimetres:
        return ServiceAvailability(False, False, False, False,
                                   f"L'établissement n'est pas dans le périmètre {service.perimetre.label}.")
    elif missing := sorted(service.modules - profile.modules):
        module = missing[0]
        return ServiceAvailability(True, False, True, False,
                                   f"L'établissement n'utilise pas le module « {module.label} » de SIECLE : "
                                   f"le service « {service.label} » ne peut pas être ouvert.")
    if isinstance(service, NationalService) and service.mandatory:
        return ServiceAvailability(True, True, False, True,
                                   f"Le service « {service.label} » est obligatoire au niveau national : "
                                   "il reste toujours ouvert.")
    if service.code in academy_mandatory:
        return ServiceAvailability(True, True, False, True,
                                   f"Le service « {service.label} » a été rendu obligatoire par le recteur "
                                   "dans l'académie : il reste toujours ouvert.")
    return ServiceAvailability(True, True, True, False, None)


def availability(service: Service, profile: EstablishmentProfile,
                 academy_mandatory: frozenset[str]) -> ServiceAvailability:
    """Whether the establishment sees the service, and whether its open and close buttons are usable."""
    rules = _availability(service, profile, academy_mandatory)
    if profile.teleservices_active or not rules.visible:
        return rules
    return ServiceAvailability(True, False, False, rules.mandatory, NOT_ACTIVATED)


def catalogue(academy_services: Iterable[AcademyService]) -> dict[str, Service]:
    """Every service by code: the national ones in the guide's order, then the academy's (never replacing one)."""
    services: dict[str, Service] = dict(NATIONAL_SERVICES_BY_CODE)
    for service in academy_services:
        services.setdefault(service.code, service)
    return services


def default_open_services(profile: EstablishmentProfile, academy_mandatory: frozenset[str],
                          academy_services: Iterable[AcademyService]) -> frozenset[str]:
    """The services open at activation: all that can be opened except those closed by default, mandatory ones always."""
    opened = set()
    for code, service in catalogue(academy_services).items():
        rules = _availability(service, profile, academy_mandatory)
        closed_by_default = isinstance(service, NationalService) and service.closed_by_default
        if rules.mandatory or (rules.can_open and not closed_by_default):
            opened.add(code)
    return frozenset(opened)


def effective_open_services(open_services: frozenset[str], profile: EstablishmentProfile,
                            academy_mandatory: frozenset[str],
                            academy_services: Iterable[AcademyService]) -> frozenset[str]:
    """What families are actually offered: the open services that can still be opened, plus every mandatory one."""
    if not profile.teleservices_active:
        return frozenset()
    offered = set()
    for code, service in catalogue(academy_services).items():
        rules = _availability(service, profile, academy_mandatory)
        if rules.mandatory or (rules.can_open and code in open_services):
            offered.add(code)
    return frozenset(offered)


def set_service_open(open_services: frozenset[str], code: str, open: bool, profile: EstablishmentProfile,
                     academy_mandatory: frozenset[str],
                     academy_services: Iterable[AcademyService]) -> frozenset[str]:
    """The open services after the head opens or closes one (guide §2.1), or ActionRefused(field="service")."""
    if not profile.teleservices_active:
        raise ActionRefused("service", NOT_ACTIVATED)
    service = catalogue(academy_services).get(code)
    if service is None:
        raise ActionRefused("service", f"Le service en ligne « {code} » n'existe pas.")
    rules = _availability(service, profile, academy_mandatory)
    if not rules.visible:
        raise ActionRefused("service", rules.reason or "Ce service en ligne n'est pas proposé à l'établissement.")
    if open and not rules.can_open:
        raise ActionRefused("service", rules.reason or f"Le service « {service.label} » ne peut pas être ouvert.")
    if not open and not rules.can_close:
        raise ActionRefused("service", f"Le service « {service.label} » est obligatoire : il ne peut pas être fermé.")
    return open_services | {code} if open else open_services - {code}
