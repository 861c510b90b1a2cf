"""ENT et courrier de notification: which address the letters give, and the link to the ENT (guide §2.8)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from teleservices.accounts.domain.model import ActionRefused
from teleservices.accounts.domain.web_addresses import validate_url


class TypeCourrier(StrEnum):
    """The type of notification letter, in the guide's words."""

    teleservices = "Téléservices"
    mixte = "Mixte ENT/Téléservices"
    ent_seul = "ENT seul"


@dataclass(frozen=True)
class LienEntPredefini:
    """An ENT link from the list the academy defines."""

    id: str
    libelle: str
    url: str


@dataclass(frozen=True)
class EntEtCourrier:
    """The letter type and the establishment's ENT: one of the academy's links, or its own address."""

    type_courrier: TypeCourrier = TypeCourrier.teleservices
    lien_ent_predefini: LienEntPredefini | None = None
    lien_ent_specifique: str | None = None

    @property
    def ent_url(self) -> str | None:
        """The ENT address printed in « ENT seul » letters and linked from the portal."""
        if self.lien_ent_predefini is not None:
            return self.lien_ent_predefini.url
        return self.lien_ent_specifique


def configure_ent_et_courrier(type_courrier: TypeCourrier, liens_predefinis: Iterable[LienEntPredefini],
                              lien_ent_predefini: str | None = None,
                              lien_ent_specifique: str | None = None) -> EntEtCourrier:
    """The validated choice, or ActionRefused("lien_ent"); with « Téléservices » no ENT link is kept."""
    if type_courrier is TypeCourrier.teleservices:
        return EntEtCourrier(type_courrier)
    chosen_id = (lien_ent_predefini or "").strip()
    own_url = (lien_ent_specifique or "").strip()
    if chosen_id and own_url:
        raise ActionRefused("lien_ent", "Choisir soit un lien ENT prédéfini par l'académie, soit l'adresse de "
                                        "l'ENT spécifique à l'établissement, pas les deux.")
    if chosen_id:
        predefined = next((lien for lien in liens_predefinis if lien.id == chosen_id), None)
        if predefined is None:
            raise ActionRefused("lien_ent", "Ce lien ENT ne fait pas partie de la liste prédéfinie par l'académie.")
        return EntEtCourrier(type_courrier, lien_ent_predefini=predefined)
    if own_url:
        return EntEtCourrier(type_courrier, lien_ent_specifique=validate_url(own_url, "lien_ent"))
    raise ActionRefused("lien_ent", f"Le type de courrier « {type_courrier} » nécessite un lien ENT : choisir "
                                    "un lien ENT prédéfini ou saisir le lien ENT spécifique à l'établissement.")


def adresse_des_services(type_courrier: TypeCourrier, portal_url: str, ent_url: str | None) -> str:
    """The single address printed in notification letters: Scolarité services, or the ENT for « ENT seul »."""
    if type_courrier is not TypeCourrier.ent_seul:
        return portal_url
    if not ent_url:
        raise ActionRefused("lien_ent", "Le type de courrier « ENT seul » nécessite un lien ENT.")
    return ent_url


def shows_ent_tile(type_courrier: TypeCourrier) -> bool:
    """Whether Scolarité services links to the ENT (« Mixte » and « ENT seul »; never with « Téléservices »)."""
    return type_courrier is not TypeCourrier.teleservices
