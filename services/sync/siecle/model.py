"""What the platform keeps from a SIECLE/BEE export: pupils, persons, their links, structures and nomenclatures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Final


class ExportKind(StrEnum):
    """The four BEE exports, named by their root element."""

    eleves = "BEE_ELEVES"
    responsables = "BEE_RESPONSABLES"
    nomenclatures = "BEE_NOMENCLATURES"
    structures = "BEE_STRUCTURES"


CHAMPS_CONSERVES: Final = MappingProxyType({
    "PARAMETRES": frozenset({"UAJ", "ANNEE_SCOLAIRE", "DATE_EXPORT", "HORODATAGE"}),
    "ELEVE": frozenset({
        "ID_NATIONAL", "NOM_DE_FAMILLE", "NOM", "NOM_USAGE", "PRENOM", "DATE_NAISS", "CODE_MEF", "CODE_REGIME",
        "DATE_ENTREE", "DATE_SORTIE", "MEL", "ADRESSE_ID",
    }),
    "STRUCTURE": frozenset({"CODE_STRUCTURE", "TYPE_STRUCTURE"}),
    "ADRESSE": frozenset({
        "LIGNE1_ADRESSE", "LIGNE2_ADRESSE", "LIGNE3_ADRESSE", "LIGNE4_ADRESSE", "CODE_POSTAL", "LIBELLE_POSTAL",
        "COMMUNE_ETRANGERE", "CODE_PAYS", "LL_PAYS",
    }),
    "PERSONNE": frozenset({
        "LC_CIVILITE", "NOM_DE_FAMILLE", "NOM", "NOM_USAGE", "PRENOM", "MEL", "TEL_PERSONNEL", "TEL_PORTABLE",
        "TEL_PROFESSIONNEL", "ADRESSE_ID",
    }),
    "RESPONSABLE_ELEVE": frozenset({"ELEVE_ID", "PERSONNE_ID", "NIVEAU_RESPONSABILITE", "RESP_LEGAL", "CODE_PARENTE"}),
    "MEF": frozenset({"FORMATION", "LIBELLE_LONG", "CODE_MEFSTAT"}),
    "REGIME": frozenset({"LIBELLE_COURT", "LIBELLE_LONG"}),
    "DIVISION": frozenset({"LIBELLE_LONG"}),
    "GROUPE": frozenset({"LIBELLE_LONG"}),
})
"""The only child elements read, by parent element (identifiers come from the attributes ELEVE_ID, PERSONNE_ID,
ADRESSE_ID, CODE_MEF, CODE_REGIME, CODE_STRUCTURE). Everything else stays in the file."""

CHAMPS_JAMAIS_CONSERVES: Final = frozenset({
    "VILLE_NAISS", "CODE_COMMUNE_INSEE_NAISS", "CODE_DEPARTEMENT_NAISS", "CODE_PAYS", "CODE_PAYS_NAT",
})
"""A pupil's place of birth and nationality: never read from ELEVE (an ADRESSE's CODE_PAYS is its country)."""


class CategorieRegime(StrEnum):
    """The three catering/boarding categories shown to staff."""

    externe = "Externe"
    demi_pensionnaire = "Demi-pensionnaire"
    interne = "Interne"


_CATEGORIES_PAR_CHIFFRE: Final = {
    "0": CategorieRegime.externe, "1": CategorieRegime.externe,
    "2": CategorieRegime.demi_pensionnaire, "6": CategorieRegime.demi_pensionnaire,
    "3": CategorieRegime.interne, "4": CategorieRegime.interne, "5": CategorieRegime.interne,
}


def categorie_regime(code_regime: str) -> CategorieRegime:
    """Category of a SIECLE regime code, from its first digit (29 TICKET is demi-pensionnaire, 38 is interne)."""
    categorie = _CATEGORIES_PAR_CHIFFRE.get(code_regime.strip()[:1])
    if categorie is None:
        raise ValueError(f"code régime inconnu : « {code_regime} »")
    return categorie


class NiveauResponsabilite(IntEnum):
    """NIVEAU_RESPONSABILITE of the model used since 2018."""

    representant_legal = 1
    personne_en_charge = 2
    personne_a_contacter = 3


@dataclass(frozen=True, slots=True)
class Adresse:
    """A postal address (only in the "Avec adresses" exports)."""

    lignes: tuple[str, ...]
    """LIGNE1_ADRESSE to LIGNE4_ADRESSE, the non-empty ones in order."""
    code_postal: str | None
    commune: str | None
    """LIBELLE_POSTAL, or COMMUNE_ETRANGERE for an address abroad."""
    code_pays: str | None
    pays: str | None
    """LL_PAYS."""


@dataclass(frozen=True, slots=True)
class Eleve:
    """A pupil as the platform keeps it (absent optional tag → None, empty tag → "")."""

    eleve_id: str
    ine: str | None
    nom: str
    nom_usage: str
    prenom: str
    date_naissance: date | None
    code_mef: str | None
    code_regime: str | None
    date_entree: date | None
    date_sortie: date | None
    """None when absent or 31/12/9999 ("no end")."""
    email: str | None
    division: str | None
    """The one structure of TYPE_STRUCTURE D; None when there is none or several."""
    groupes: tuple[str, ...]
    adresse: Adresse | None
    parti: bool
    """DATE_SORTIE is before the import's day: the import makes the pupil leave."""


@dataclass(frozen=True, slots=True)
class Telephones:
    """A person's phone numbers as written in SIECLE (e.g. +33231204444)."""

    personnel: str | None
    portable: str | None
    professionnel: str | None


@dataclass(frozen=True, slots=True)
class Personne:
    """A person of the responsables file (parent, guardian, contact)."""

    personne_id: str
    civilite: str | None
    nom: str
    nom_usage: str
    prenom: str
    email: str | None
    telephones: Telephones
    adresse: Adresse | None


@dataclass(frozen=True, slots=True)
class Lien:
    """A RESPONSABLE_ELEVE link between a pupil and a person."""

    eleve_id: str
    personne_id: str
    niveau_responsabilite: NiveauResponsabilite | None
    """From NIVEAU_RESPONSABILITE, or RESP_LEGAL 1/2 → 1 in older files (RESP_LEGAL 0 → None)."""
    code_parente: str | None

    @property
    def representant_legal(self) -> bool:
        """The person is a legal representative of the pupil (the one who gets an account)."""
        return self.niveau_responsabilite is NiveauResponsabilite.representant_legal


@dataclass(frozen=True, slots=True)
class Division:
    """A class (TYPE_STRUCTURE D) of Structures.xml."""

    code: str
    libelle: str | None
    mefs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Groupe:
    """A teaching group (TYPE_STRUCTURE G) of Structures.xml."""

    code: str
    libelle: str | None
    divisions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Mef:
    """A MEF (module élémentaire de formation) of Nomenclature.xml."""

    code_mef: str
    formation: str | None
    libelle_long: str | None
    code_mefstat: str | None


@dataclass(frozen=True, slots=True)
class Regime:
    """A regime of Nomenclature.xml (labels change over the years: always take them from the file)."""

    code: str
    libelle_court: str | None
    libelle_long: str | None


@dataclass(frozen=True, slots=True)
class ExportHeader:
    """The PARAMETRES of one export file."""

    kind: ExportKind
    file: str
    uaj: str
    annee_scolaire: int
    """Start year of the school year (2024 for 2024-2025)."""
    date_export: date | None
    horodatage: datetime | None
    """Naive, in French legal time as written by SIECLE."""
