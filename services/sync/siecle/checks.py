"""Checks across the files of one export: same establishment and year, links to known pupils, known codes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from teleservices.sync.siecle.model import Division, Eleve, ExportHeader, Lien, Mef, Regime
from teleservices.sync.siecle.problems import ImportProblem, ProblemLog

ELEVE = "BEE_ELEVES/DONNEES/ELEVES/ELEVE"
RESPONSABLE_ELEVE = "BEE_RESPONSABLES/DONNEES/RESPONSABLES/RESPONSABLE_ELEVE"


def check_headers(reference: ExportHeader, others: Iterable[ExportHeader]) -> list[ImportProblem]:
    """Every file must come from the establishment and school year of the pupils file."""
    problems: list[ImportProblem] = []
    for header in others:
        log = ProblemLog(header.file)
        if header.uaj != reference.uaj:
            log.erreur(f"{header.kind.value}/PARAMETRES/UAJ", f"Le fichier {header.file} est celui de l'établissement "
                       f"{header.uaj}, mais le fichier {reference.file} est celui de l'établissement {reference.uaj} : "
                       f"les fichiers ne viennent pas du même établissement", header.uaj, "UAJ")
        if header.annee_scolaire != reference.annee_scolaire:
            log.erreur(f"{header.kind.value}/PARAMETRES/ANNEE_SCOLAIRE", f"Le fichier {header.file} est de l'année "
                       f"scolaire {_annee(header)}, mais le fichier {reference.file} est de l'année scolaire "
                       f"{_annee(reference)} : les fichiers ne sont pas du même export", str(header.annee_scolaire),
                       "ANNEE_SCOLAIRE")
        problems.extend(log.problems)
    return problems


def check_liens(eleves: Sequence[Eleve], eleves_file: str, liens: Sequence[Lien],
                responsables_file: str) -> list[ImportProblem]:
    """Links must name known pupils; persons of departed pupils only, and pupils without a legal representative."""
    log = ProblemLog(responsables_file)
    par_id = {eleve.eleve_id: eleve for eleve in eleves}
    eleves_par_personne: dict[str, list[Eleve]] = {}
    avec_representant: set[str] = set()
    for lien in liens:
        eleve = par_id.get(lien.eleve_id)
        if eleve is None:
            log.erreur(f"{RESPONSABLE_ELEVE}[ELEVE_ID={lien.eleve_id},PERSONNE_ID={lien.personne_id}]/ELEVE_ID",
                       f"La personne {lien.personne_id} est liée à l'élève {lien.eleve_id}, absent du fichier des "
                       f"élèves {eleves_file}", lien.eleve_id, "ELEVE_ID")
            continue
        eleves_par_personne.setdefault(lien.personne_id, []).append(eleve)
        if lien.representant_legal:
            avec_representant.add(lien.eleve_id)
    for personne_id, siens in eleves_par_personne.items():
        if all(eleve.parti for eleve in siens):
            ids = ", ".join(eleve.eleve_id for eleve in siens)
            log.avertissement(f"{RESPONSABLE_ELEVE}[PERSONNE_ID={personne_id}]", f"La personne {personne_id} n'est "
                              f"liée qu'à des élèves partis de l'établissement ({ids})", personne_id, "PERSONNE_ID")
    eleves_log = ProblemLog(eleves_file)
    for eleve in eleves:
        if not eleve.parti and eleve.eleve_id not in avec_representant:
            eleves_log.avertissement(f"{ELEVE}[ELEVE_ID={eleve.eleve_id}]", f"L'élève {eleve.eleve_id} n'a aucun "
                                     f"représentant légal dans le fichier {responsables_file}", eleve.eleve_id,
                                     "NIVEAU_RESPONSABILITE")
    return log.problems + eleves_log.problems


def check_codes(eleves: Sequence[Eleve], eleves_file: str, divisions: Sequence[Division] | None,
                mefs: Sequence[Mef] | None, regimes: Sequence[Regime] | None) -> list[ImportProblem]:
    """A pupil's division, MEF and regime should be known to Structures.xml and Nomenclature.xml (when given)."""
    log = ProblemLog(eleves_file)
    known_divisions = {division.code for division in divisions or ()}
    known_mefs = {mef.code_mef for mef in mefs or ()}
    known_regimes = {regime.code for regime in regimes or ()}
    for eleve in eleves:
        path = f"{ELEVE}[ELEVE_ID={eleve.eleve_id}]"
        if divisions is not None and eleve.division is not None and eleve.division not in known_divisions:
            log.avertissement(f"{path}/CODE_STRUCTURE", f"La division {eleve.division} de l'élève {eleve.eleve_id} "
                              f"est absente de Structures.xml", eleve.eleve_id, "CODE_STRUCTURE")
        if mefs is not None and eleve.code_mef is not None and eleve.code_mef not in known_mefs:
            log.avertissement(f"{path}/CODE_MEF", f"Le MEF {eleve.code_mef} de l'élève {eleve.eleve_id} est absent "
                              f"de Nomenclature.xml", eleve.eleve_id, "CODE_MEF")
        if regimes is not None and eleve.code_regime is not None and eleve.code_regime not in known_regimes:
            log.avertissement(f"{path}/CODE_REGIME", f"Le régime {eleve.code_regime} de l'élève {eleve.eleve_id} est "
                              f"absent de Nomenclature.xml", eleve.eleve_id, "CODE_REGIME")
    return log.problems


def _annee(header: ExportHeader) -> str:
    return f"{header.annee_scolaire}-{header.annee_scolaire + 1}"
