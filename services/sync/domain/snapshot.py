"""An establishment as the platform knows it from SIECLE: the shape both the last import and a new export take."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from teleservices.shared.messages.siecle import EleveData, PersonneData
from teleservices.sync.siecle.export import SiecleExport
from teleservices.sync.siecle.model import Adresse

FRANCE = "100"


@dataclass
class Snapshot:
    """Present pupils, the persons linked to them, and the links with their responsibility level."""

    eleves: dict[str, EleveData] = field(default_factory=dict)
    personnes: dict[str, PersonneData] = field(default_factory=dict)
    liens: dict[tuple[str, str], int | None] = field(default_factory=dict)
    """(eleve_id, personne_id) → responsibility level (1: légal representative)."""


def address_lines(adresse: Adresse | None) -> tuple[str, ...]:
    """A postal address as the lines of a letter's address block."""
    if adresse is None:
        return ()
    town = " ".join(part for part in (adresse.code_postal, adresse.commune) if part)
    country = adresse.pays if adresse.code_pays and adresse.code_pays != FRANCE else None
    return tuple(line for line in (*adresse.lignes, town, country) if line)


def snapshot_of(export: SiecleExport, previous: Snapshot | None = None) -> Snapshot:
    """What a valid export says the establishment holds now (departed pupils left out).

    A "Sans adresses" export carries no address: the addresses of the previous import are kept.
    """
    libelles = {mef.code_mef: mef.libelle_long for mef in export.mefs}
    eleves = {
        e.eleve_id: EleveData(
            eleve_id=e.eleve_id, ine=e.ine or None, nom=e.nom_usage or e.nom, prenom=e.prenom,
            date_naissance=e.date_naissance, division=e.division, groupes=tuple(sorted(e.groupes)),
            code_mef=e.code_mef, libelle_mef=libelles.get(e.code_mef or ""), code_regime=e.code_regime,
            email=e.email or None)
        for e in export.eleves if not e.parti
    }
    has_addresses = any(p.adresse is not None for p in export.personnes)
    kept: Mapping[str, PersonneData] = previous.personnes if previous else {}
    liens = {(link.eleve_id, link.personne_id): (int(link.niveau_responsabilite) if link.niveau_responsabilite
                                                 else None)
             for link in export.liens if link.eleve_id in eleves}
    linked = {personne_id for _, personne_id in liens}
    personnes = {}
    for p in export.personnes:
        if p.personne_id not in linked:
            continue
        lines = address_lines(p.adresse) if has_addresses else (
            kept[p.personne_id].address_lines if p.personne_id in kept else ())
        phones = tuple(t for t in (p.telephones.portable, p.telephones.personnel, p.telephones.professionnel) if t)
        personnes[p.personne_id] = PersonneData(
            personne_id=p.personne_id, civilite=p.civilite, nom=p.nom_usage or p.nom, prenom=p.prenom,
            email=p.email or None, address_lines=lines, telephones=phones)
    return Snapshot(eleves, personnes, liens)
