"""Fictional but realistic SIECLE/BEE exports of a collège, for demos, tests and benchmarks.

`write_demo_export` writes the four files SIECLE gives an establishment (pupils, responsables, nomenclature,
structures), in ISO-8859-15, plain or as `ExportXML_<Name>.zip`; the same parameters always give the same bytes.
They carry the quirks of the real files: accents, hyphens, apostrophes and œ in names, siblings sharing their
persons, separated parents at two addresses (one sometimes abroad), MEL absent, empty or invalid, adult pupils (some
their own legal representative, CODE_PARENTE 70), groups listed before the division, departed pupils, 31/12/9999,
pupils without INE, persons of level 2 and 3. `parse_export` reads them with no erreur; its only avertissements are the
invalid e-mails and the persons linked only to departed pupils.

`modify_export` writes the export of the same establishment two weeks later with chosen changes and returns the exact
differences an import should find. The parameters of an export are kept in an XML comment of its files, so a
modified export can itself be modified. `write_academy_exports` writes one export per establishment of an academy.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from teleservices.sync.demo.changes import Modification, Snapshot, apply, snapshot
from teleservices.sync.demo.people import uai_key
from teleservices.sync.demo.population import MAX_PUPILS, Population, generate
from teleservices.sync.demo.writer import ENCODING, ExportFormat, write_export

__all__ = [
    "DemoSummary",
    "ExpectedChanges",
    "academy_uais",
    "modify_export",
    "write_academy_exports",
    "write_demo_export",
]

ACADEMY_DEPARTEMENTS = ("054", "055", "057", "088")
"""Meurthe-et-Moselle, Meuse, Moselle, Vosges: the establishments of `write_academy_exports`."""
_UAI = re.compile(r"\d{7}[A-Z]")
_MARK = "teleservices-demo-export/1"
_HEAD_BYTES = 64 * 1024
"""The parameters' comment is on the second line, whatever the number of modifications replayed."""
_PARAMETERS = re.compile(re.escape(_MARK) + r" ([^>]*?) -->")


@dataclass(frozen=True)
class DemoSummary:
    """What was written: counts as `parse_export` will find them (on `date_export`), and the files."""

    uai: str
    annee_scolaire: int
    date_export: date
    """Parse the export with `today=date_export` to see the departed pupils as `parti`."""
    pupils: int
    departed: int
    persons: int
    legal_links: int
    """Links of NIVEAU_RESPONSABILITE 1 (RESP_LEGAL 1 or 2 in the old model): the accounts of representatives."""
    links: int
    divisions: int
    groups: int
    files: tuple[Path, ...]

    @property
    def size_bytes(self) -> int:
        """Total size of the files."""
        return sum(path.stat().st_size for path in self.files)


@dataclass(frozen=True)
class ExpectedChanges:
    """The exact differences between an export and its modified copy, by SIECLE id, as `parse_export` sees them."""

    date_export_before: date
    date_export: date
    """The modified export's date: parse it with `today=date_export`."""
    moved: dict[str, tuple[str, str]]
    """ELEVE_ID → (division before, division after)."""
    departed: frozenset[str]
    """ELEVE_IDs that are `parti` now and were not."""
    arrived: frozenset[str]
    renamed: frozenset[str]
    """ELEVE_IDs whose (nom, nom_usage, prenom) changed."""
    email_changed: frozenset[str]
    """PERSONNE_IDs present in both exports whose MEL changed."""
    links_removed: frozenset[tuple[str, str]]
    """(ELEVE_ID, PERSONNE_ID) pairs."""
    links_added: frozenset[tuple[str, str]]
    """(ELEVE_ID, PERSONNE_ID) pairs, the arrivals' links included."""
    persons_added: frozenset[str]
    persons_removed: frozenset[str]
    """Persons whose last link was removed (they leave the file)."""
    summary: DemoSummary = field(repr=False)


