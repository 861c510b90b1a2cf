"""ResponsablesSansAdresses.xml / ResponsablesAvecAdresses.xml: persons and their links to pupils (both models)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from teleservices.sync.siecle.model import (
    Adresse,
    ExportHeader,
    ExportKind,
    Lien,
    NiveauResponsabilite,
    Personne,
    Telephones,
)
from teleservices.sync.siecle.problems import ImportProblem, ProblemLog
from teleservices.sync.siecle.reader import Record, Source, open_records
from teleservices.sync.siecle.values import (
    element_path,
    email_field,
    identifier,
    kept_fields,
    names,
    read_adresse,
    read_header,
    required_header,
)

PARAMETRES = "BEE_RESPONSABLES/PARAMETRES"
PERSONNE = "BEE_RESPONSABLES/DONNEES/PERSONNES/PERSONNE"
RESPONSABLE_ELEVE = "BEE_RESPONSABLES/DONNEES/RESPONSABLES/RESPONSABLE_ELEVE"
ADRESSE = "BEE_RESPONSABLES/DONNEES/ADRESSES/ADRESSE"
WANTED = frozenset({PARAMETRES, PERSONNE, RESPONSABLE_ELEVE, ADRESSE})
MAX_REPRESENTANTS_LEGAUX = 2
"""Two legal representatives per pupil is normal (two parents); more deserves a look."""


class ResponsablesFile(NamedTuple):
    """What a responsables file holds for the platform."""

    header: ExportHeader
    personnes: list[Personne]
    liens: list[Lien]
    problems: list[ImportProblem]


@dataclass
class _Collected:
    log: ProblemLog
    header: ExportHeader | None = None
    personnes: dict[str, Personne] = field(default_factory=dict)
    adresse_ids: dict[str, str] = field(default_factory=dict)
    liens: dict[tuple[str, str], Lien] = field(default_factory=dict)
    resp_legal_1: Counter[str] = field(default_factory=Counter)
    adresses: dict[str, Adresse] = field(default_factory=dict)


def parse_responsables(source: Source) -> ResponsablesFile:
    """Read a responsables file (NIVEAU_RESPONSABILITE since 2018, RESP_LEGAL before)."""
    with open_records(source, ExportKind.responsables, WANTED) as (file, records):
        collected = _Collected(ProblemLog(file))
        for record in records:
            if record.path == PERSONNE:
                _read_personne(record, collected)
            elif record.path == RESPONSABLE_ELEVE:
                _read_lien(record, collected)
            elif record.path == ADRESSE:
                if adresse_id := identifier(record.element, "ADRESSE_ID"):
                    collected.adresses[adresse_id] = read_adresse(record.element)
            else:
                collected.header = read_header(record, ExportKind.responsables, collected.log)
    header = required_header(collected.header, file)
    personnes = _assembled(collected)
    _check_liens(collected)
    return ResponsablesFile(header, personnes, list(collected.liens.values()), collected.log.problems)


def _read_personne(record: Record, collected: _Collected) -> None:
    log = collected.log
    personne_id = identifier(record.element, "PERSONNE_ID")
    path = element_path(record, "PERSONNE_ID", personne_id)
    if not personne_id:
        log.erreur(path, f"La personne n°{record.position} du fichier n'a pas d'identifiant PERSONNE_ID ; elle est "
                         f"ignorée", None, "PERSONNE_ID")
        return
    if personne_id in collected.personnes:
        log.erreur(path, f"L'identifiant PERSONNE_ID {personne_id} est présent plusieurs fois dans le fichier ; "
                         f"seule la première personne est gardée", personne_id, "PERSONNE_ID")
        return
    fields = kept_fields(record.element, "PERSONNE")
    nom, nom_usage = names(fields)
    if nom is None:
        log.erreur(f"{path}/NOM_DE_FAMILLE", f"La personne {personne_id} n'a pas de nom de famille", personne_id,
                   "NOM_DE_FAMILLE")
    if not fields.get("PRENOM"):
        log.avertissement(f"{path}/PRENOM", f"La personne {personne_id} n'a pas de prénom", personne_id, "PRENOM")
    collected.personnes[personne_id] = Personne(
        personne_id=personne_id,
        civilite=fields.get("LC_CIVILITE") or None,
        nom=nom or "",
        nom_usage=nom_usage or "",
        prenom=fields.get("PRENOM", ""),
        email=email_field(fields, f"de la personne {personne_id}", log, path, personne_id),
        telephones=Telephones(fields.get("TEL_PERSONNEL"), fields.get("TEL_PORTABLE"), fields.get("TEL_PROFESSIONNEL")),
        adresse=None,
    )
    if adresse_id := identifier(record.element, "ADRESSE_ID"):
        collected.adresse_ids[personne_id] = adresse_id


def _read_lien(record: Record, collected: _Collected) -> None:
    log = collected.log
    fields = kept_fields(record.element, "RESPONSABLE_ELEVE")
    eleve_id, personne_id = identifier(record.element, "ELEVE_ID"), identifier(record.element, "PERSONNE_ID")
    path = f"{record.path}[ELEVE_ID={eleve_id},PERSONNE_ID={personne_id}]"
    if not eleve_id or not personne_id:
        missing = "ELEVE_ID" if not eleve_id else "PERSONNE_ID"
        log.erreur(f"{record.path}[n°{record.position}]/{missing}", f"Le lien responsable-élève n°{record.position} "
                   f"n'a pas de {missing} ; il est ignoré", eleve_id or personne_id or None, missing)
        return
    if (eleve_id, personne_id) in collected.liens:
        log.avertissement(path, f"Le lien entre l'élève {eleve_id} et la personne {personne_id} est donné plusieurs "
                                f"fois ; seul le premier est gardé", eleve_id, "PERSONNE_ID")
        return
    if fields.get("RESP_LEGAL") == "1" and "NIVEAU_RESPONSABILITE" not in fields:
        collected.resp_legal_1[eleve_id] += 1
    collected.liens[eleve_id, personne_id] = Lien(
        eleve_id=eleve_id,
        personne_id=personne_id,
        niveau_responsabilite=_niveau(fields, log, path, eleve_id, personne_id),
        code_parente=fields.get("CODE_PARENTE") or None,
    )


def _niveau(fields: dict[str, str], log: ProblemLog, path: str, eleve_id: str,
            personne_id: str) -> NiveauResponsabilite | None:
    between = f"du lien entre l'élève {eleve_id} et la personne {personne_id}"
    if (niveau := fields.get("NIVEAU_RESPONSABILITE")) is not None:
        if niveau in ("1", "2", "3"):
            return NiveauResponsabilite(int(niveau))
        log.avertissement(f"{path}/NIVEAU_RESPONSABILITE", f"Le niveau de responsabilité « {niveau} » {between} est "
                          f"inconnu (1, 2 ou 3 attendu) ; ce lien ne donne pas de compte", eleve_id,
                          "NIVEAU_RESPONSABILITE")
        return None
    if (resp_legal := fields.get("RESP_LEGAL")) is not None:
        if resp_legal in ("1", "2"):
            return NiveauResponsabilite.representant_legal
        if resp_legal != "0":
            log.avertissement(f"{path}/RESP_LEGAL", f"La valeur RESP_LEGAL « {resp_legal} » {between} est inconnue "
                              f"(0, 1 ou 2 attendu) ; ce lien ne donne pas de compte", eleve_id, "RESP_LEGAL")
        return None
    log.avertissement(path, f"Le niveau de responsabilité {between} n'est pas donné (ni NIVEAU_RESPONSABILITE ni "
                            f"RESP_LEGAL) ; ce lien ne donne pas de compte", eleve_id, "NIVEAU_RESPONSABILITE")
    return None


def _assembled(collected: _Collected) -> list[Personne]:
    personnes = []
    for personne_id, personne in collected.personnes.items():
        adresse_id = collected.adresse_ids.get(personne_id)
        adresse = collected.adresses.get(adresse_id) if adresse_id else None
        if adresse_id and collected.adresses and adresse is None:
            collected.log.avertissement(f"{PERSONNE}[PERSONNE_ID={personne_id}]/ADRESSE_ID", f"L'adresse "
                                        f"{adresse_id} de la personne {personne_id} est absente du bloc ADRESSES",
                                        personne_id, "ADRESSE_ID")
        personnes.append(replace(personne, adresse=adresse) if adresse else personne)
    return personnes


def _check_liens(collected: _Collected) -> None:
    log = collected.log
    for (eleve_id, personne_id) in collected.liens:
        if personne_id not in collected.personnes:
            log.erreur(f"{RESPONSABLE_ELEVE}[ELEVE_ID={eleve_id},PERSONNE_ID={personne_id}]/PERSONNE_ID", f"Le lien "
                       f"de l'élève {eleve_id} désigne la personne {personne_id}, absente de la liste des personnes",
                       personne_id, "PERSONNE_ID")
    legaux: dict[str, list[str]] = {}
    for lien in collected.liens.values():
        if lien.representant_legal:
            legaux.setdefault(lien.eleve_id, []).append(lien.personne_id)
    for eleve_id, personnes in legaux.items():
        if len(personnes) > MAX_REPRESENTANTS_LEGAUX:
            log.avertissement(f"{RESPONSABLE_ELEVE}[ELEVE_ID={eleve_id}]", f"L'élève {eleve_id} a {len(personnes)} "
                              f"représentants légaux (personnes {', '.join(personnes)}) ; deux au plus sont attendus, "
                              f"vérifiez dans SIECLE", eleve_id, "NIVEAU_RESPONSABILITE")
    for eleve_id, count in collected.resp_legal_1.items():
        if count > 1:
            log.avertissement(f"{RESPONSABLE_ELEVE}[ELEVE_ID={eleve_id}]/RESP_LEGAL", f"L'élève {eleve_id} a {count} "
                              f"responsables légaux n°1 (RESP_LEGAL 1) ; un seul est attendu, l'autre devrait être "
                              f"RESP_LEGAL 2", eleve_id, "RESP_LEGAL")
