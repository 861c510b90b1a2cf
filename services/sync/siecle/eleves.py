"""ElevesSansAdresses.xml / ElevesAvecAdresses.xml: the pupils, their division and groups, their address."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import NamedTuple

from teleservices.sync.siecle.model import Adresse, Eleve, ExportHeader, ExportKind, categorie_regime
from teleservices.sync.siecle.problems import ImportProblem, ProblemLog
from teleservices.sync.siecle.reader import Record, Source, open_records
from teleservices.sync.siecle.values import (
    DATE_SANS_FIN,
    date_field,
    element_path,
    email_field,
    identifier,
    kept_fields,
    names,
    read_adresse,
    read_header,
    required_header,
)

PARAMETRES = "BEE_ELEVES/PARAMETRES"
ELEVE = "BEE_ELEVES/DONNEES/ELEVES/ELEVE"
STRUCTURES_ELEVE = "BEE_ELEVES/DONNEES/STRUCTURES/STRUCTURES_ELEVE"
ADRESSE = "BEE_ELEVES/DONNEES/ADRESSES/ADRESSE"
WANTED = frozenset({PARAMETRES, ELEVE, STRUCTURES_ELEVE, ADRESSE})


class ElevesFile(NamedTuple):
    """What a pupils file holds for the platform."""

    header: ExportHeader
    eleves: list[Eleve]
    problems: list[ImportProblem]


@dataclass
class _Collected:
    log: ProblemLog
    today: date
    header: ExportHeader | None = None
    eleves: dict[str, Eleve] = field(default_factory=dict)
    adresse_ids: dict[str, str] = field(default_factory=dict)
    divisions: dict[str, list[str]] = field(default_factory=dict)
    groupes: dict[str, list[str]] = field(default_factory=dict)
    adresses: dict[str, Adresse] = field(default_factory=dict)


def parse_eleves(source: Source, *, today: date) -> ElevesFile:
    """Read a pupils file; pupils whose DATE_SORTIE is before `today` are marked `parti`."""
    with open_records(source, ExportKind.eleves, WANTED) as (file, records):
        collected = _Collected(ProblemLog(file), today)
        for record in records:
            if record.path == ELEVE:
                _read_eleve(record, collected)
            elif record.path == STRUCTURES_ELEVE:
                _read_structures(record, collected)
            elif record.path == ADRESSE:
                if adresse_id := identifier(record.element, "ADRESSE_ID"):
                    collected.adresses[adresse_id] = read_adresse(record.element)
            else:
                collected.header = read_header(record, ExportKind.eleves, collected.log)
    header = required_header(collected.header, file)
    eleves = _assembled(collected)
    return ElevesFile(header, eleves, collected.log.problems)


def _read_eleve(record: Record, collected: _Collected) -> None:
    log = collected.log
    eleve_id = identifier(record.element, "ELEVE_ID")
    path = element_path(record, "ELEVE_ID", eleve_id)
    if not eleve_id:
        log.erreur(path, f"L'élève n°{record.position} du fichier n'a pas d'identifiant ELEVE_ID ; il est ignoré",
                   None, "ELEVE_ID")
        return
    if eleve_id in collected.eleves:
        log.erreur(path, f"L'identifiant ELEVE_ID {eleve_id} est présent plusieurs fois dans le fichier ; seul le "
                         f"premier élève est gardé", eleve_id, "ELEVE_ID")
        return
    fields = kept_fields(record.element, "ELEVE")
    whose = f"de l'élève {eleve_id}"
    nom, nom_usage = names(fields)
    if nom is None:
        log.erreur(f"{path}/NOM_DE_FAMILLE", f"L'élève {eleve_id} n'a pas de nom de famille", eleve_id,
                   "NOM_DE_FAMILLE")
    prenom = fields.get("PRENOM", "")
    if not prenom:
        log.erreur(f"{path}/PRENOM", f"L'élève {eleve_id} n'a pas de prénom", eleve_id, "PRENOM")
    date_naissance = date_field(fields, "DATE_NAISS", "date de naissance", whose, log, path, eleve_id)
    if not fields.get("DATE_NAISS"):
        log.avertissement(f"{path}/DATE_NAISS", f"La date de naissance {whose} est absente", eleve_id, "DATE_NAISS")
    code_regime = fields.get("CODE_REGIME") or None
    if code_regime is not None:
        try:
            categorie_regime(code_regime)
        except ValueError:
            log.avertissement(f"{path}/CODE_REGIME", f"Le code régime « {code_regime} » {whose} est inconnu "
                                                     f"(externe, demi-pensionnaire ou interne ?)", eleve_id,
                              "CODE_REGIME")
    date_sortie = date_field(fields, "DATE_SORTIE", "date de sortie", whose, log, path, eleve_id)
    if date_sortie == DATE_SANS_FIN:
        date_sortie = None
    collected.eleves[eleve_id] = Eleve(
        eleve_id=eleve_id,
        ine=fields.get("ID_NATIONAL") or None,
        nom=nom or "",
        nom_usage=nom_usage or "",
        prenom=prenom,
        date_naissance=date_naissance,
        code_mef=fields.get("CODE_MEF") or None,
        code_regime=code_regime,
        date_entree=date_field(fields, "DATE_ENTREE", "date d'entrée", whose, log, path, eleve_id),
        date_sortie=date_sortie,
        email=email_field(fields, whose, log, path, eleve_id),
        division=None,
        groupes=(),
        adresse=None,
        parti=date_sortie is not None and date_sortie < collected.today,
    )
    if adresse_id := identifier(record.element, "ADRESSE_ID"):
        collected.adresse_ids[eleve_id] = adresse_id


def _read_structures(record: Record, collected: _Collected) -> None:
    eleve_id = identifier(record.element, "ELEVE_ID")
    path = element_path(record, "ELEVE_ID", eleve_id)
    if not eleve_id:
        collected.log.avertissement(path, "Des structures sont données sans identifiant d'élève (ELEVE_ID) ; "
                                          "elles sont ignorées", None, "ELEVE_ID")
        return
    for rank, structure in enumerate(record.element.findall("STRUCTURE"), start=1):
        fields = kept_fields(structure, "STRUCTURE")
        code, kind = fields.get("CODE_STRUCTURE", ""), fields.get("TYPE_STRUCTURE", "")
        if not code:
            collected.log.avertissement(f"{path}/STRUCTURE[n°{rank}]/CODE_STRUCTURE", f"Une structure de l'élève "
                                        f"{eleve_id} n'a pas de code ; elle est ignorée", eleve_id, "CODE_STRUCTURE")
        elif kind == "D":
            collected.divisions.setdefault(eleve_id, []).append(code)
        elif kind == "G":
            collected.groupes.setdefault(eleve_id, []).append(code)
        else:
            collected.log.avertissement(f"{path}/STRUCTURE[n°{rank}]/TYPE_STRUCTURE", f"La structure {code} de "
                                        f"l'élève {eleve_id} a le type « {kind} », ni D (division) ni G (groupe) ; "
                                        f"elle est ignorée", eleve_id, "TYPE_STRUCTURE")


def _assembled(collected: _Collected) -> list[Eleve]:
    log = collected.log
    eleves = []
    for eleve_id, eleve in collected.eleves.items():
        path = f"{STRUCTURES_ELEVE}[ELEVE_ID={eleve_id}]"
        divisions = list(dict.fromkeys(collected.divisions.get(eleve_id, ())))
        if not divisions:
            log.avertissement(path, f"L'élève {eleve_id} est sans division (aucune structure de type D) ; "
                                    f"aucune division ne lui est attribuée", eleve_id, "TYPE_STRUCTURE")
        elif len(divisions) > 1:
            log.avertissement(path, f"L'élève {eleve_id} a plusieurs divisions ({', '.join(divisions)}) ; aucune "
                                    f"n'est retenue", eleve_id, "TYPE_STRUCTURE")
        eleves.append(replace(
            eleve,
            division=divisions[0] if len(divisions) == 1 else None,
            groupes=tuple(dict.fromkeys(collected.groupes.get(eleve_id, ()))),
            adresse=_adresse(collected, eleve_id),
        ))
    for eleve_id in sorted((collected.divisions.keys() | collected.groupes.keys()) - collected.eleves.keys()):
        log.avertissement(f"{STRUCTURES_ELEVE}[ELEVE_ID={eleve_id}]", f"Des structures sont données pour l'élève "
                          f"{eleve_id}, absent de la liste des élèves ; elles sont ignorées", eleve_id, "ELEVE_ID")
    return eleves


def _adresse(collected: _Collected, eleve_id: str) -> Adresse | None:
    adresse_id = collected.adresse_ids.get(eleve_id)
    if adresse_id is None or not collected.adresses:
        return None  # a "Sans adresses" file: ADRESSE_ID is given, the ADRESSES block is empty
    adresse = collected.adresses.get(adresse_id)
    if adresse is None:
        collected.log.avertissement(f"{ELEVE}[ELEVE_ID={eleve_id}]/ADRESSE_ID", f"L'adresse {adresse_id} de l'élève "
                                    f"{eleve_id} est absente du bloc ADRESSES", eleve_id, "ADRESSE_ID")
    return adresse
