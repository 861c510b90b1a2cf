"""What the SIECLE/BEE import found changed, one event per change (sync → accounts, stats).

Every event is keyed by the establishment's UAI, so one establishment's changes arrive in order:
a person before the links that name it, a pupil before his representatives.
"""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict

from teleservices.shared.messages.envelope import Event, message


class EleveData(BaseModel):
    """A pupil as the platform keeps him (the fields it uses, nothing more)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    eleve_id: str
    ine: str | None = None
    nom: str
    prenom: str
    date_naissance: date | None = None
    division: str | None = None
    groupes: tuple[str, ...] = ()
    code_mef: str | None = None
    libelle_mef: str | None = None
    code_regime: str | None = None
    email: str | None = None


class PersonneData(BaseModel):
    """A person responsible for pupils, as the platform keeps him."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    personne_id: str
    civilite: str | None = None
    nom: str
    prenom: str
    email: str | None = None
    address_lines: tuple[str, ...] = ()
    telephones: tuple[str, ...] = ()


@message("sync.EleveArrived")
class EleveArrived(Event):
    """A pupil is now enrolled in the establishment; `continuity_from` names his previous one if certain."""

    uai: str
    eleve: EleveData
    continuity_from: str | None = None


@message("sync.EleveChanged")
class EleveChanged(Event):
    """A pupil's data changed (names, division, régime, email…); identifiers never change with it."""

    uai: str
    eleve: EleveData


@message("sync.EleveLeft")
class EleveLeft(Event):
    """A pupil left the establishment."""

    uai: str
    eleve_id: str
    date_sortie: date | None = None


@message("sync.PersonneChanged")
class PersonneChanged(Event):
    """A person appeared or his data changed."""

    uai: str
    personne: PersonneData


@message("sync.LienAdded")
class LienAdded(Event):
    """A person became responsible for a pupil (level 1: légal representative)."""

    uai: str
    eleve_id: str
    personne_id: str
    niveau_responsabilite: int | None


@message("sync.LienChanged")
class LienChanged(Event):
    """The level of a person's responsibility for a pupil changed."""

    uai: str
    eleve_id: str
    personne_id: str
    niveau_responsabilite: int | None


@message("sync.LienRemoved")
class LienRemoved(Event):
    """A person is no longer responsible for a pupil."""

    uai: str
    eleve_id: str
    personne_id: str


@message("sync.ImportApplied")
class ImportApplied(Event):
    """An import run was applied for an establishment (after its change events)."""

    uai: str
    run_id: uuid.UUID
    annee_scolaire: int
    changes: dict[str, int]