@dataclass(frozen=True)
class _Parameters:
    uai: str
    pupils: int
    seed: int
    annee: int
    date_export: date
    export_format: ExportFormat
    modifications: tuple[Modification, ...] = ()

    def comment(self) -> str:
        fmt = self.export_format
        modifications = ",".join(modification.encode() for modification in self.modifications) or "aucune"
        return (f"Données fictives générées par teleservices demo-export : aucune personne réelle. {_MARK} "
                f"uai={self.uai} eleves={self.pupils} graine={self.seed} annee={self.annee} "
                f"date={self.date_export.isoformat()} adresses={int(fmt.avec_adresses)} zip={int(fmt.zipped)} "
                f"ancien-modele={int(fmt.old_model)} modifications={modifications}")

    def population(self) -> Population:
        population = generate(self.uai, self.pupils, self.seed, self.annee, self.date_export)
        for index, modification in enumerate(self.modifications):
            apply(population, modification, index)
        return population


def write_demo_export(folder: Path, *, uai: str = "0540001A", pupils: int = 600, seed: int = 2018,
                      annee_scolaire: int = 2026, zipped: bool = False, avec_adresses: bool = True,
                      old_model: bool = False, date_export: date | None = None) -> DemoSummary:
    """Write a collège's export into `folder` (replacing a previous export there); `date_export` defaults to
    1 October of `annee_scolaire`. `old_model` writes RESP_LEGAL instead of NIVEAU_RESPONSABILITE."""
    if _UAI.fullmatch(uai) is None:
        raise ValueError(f"UAI « {uai} » invalide : 7 chiffres et une lettre majuscule attendus (ex. 0540001A)")
    if not 1 <= pupils <= MAX_PUPILS:
        raise ValueError(f"nombre d'élèves {pupils} hors limites : de 1 à {MAX_PUPILS}")
    if not 1000 <= annee_scolaire <= 9998:
        raise ValueError(f"année scolaire {annee_scolaire} invalide")
    parameters = _Parameters(uai, pupils, seed, annee_scolaire, date_export or date(annee_scolaire, 10, 1),
                             ExportFormat(avec_adresses, zipped, old_model))
    population = parameters.population()
    return _summary(population, write_export(population, Path(folder), parameters.export_format,
                                             parameters.comment()))


def write_academy_exports(folder: Path, establishments: int, pupils_per_establishment: int, seed: int, *,
                          annee_scolaire: int = 2026, zipped: bool = False,
                          avec_adresses: bool = True) -> list[Path]:
    """One export per establishment in `folder/<UAI>/` (UAIs from `academy_uais`); INEs are unique academy-wide."""
    folders = []
    for uai in academy_uais(establishments):
        write_demo_export(Path(folder) / uai, uai=uai, pupils=pupils_per_establishment, seed=seed,
                          annee_scolaire=annee_scolaire, zipped=zipped, avec_adresses=avec_adresses)
        folders.append(Path(folder) / uai)
    return folders


def academy_uais(count: int) -> list[str]:
    """`count` distinct UAIs with their check letter, spread over the academy's four départements."""
    uais = []
    for rank in range(count):
        digits = f"{ACADEMY_DEPARTEMENTS[rank % len(ACADEMY_DEPARTEMENTS)]}{100 + rank // 4:04d}"
        uais.append(digits + uai_key(digits))
    return uais


