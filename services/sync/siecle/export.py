"""A whole export: finding its files (Sans or Avec adresses, plain or zipped), reading them, checking them together."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from teleservices.sync.siecle.checks import check_codes, check_headers, check_liens
from teleservices.sync.siecle.eleves import parse_eleves
from teleservices.sync.siecle.model import (
    Division,
    Eleve,
    ExportHeader,
    ExportKind,
    Groupe,
    Lien,
    Mef,
    Personne,
    Regime,
)
from teleservices.sync.siecle.problems import ImportProblem, ProblemLog, Severity, SiecleFileError
from teleservices.sync.siecle.reader import InMemoryFile, Source, read_root, source_name
from teleservices.sync.siecle.referentiels import parse_nomenclature, parse_structures
from teleservices.sync.siecle.responsables import parse_responsables

EXPORT_SUFFIXES = (".xml", ".zip")
_ROOTS = frozenset(kind.value for kind in ExportKind)
_ATTENDUS = {
    ExportKind.eleves: "ElevesSansAdresses.xml ou ElevesAvecAdresses.xml",
    ExportKind.responsables: "ResponsablesSansAdresses.xml ou ResponsablesAvecAdresses.xml",
    ExportKind.nomenclatures: "Nomenclature.xml",
    ExportKind.structures: "Structures.xml",
}


@dataclass(frozen=True)
class SiecleExport:
    """Everything the platform keeps from one export, and every problem found in it."""

    headers: tuple[ExportHeader, ...]
    eleves: tuple[Eleve, ...]
    personnes: tuple[Personne, ...]
    liens: tuple[Lien, ...]
    divisions: tuple[Division, ...]
    groupes: tuple[Groupe, ...]
    mefs: tuple[Mef, ...]
    regimes: tuple[Regime, ...]
    problems: tuple[ImportProblem, ...]

    @property
    def uaj(self) -> str:
        """The establishment (UAJ of the pupils file)."""
        return self.headers[0].uaj

    @property
    def annee_scolaire(self) -> int:
        """The start year of the school year (of the pupils file)."""
        return self.headers[0].annee_scolaire

    @property
    def erreurs(self) -> tuple[ImportProblem, ...]:
        """Problems that forbid applying this export."""
        return tuple(problem for problem in self.problems if problem.severity is Severity.erreur)

    @property
    def avertissements(self) -> tuple[ImportProblem, ...]:
        """Problems shown to staff; the import may go on."""
        return tuple(problem for problem in self.problems if problem.severity is Severity.avertissement)

    @property
    def importable(self) -> bool:
        """No erreur: the export may be applied."""
        return not self.erreurs

    def header(self, kind: ExportKind) -> ExportHeader | None:
        """The header of the file of that kind, when the export had one."""
        return next((header for header in self.headers if header.kind is kind), None)


ExportInput = str | os.PathLike[str] | InMemoryFile | Iterable[str | os.PathLike[str] | InMemoryFile]


def parse_export(inputs: ExportInput, *, today: date) -> SiecleExport:
    """Read an export from a folder, one file (.xml or ExportXML_*.zip) or several; Avec adresses preferred."""
    files, problems = find_files(inputs)
    eleves = parse_eleves(files[ExportKind.eleves], today=today)
    problems.extend(eleves.problems)
    headers = [eleves.header]
    personnes: list[Personne] = []
    liens: list[Lien] = []
    if (responsables_source := files.get(ExportKind.responsables)) is not None:
        responsables = parse_responsables(responsables_source)
        headers.append(responsables.header)
        personnes, liens = responsables.personnes, responsables.liens
        problems.extend(responsables.problems)
        problems.extend(check_liens(eleves.eleves, eleves.header.file, liens, responsables.header.file))
    nomenclature = structures = None
    if (nomenclature_source := files.get(ExportKind.nomenclatures)) is not None:
        nomenclature = parse_nomenclature(nomenclature_source)
        headers.append(nomenclature.header)
        problems.extend(nomenclature.problems)
    if (structures_source := files.get(ExportKind.structures)) is not None:
        structures = parse_structures(structures_source)
        headers.append(structures.header)
        problems.extend(structures.problems)
    problems.extend(check_headers(eleves.header, headers[1:]))
    problems.extend(check_codes(eleves.eleves, eleves.header.file, structures.divisions if structures else None,
                                nomenclature.mefs if nomenclature else None,
                                nomenclature.regimes if nomenclature else None))
    return SiecleExport(
        headers=tuple(headers),
        eleves=tuple(eleves.eleves),
        personnes=tuple(personnes),
        liens=tuple(liens),
        divisions=tuple(structures.divisions) if structures else (),
        groupes=tuple(structures.groupes) if structures else (),
        mefs=tuple(nomenclature.mefs) if nomenclature else (),
        regimes=tuple(nomenclature.regimes) if nomenclature else (),
        problems=tuple(problems),
    )


def find_files(inputs: ExportInput) -> tuple[dict[ExportKind, Source], list[ImportProblem]]:
    """Which file is which export (by root element); Avec adresses beats Sans adresses; the pupils file is required."""
    sources, folder = _candidates(inputs)
    label = folder or ", ".join(source_name(source) for source in sources) or "export"
    log = ProblemLog(label)
    found: dict[ExportKind, dict[bool, Source]] = {}
    for source in sources:
        name = source_name(source)
        root = read_root(source)
        if root not in _ROOTS:
            message = (f"l'élément racine est {root} : ce n'est pas un export SIECLE/BEE "
                       f"({', '.join(kind.value for kind in ExportKind)})")
            if folder is None:
                raise SiecleFileError(name, message)
            log.avertissement(name, f"Le fichier {name} est ignoré : {message}")
            continue
        avec = "avecadresses" in name.casefold()
        variants = found.setdefault(ExportKind(root), {})
        if (other := variants.get(avec)) is not None:
            raise SiecleFileError(name, f"deux fichiers du même export {root} : {source_name(other)} et {name} ; "
                                        f"gardez-en un seul")
        variants[avec] = source
    if ExportKind.eleves not in found:
        raise SiecleFileError(label, f"le fichier des élèves ({_ATTENDUS[ExportKind.eleves]}) est introuvable")
    for kind in (ExportKind.responsables, ExportKind.nomenclatures, ExportKind.structures):
        if kind not in found:
            report = log.erreur if kind is ExportKind.responsables else log.avertissement
            report(kind.value, f"Le fichier {_ATTENDUS[kind]} est absent de l'export {label}")
    files = {kind: variants.get(True) or variants[False] for kind, variants in found.items()}
    return files, log.problems


def _candidates(inputs: ExportInput) -> tuple[list[Source], str | None]:
    if isinstance(inputs, InMemoryFile):
        return [inputs], None
    if isinstance(inputs, str | os.PathLike):
        path = Path(inputs)
        if not path.is_dir():
            return [path], None
        found: list[Source] = [child for child in sorted(path.iterdir())
                               if child.is_file() and child.suffix.lower() in EXPORT_SUFFIXES]
        return found, path.name
    return list(inputs), None
