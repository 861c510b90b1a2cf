"""The portal's Contact page and Liens utiles page of an establishment (guide §2.9, §2.10)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from teleservices.accounts.domain.model import ActionRefused
from teleservices.accounts.domain.web_addresses import validate_url

LIBELLE_MAX_LENGTH = 255


@dataclass(frozen=True)
class ContactEtablissement:
    """The mailbox where the establishment receives messages from the « Contact » page, and whether it is shown."""

    adresse_contact: str | None
    actif: bool

    @property
    def shown_address(self) -> str | None:
        """The address the Contact page shows besides the postal address and the telephone."""
        return self.adresse_contact if self.actif else None


def configure_contact(adresse_contact: str | None, actif: bool,
                      adresses_etablissement: Sequence[str]) -> ContactEtablissement:
    """The contact link, chosen among the establishment's addresses (module Commun, Paramètres généraux)."""
    if not adresses_etablissement:
        raise ActionRefused("adresse_contact", "Aucune adresse de messagerie n'est définie pour l'établissement "
                                               "(module Commun, menu Paramètres généraux) : la liste déroulante "
                                               "et le bouton « Valider » sont grisés.")
    if not (adresse_contact or "").strip():
        if actif:
            raise ActionRefused("adresse_contact", "Choisir l'adresse de messagerie du lien de contact.")
        return ContactEtablissement(None, actif=False)
    chosen = (adresse_contact or "").strip()
    known = {_comparable(address): address for address in adresses_etablissement}
    if _comparable(chosen) not in known:
        raise ActionRefused("adresse_contact", "L'adresse de contact doit être l'une des adresses de messagerie "
                                               "de l'établissement.")
    return ContactEtablissement(known[_comparable(chosen)], actif)


def _comparable(address: str) -> str:
    local, _, domain = address.strip().rpartition("@")
    return f"{local}@{domain.lower()}"


@dataclass(frozen=True)
class LienUtile:
    """A link of the « Liens utiles » page: its description (libellé) and its address."""

    id: uuid.UUID
    libelle: str
    url: str


def _lien(lien_id: uuid.UUID, libelle: str, url: str) -> LienUtile:
    libelle = libelle.strip()
    if not libelle:
        raise ActionRefused("libelle", "La description du lien (libellé) est obligatoire.")
    if len(libelle) > LIBELLE_MAX_LENGTH:
        raise ActionRefused("libelle", f"La description du lien est limitée à {LIBELLE_MAX_LENGTH} caractères.")
    if not url.strip():
        raise ActionRefused("url", "L'adresse internet (url) du lien est obligatoire.")
    return LienUtile(lien_id, libelle, validate_url(url, "url"))


@dataclass(frozen=True)
class LiensUtiles:
    """The « Liens utiles » page, displayed in the order the links were created."""

    liens: tuple[LienUtile, ...] = ()

    def add(self, libelle: str, url: str) -> tuple[LiensUtiles, LienUtile]:
        """The page with a new link at the end (the « + » icon), and that link."""
        lien = _lien(uuid.uuid4(), libelle, url)
        return LiensUtiles((*self.liens, lien)), lien

    def update(self, lien_id: uuid.UUID, libelle: str, url: str) -> LiensUtiles:
        """The page with one link changed in place."""
        self._require(lien_id)
        changed = _lien(lien_id, libelle, url)
        return LiensUtiles(tuple(changed if lien.id == lien_id else lien for lien in self.liens))

    def remove(self, lien_id: uuid.UUID) -> LiensUtiles:
        """The page without one link; the others keep their order."""
        self._require(lien_id)
        return LiensUtiles(tuple(lien for lien in self.liens if lien.id != lien_id))

    def _require(self, lien_id: uuid.UUID) -> None:
        if all(lien.id != lien_id for lien in self.liens):
            raise ActionRefused("lien", "Ce lien utile n'existe pas.")