def modify_export(source: Path, target: Path, *, seed: int, moves: int = 0, departures: int = 0, arrivals: int = 0,
                  name_changes: int = 0, email_changes: int = 0, links_removed: int = 0,
                  links_added: int = 0) -> ExpectedChanges:
    """Write into `target` the export of `source` (a folder written here) two weeks later, with the changes asked:
    pupils moved to another division of their level, departed, arrived (new families), renamed; persons whose MEL
    changed; links removed (contacts first, never a pupil's last legal representative) and added (a grandparent as
    contact). Each pupil changes in one way at most. ValueError when the export has too few candidates."""
    parameters = _read_parameters(Path(source))
    population = parameters.population()
    before, before_date = snapshot(population), population.date_export
    modification = Modification(seed, moves, departures, arrivals, name_changes, email_changes, links_removed,
                                links_added)
    apply(population, modification, len(parameters.modifications))
    modified = _Parameters(parameters.uai, parameters.pupils, parameters.seed, parameters.annee,
                           parameters.date_export, parameters.export_format,
                           (*parameters.modifications, modification))
    summary = _summary(population, write_export(population, Path(target), parameters.export_format,
                                                modified.comment()))
    return _differences(before, snapshot(population), before_date=before_date, summary=summary)


def _differences(before: Snapshot, after: Snapshot, *, before_date: date, summary: DemoSummary) -> ExpectedChanges:
    both = before.divisions.keys() & after.divisions.keys()
    persons_both = before.emails.keys() & after.emails.keys()
    return ExpectedChanges(
        date_export_before=before_date,
        date_export=summary.date_export,
        moved={eleve_id: (before.divisions[eleve_id], after.divisions[eleve_id]) for eleve_id in sorted(both)
               if before.divisions[eleve_id] != after.divisions[eleve_id]},
        departed=after.parti - before.parti,
        arrived=frozenset(after.divisions.keys() - before.divisions.keys()),
        renamed=frozenset(eleve_id for eleve_id in both if before.names[eleve_id] != after.names[eleve_id]),
        email_changed=frozenset(pid for pid in persons_both if before.emails[pid] != after.emails[pid]),
        links_removed=before.links - after.links,
        links_added=after.links - before.links,
        persons_added=frozenset(after.emails.keys() - before.emails.keys()),
        persons_removed=frozenset(before.emails.keys() - after.emails.keys()),
        summary=summary,
    )


def _summary(population: Population, files: list[Path]) -> DemoSummary:
    today = population.date_export
    return DemoSummary(
        uai=population.uai, annee_scolaire=population.annee, date_export=today, pupils=len(population.pupils),
        departed=sum(pupil.parti(today) for pupil in population.pupils), persons=len(population.persons),
        legal_links=sum(link.niveau == 1 for link in population.links), links=len(population.links),
        divisions=len(population.divisions), groups=len(population.groups), files=tuple(files),
    )


def _read_parameters(source: Path) -> _Parameters:
    head = _head_of_pupils_file(source)
    match = _PARAMETERS.search(head)
    if match is None:
        raise ValueError(f"{source} n'est pas un export écrit par teleservices demo-export (paramètres introuvables)")
    values = dict(pair.split("=", 1) for pair in match.group(1).split())
    modifications = values["modifications"]
    return _Parameters(
        uai=values["uai"], pupils=int(values["eleves"]), seed=int(values["graine"]), annee=int(values["annee"]),
        date_export=date.fromisoformat(values["date"]),
        export_format=ExportFormat(values["adresses"] == "1", values["zip"] == "1", values["ancien-modele"] == "1"),
        modifications=() if modifications == "aucune" else tuple(
            Modification.decode(text) for text in modifications.split(",")),
    )


def _head_of_pupils_file(source: Path) -> str:
    for avec in ("Avec", "Sans"):
        name = f"Eleves{avec}Adresses"
        if (plain := source / f"{name}.xml").is_file():
            with open(plain, "rb") as file:
                return file.read(_HEAD_BYTES).decode(ENCODING, "replace")
        if (zipped := source / f"ExportXML_{name}.zip").is_file():
            with zipfile.ZipFile(zipped) as archive, archive.open(f"{name}.xml") as file:
                return file.read(_HEAD_BYTES).decode(ENCODING, "replace")
    raise ValueError(f"{source} : aucun fichier ElevesAvecAdresses.xml ou ElevesSansAdresses.xml (ni zippé)")
