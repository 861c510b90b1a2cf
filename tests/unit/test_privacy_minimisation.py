"""Minimisation: the SIECLE fields the platform keeps are listed once; no place of birth; no birth date in letters."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel

from teleservices.shared.letters import FIELDS
from teleservices.shared.messages import catalog
from teleservices.shared.messages.siecle import EleveData, PersonneData
from teleservices.sync.siecle.eleves import parse_eleves
from teleservices.sync.siecle.model import CHAMPS_CONSERVES, CHAMPS_JAMAIS_CONSERVES, Eleve

COLLEGE = Path(__file__).parents[1] / "fixtures" / "siecle" / "college_minimal"
# where each field the platform emits comes from in the export (attributes or kept child elements)
SOURCES = {
    "EleveData": {"eleve_id": "@ELEVE_ID", "ine": "ID_NATIONAL", "nom": "NOM_DE_FAMILLE", "prenom": "PRENOM",
                  "date_naissance": "DATE_NAISS", "division": "STRUCTURE", "groupes": "STRUCTURE",
                  "code_mef": "CODE_MEF", "libelle_mef": "MEF", "code_regime": "CODE_REGIME", "email": "MEL"},
    "PersonneData": {"personne_id": "@PERSONNE_ID", "civilite": "LC_CIVILITE", "nom": "NOM_DE_FAMILLE",
                     "prenom": "PRENOM", "email": "MEL", "address_lines": "ADRESSE",
                     "telephones": "TEL_PORTABLE"},
}
BIRTHPLACE = ("VILLE_NAISS", "CODE_COMMUNE_INSEE_NAISS", "CODE_DEPARTEMENT_NAISS")


def test_the_kept_fields_are_listed_once_and_exclude_the_place_of_birth() -> None:
    assert set(BIRTHPLACE) <= CHAMPS_JAMAIS_CONSERVES
    assert not CHAMPS_JAMAIS_CONSERVES & CHAMPS_CONSERVES["ELEVE"]
    assert not set(BIRTHPLACE) & set().union(*CHAMPS_CONSERVES.values())
    kept = set().union(*CHAMPS_CONSERVES.values()) | set(CHAMPS_CONSERVES)
    for model in (EleveData, PersonneData):
        assert set(model.model_fields) == set(SOURCES[model.__name__]), f"{model.__name__}: list its new field"
        for source in SOURCES[model.__name__].values():
            assert source.startswith("@") or source in kept, source


def test_the_parser_drops_the_place_of_birth_the_export_carries() -> None:
    raw = (COLLEGE / "ElevesAvecAdresses.xml").read_bytes()
    assert b"<VILLE_NAISS>QUIMPER</VILLE_NAISS>" in raw
    parsed = parse_eleves(COLLEGE / "ElevesAvecAdresses.xml", today=date(2025, 1, 15))
    assert not {f.name for f in fields(Eleve)} & {"ville_naissance", "lieu_naissance", "nationalite"}
    text = repr(parsed.eleves) + repr(parsed.problems)
    for value in ("QUIMPER", "LORIENT", "29232", "56121"):
        assert value not in text


def _field_names(model: type[BaseModel], seen: set[type] | None = None) -> set[str]:
    seen = seen or set()
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(name)
        for kind in (info.annotation, *get_args(info.annotation)):
            inner: Any = kind
            for candidate in (inner, *get_args(inner)):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel) and candidate not in seen:
                    seen.add(candidate)
                    names |= _field_names(candidate, seen)
    return names


def test_letters_carry_no_birth_date() -> None:
    assert not [f for f in FIELDS if "naissance" in f.casefold()]
    for command in (catalog.SendNotification, catalog.NotifyBatch, catalog.SendActivationEmail,
                    catalog.SendFreeEmail):
        names = _field_names(command)
        assert not [n for n in names if "naiss" in n or "birth" in n], command.__name__
    assert {"recipient", "address_lines", "eleve_nom"} <= _field_names(catalog.NotifyBatch)  # nested letters read
