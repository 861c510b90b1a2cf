"""Nomenclature.xml (MEFs, regimes) and Structures.xml (divisions, groups): the labels behind the pupils' codes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Container
from typing import NamedTuple

from teleservices.sync.siecle.model import Division, ExportHeader, ExportKind, Groupe, Mef, Regime
from teleservices.sync.siecle.problems import ImportProblem, ProblemLog
from teleservices.sync.siecle.reader import Record, Source, open_records
from teleservices.sync.siecle.values import element_path, identifier, kept_fields, read_header, required_header

MEF = "BEE_NOMENCLATURES/DONNEES/MEFS/MEF"
REGIME = "BEE_NOMENCLATURES/DONNEES/REGIMES/REGIME"
DIVISION = "BEE_STRUCTURES/DONNEES/DIVISIONS/DIVISION"
GROUPE = "BEE_STRUCTURES/DONNEES/GROUPES/GROUPE"


class NomenclatureFile(NamedTuple):
    """The MEFs and regimes of a Nomenclature.xml."""

    header: ExportHeader
    mefs: list[Mef]
    regimes: list[Regime]
    problems: list[ImportProblem]


class StructuresFile(NamedTuple):
    """The divisions and groups of a Structures.xml."""

    header: ExportHeader
    divisions: list[Division]
    groupes: list[Groupe]
    problems: list[ImportProblem]


def parse_nomenclature(source: Source) -> NomenclatureFile:
    """Read the MEFs and regimes of a Nomenclature.xml (its other sections are skipped)."""
    header: ExportHeader | None = None
    mefs: dict[str, Mef] = {}
    regimes: dict[str, Regime] = {}
    wanted = frozenset({"BEE_NOMENCLATURES/PARAMETRES", MEF, REGIME})
    with open_records(source, ExportKind.nomenclatures, wanted) as (file, records):
        log = ProblemLog(file)
        for record in records:
            if record.path == MEF:
                if code := _code(record, "CODE_MEF", "Un MEF", mefs, log):
                    fields = kept_fields(record.element, "MEF")
                    mefs[code] = Mef(code, fields.get("FORMATION") or None, fields.get("LIBELLE_LONG") or None,
                                     fields.get("CODE_MEFSTAT") or None)
            elif record.path == REGIME:
                if code := _code(record, "CODE_REGIME", "Un régime", regimes, log):
                    fields = kept_fields(record.element, "REGIME")
                    regimes[code] = Regime(code, fields.get("LIBELLE_COURT") or None,
                                           fields.get("LIBELLE_LONG") or None)
            else:
                header = read_header(record, ExportKind.nomenclatures, log)
    return NomenclatureFile(required_header(header, file), list(mefs.values()), list(regimes.values()), log.problems)


def parse_structures(source: Source) -> StructuresFile:
    """Read the divisions (with their MEFs) and groups (with their divisions) of a Structures.xml."""
    header: ExportHeader | None = None
    divisions: dict[str, Division] = {}
    groupes: dict[str, Groupe] = {}
    wanted = frozenset({"BEE_STRUCTURES/PARAMETRES", DIVISION, GROUPE})
    with open_records(source, ExportKind.structures, wanted) as (file, records):
        log = ProblemLog(file)
        for record in records:
            if record.path == DIVISION:
                if code := _code(record, "CODE_STRUCTURE", "Une division", divisions, log):
                    mefs = _codes(record.element, "MEFS_APPARTENANCE/MEF_APPARTENANCE", "CODE_MEF")
                    divisions[code] = Division(code, _libelle(record.element, "DIVISION"), mefs)
            elif record.path == GROUPE:
                if code := _code(record, "CODE_STRUCTURE", "Un groupe", groupes, log):
                    membres = _codes(record.element, "DIVISIONS_APPARTENANCE/DIVISION_APPARTENANCE", "CODE_STRUCTURE")
                    groupes[code] = Groupe(code, _libelle(record.element, "GROUPE"), membres)
            else:
                header = read_header(record, ExportKind.structures, log)
    return StructuresFile(required_header(header, file), list(divisions.values()), list(groupes.values()),
                          log.problems)


def _code(record: Record, attribute: str, what: str, seen: Container[str], log: ProblemLog) -> str | None:
    code = identifier(record.element, attribute)
    path = element_path(record, attribute, code)
    if not code:
        log.avertissement(path, f"{what} (n°{record.position} du fichier) n'a pas de code {attribute} ; l'élément "
                                f"est ignoré", None, attribute)
        return None
    if code in seen:
        log.avertissement(path, f"{what} de code {code} apparaît plusieurs fois ; seule la première occurrence "
                                f"est gardée", code, attribute)
        return None
    return code


def _codes(element: ET.Element, path: str, name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(code for member in element.findall(path) if (code := identifier(member, name))))


def _libelle(element: ET.Element, kind: str) -> str | None:
    return kept_fields(element, kind).get("LIBELLE_LONG") or None
