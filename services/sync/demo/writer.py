"""A population written as the four BEE files, streamed as text (no DOM) in ISO-8859-15, plain or zipped."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

from teleservices.sync.demo import referentiel as ref
from teleservices.sync.demo.people import Address, Link
from teleservices.sync.demo.population import Population

ENCODING = "iso-8859-15"
DECLARATION = '<?xml version="1.0" encoding="ISO-8859-15"?>\n'
EXPORT_NAMES = ("ElevesAvecAdresses", "ElevesSansAdresses", "ResponsablesAvecAdresses", "ResponsablesSansAdresses",
                "Nomenclature", "Structures")


@dataclass(frozen=True, slots=True)
class ExportFormat:
    """How the files are written: with addresses or not, zipped or not, the link model before 2018 or after."""

    avec_adresses: bool = True
    zipped: bool = False
    old_model: bool = False

    def names(self) -> tuple[str, str, str, str]:
        """The four export names (file names without .xml)."""
        avec = "Avec" if self.avec_adresses else "Sans"
        return f"Eleves{avec}Adresses", f"Responsables{avec}Adresses", "Nomenclature", "Structures"


def write_export(population: Population, folder: Path, export_format: ExportFormat, comment: str) -> list[Path]:
    """Write the four files into `folder` (replacing a previous export there); their paths, pupils file first."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in EXPORT_NAMES:
        (folder / f"{name}.xml").unlink(missing_ok=True)
        (folder / f"ExportXML_{name}.zip").unlink(missing_ok=True)
    writers: tuple[Callable[[Population, TextIO, ExportFormat], None], ...] = (
        _eleves, _responsables, _nomenclature, _structures)
    paths = []
    for rank, (name, write) in enumerate(zip(export_format.names(), writers, strict=True)):
        path = folder / (f"ExportXML_{name}.zip" if export_format.zipped else f"{name}.xml")
        with _opened(path, f"{name}.xml", export_format.zipped, population.date_export, rank) as out:
            out.write(DECLARATION)
            out.write(f"<!-- {comment} -->\n")
            write(population, out, export_format)
        paths.append(path)
    return paths


@contextmanager
def _opened(path: Path, member: str, zipped: bool, day: date, rank: int) -> Iterator[TextIO]:
    if not zipped:
        with open(path, "w", encoding=ENCODING, newline="\n") as out:
            yield out
        return
    info = zipfile.ZipInfo(member, date_time=(day.year, day.month, day.day, 7, 42 + rank, 10))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 0  # the same bytes on every system
    with zipfile.ZipFile(path, "w") as archive, archive.open(info, "w") as raw, \
            io.TextIOWrapper(raw, encoding=ENCODING, newline="\n") as out:
        yield out


def _x(text: str) -> str:
    if "&" in text or "<" in text or ">" in text or '"' in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return text


def _tag(indent: str, name: str, value: str | None) -> str:
    """An element on its own line; None → no element (NULL), "" → an empty element."""
    return "" if value is None else f"{indent}<{name}>{_x(value)}</{name}>\n"


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _header(root: str, version: str, population: Population, rank: int) -> str:
    day = _day(population.date_export)
    return (f'<{root} VERSION="{version}">\n  <PARAMETRES>\n    <UAJ>{population.uai}</UAJ>\n'
            f"    <ANNEE_SCOLAIRE>{population.annee}</ANNEE_SCOLAIRE>\n    <DATE_EXPORT>{day}</DATE_EXPORT>\n"
            f"    <HORODATAGE>{day} 07:{42 + rank}:{10 + 7 * rank:02d}</HORODATAGE>\n  </PARAMETRES>\n  <DONNEES>\n")


def _eleves(population: Population, out: TextIO, export_format: ExportFormat) -> None:
    out.write(_header("BEE_ELEVES", "3.0", population, 0))
    out.write("    <ELEVES>\n")
    etab = population.uai[1:-1]
    i = " " * 8
    for pupil in population.pupils:
        place, previous = pupil.birthplace, pupil.previous
        out.write("".join((
            f'      <ELEVE ELEVE_ID="{pupil.eleve_id}" ELENOET="{pupil.elenoet}">\n',
            _tag(i, "ID_NATIONAL", pupil.ine), _tag(i, "ELENOET", pupil.elenoet),
            _tag(i, "ID_ELEVE_ETAB", f"{int(pupil.elenoet):05d}{etab}"), _tag(i, "NOM_DE_FAMILLE", pupil.nom),
            _tag(i, "NOM_USAGE", pupil.nom_usage), _tag(i, "PRENOM", pupil.prenom), _tag(i, "PRENOM2", pupil.prenom2),
            _tag(i, "DATE_NAISS", _day(pupil.naissance)), _tag(i, "CODE_SEXE", str(pupil.sexe)),
            _tag(i, "CODE_PAYS", place.code_pays), _tag(i, "VILLE_NAISS", place.ville),
            _tag(i, "CODE_DEPARTEMENT_NAISS", place.departement), _tag(i, "CODE_COMMUNE_INSEE_NAISS", place.insee),
            _tag(i, "DOUBLEMENT", "1" if pupil.doublement else "0"), _tag(i, "CODE_REGIME", pupil.regime),
            _tag(i, "DATE_ENTREE", _day(pupil.date_entree)),
            _tag(i, "DATE_SORTIE", _day(pupil.date_sortie) if pupil.date_sortie else None),
            _tag(i, "CODE_STATUT", "ST"), _tag(i, "CODE_MEF", ref.COLLEGE_MEFS[pupil.level][0]),
            _tag(i, "ACCEPTE_SMS", "0"), _tag(i, "MEL", pupil.email), _tag(i, "ADRESSE_ID", pupil.adresse_id),
            _tag(i, "CODE_PAYS_NAT", place.code_pays),
            f"{i}<SCOLARITE_AN_DERNIER>\n", _tag(i + "  ", "CODE_RNE", previous.rne),
            _tag(i + "  ", "CODE_MEF", previous.mef), _tag(i + "  ", "CODE_STRUCTURE", previous.structure),
            _tag(i + "  ", "DENOM_PRINC", previous.denomination), f"{i}</SCOLARITE_AN_DERNIER>\n",
            "      </ELEVE>\n",
        )))
    out.write("    </ELEVES>\n    <OPTIONS>\n")
    code_matiere = ref.LATIN_MATIERE[0]
    for pupil in population.pupils:
        if pupil.latin:
            out.write(f'      <OPTION ELEVE_ID="{pupil.eleve_id}" ELENOET="{pupil.elenoet}">\n        <OPTIONS_ELEVE>\n'
                      f"          <NUM_OPTION>1</NUM_OPTION>\n          <CODE_MODALITE_ELECT>F</CODE_MODALITE_ELECT>\n"
                      f"          <CODE_MATIERE>{code_matiere}</CODE_MATIERE>\n        </OPTIONS_ELEVE>\n"
                      f"      </OPTION>\n")
    out.write("    </OPTIONS>\n    <STRUCTURES>\n")
    for pupil in population.pupils:
        structures = [(pupil.division, "D"), *((groupe, "G") for groupe in pupil.groupes)]
        if pupil.groupes_first:
            structures.append(structures.pop(0))
        out.write(f'      <STRUCTURES_ELEVE ELEVE_ID="{pupil.eleve_id}" ELENOET="{pupil.elenoet}">\n')
        out.write("".join(f"        <STRUCTURE>\n          <CODE_STRUCTURE>{_x(code)}</CODE_STRUCTURE>\n"
                          f"          <TYPE_STRUCTURE>{kind}</TYPE_STRUCTURE>\n        </STRUCTURE>\n"
                          for code, kind in structures))
        out.write("      </STRUCTURES_ELEVE>\n")
    out.write("    </STRUCTURES>\n    <BOURSES/>\n")
    used = {pupil.adresse_id for pupil in population.pupils}
    _adresses(population.pupil_addresses, used if export_format.avec_adresses else set(), out)
    out.write("  </DONNEES>\n</BEE_ELEVES>\n")


def _responsables(population: Population, out: TextIO, export_format: ExportFormat) -> None:
    out.write(_header("BEE_RESPONSABLES", "2.1", population, 1))
    out.write("    <PERSONNES>\n")
    i = " " * 8
    for person in population.persons:
        out.write("".join((
            f'      <PERSONNE PERSONNE_ID="{person.personne_id}">\n', _tag(i, "LC_CIVILITE", person.civilite),
            _tag(i, "LL_CIVILITE", "Monsieur" if person.civilite == "M." else "Madame"),
            _tag(i, "NOM_DE_FAMILLE", person.nom), _tag(i, "NOM_USAGE", person.nom_usage),
            _tag(i, "PRENOM", person.prenom), _tag(i, "TEL_PERSONNEL", person.personnel),
            _tag(i, "TEL_PORTABLE", person.portable), _tag(i, "TEL_PROFESSIONNEL", person.professionnel),
            _tag(i, "ACCEPTE_SMS", "1" if person.portable else "0"), _tag(i, "MEL", person.email),
            _tag(i, "COMMUNICATION_ADRESSE", "1"), _tag(i, "ADRESSE_ID", person.adresse_id),
            _tag(i, "CODE_PROFESSION", person.profession), "      </PERSONNE>\n",
        )))
    out.write("    </PERSONNES>\n    <RESPONSABLES>\n")
    rank = {id(pupil): position for position, pupil in enumerate(population.pupils)}
    legal_rank: dict[int, int] = {}
    for link in sorted(population.links, key=lambda link: rank[id(link.pupil)]):
        out.write(_link(link, legal_rank, export_format.old_model))
    out.write("    </RESPONSABLES>\n")
    used = {person.adresse_id for person in population.persons}
    _adresses(population.addresses, used if export_format.avec_adresses else set(), out)
    out.write("  </DONNEES>\n</BEE_RESPONSABLES>\n")


def _link(link: Link, legal_rank: dict[int, int], old_model: bool) -> str:
    i = " " * 8
    head = (f"      <RESPONSABLE_ELEVE>\n{i}<ELEVE_ID>{link.pupil.eleve_id}</ELEVE_ID>\n"
            f"{i}<PERSONNE_ID>{link.person.personne_id}</PERSONNE_ID>\n")
    if old_model:
        resp_legal = "0"
        if link.niveau == 1:
            legal_rank[id(link.pupil)] = legal_rank.get(id(link.pupil), 0) + 1
            resp_legal = "1" if legal_rank[id(link.pupil)] == 1 else "2"
        body = (_tag(i, "RESP_LEGAL", resp_legal) + _tag(i, "CODE_PARENTE", link.code_parente)
                + _tag(i, "RESP_FINANCIER", "1" if link.paie else "0")
                + _tag(i, "PERS_PAIEMENT", "1" if link.paie else "0")
                + _tag(i, "PERS_CONTACT", "1" if link.niveau != 2 else "0"))
    else:
        body = (_tag(i, "NIVEAU_RESPONSABILITE", str(link.niveau)) + _tag(i, "CODE_PARENTE", link.code_parente)
                + (_tag(i, "PAIE_FRAIS_SCOLAIRES", "1" if link.paie else "0")
                   + _tag(i, "PERCOIT_LES_AIDES", "1" if link.paie else "0") if link.niveau == 1 else "")
                + _tag(i, "HEBERGE_ELEVE", "1" if link.heberge else "0")
                + _tag(i, "A_CONTACTER_EN_PRIORITE", "true" if link.prioritaire else "false"))
    return f"{head}{body}      </RESPONSABLE_ELEVE>\n"


def _adresses(addresses: dict[str, Address], used: set[str], out: TextIO) -> None:
    if not used:
        out.write("    <ADRESSES/>\n")
        return
    out.write("    <ADRESSES>\n")
    i = " " * 8
    for adresse_id in sorted(used, key=int):
        address = addresses[adresse_id]
        lines = "".join(_tag(i, f"LIGNE{rank}_ADRESSE", line) for rank, line in enumerate(address.lignes, start=1))
        out.write("".join((
            f'      <ADRESSE ADRESSE_ID="{adresse_id}">\n', lines,
            _tag(i, "COMMUNE_ETRANGERE", address.commune_etrangere), _tag(i, "CODE_POSTAL", address.code_postal),
            _tag(i, "CODE_PAYS", address.code_pays), _tag(i, "CODE_COMMUNE_INSEE", address.insee),
            _tag(i, "LL_PAYS", address.pays),
            _tag(i, "CODE_DEPARTEMENT", f"0{address.code_postal[:2]}" if address.code_postal else None),
            _tag(i, "LIBELLE_POSTAL", address.commune), "      </ADRESSE>\n",
        )))
    out.write("    </ADRESSES>\n")


def _nomenclature(population: Population, out: TextIO, _format: ExportFormat) -> None:
    out.write(_header("BEE_NOMENCLATURES", "3.1", population, 2))
    out.write("    <MEFS>\n")
    for code, formation, libelle, edition, mefstat in ref.COLLEGE_MEFS:
        out.write(f'      <MEF CODE_MEF="{code}">\n        <FORMATION>{formation}</FORMATION>\n'
                  f"        <LIBELLE_LONG>{libelle}</LIBELLE_LONG>\n"
                  f"        <LIBELLE_EDITION>{edition}</LIBELLE_EDITION>\n"
                  f"        <CODE_MEFSTAT>{mefstat}</CODE_MEFSTAT>\n"
                  f"        <MEF_RATTACHEMENT>{code}</MEF_RATTACHEMENT>\n"
                  f"        <STATUT_MEF>4</STATUT_MEF>\n      </MEF>\n")
    code, gestion, court, long = ref.LATIN_MATIERE
    out.write(f'    </MEFS>\n    <MATIERES>\n      <MATIERE CODE_MATIERE="{code}">\n'
              f"        <CODE_GESTION>{gestion}</CODE_GESTION>\n        <LIBELLE_COURT>{court}</LIBELLE_COURT>\n"
              f"        <LIBELLE_LONG>{_x(long)}</LIBELLE_LONG>\n      </MATIERE>\n    </MATIERES>\n")
    for section, element, attribute, rows in (("REGIMES", "REGIME", "CODE_REGIME", ref.REGIMES),
                                              ("LIENS_PARENTE", "LIEN_PARENTE", "CODE_PARENTE", ref.LIENS_PARENTE)):
        out.write(f"    <{section}>\n")
        for code, court, long in rows:
            out.write(f'      <{element} {attribute}="{code}">\n        <LIBELLE_COURT>{_x(court)}</LIBELLE_COURT>\n'
                      f"        <LIBELLE_LONG>{_x(long)}</LIBELLE_LONG>\n      </{element}>\n")
        out.write(f"    </{section}>\n")
    out.write("  </DONNEES>\n</BEE_NOMENCLATURES>\n")


def _structures(population: Population, out: TextIO, _format: ExportFormat) -> None:
    out.write(_header("BEE_STRUCTURES", "2.0", population, 3))
    out.write("    <DIVISIONS>\n")
    for division in population.divisions:
        out.write(f'      <DIVISION CODE_STRUCTURE="{_x(division.code)}">\n'
                  f"        <LIBELLE_LONG>{_x(division.libelle)}</LIBELLE_LONG>\n"
                  f"{_mefs((division.level,))}      </DIVISION>\n")
    out.write("    </DIVISIONS>\n    <GROUPES>\n")
    order = {division.code: rank for rank, division in enumerate(population.divisions)}
    members: dict[str, set[str]] = {}
    for pupil in population.pupils:
        for groupe in pupil.groupes:
            members.setdefault(groupe, set()).add(pupil.division)
    for group in population.groups:
        divisions = "".join(f"          <DIVISION_APPARTENANCE>\n            <CODE_STRUCTURE>{_x(code)}"
                            f"</CODE_STRUCTURE>\n          </DIVISION_APPARTENANCE>\n"
                            for code in sorted(members.get(group.code, ()), key=order.__getitem__))
        out.write(f'      <GROUPE CODE_STRUCTURE="{_x(group.code)}">\n'
                  f"        <LIBELLE_LONG>{_x(group.libelle)}</LIBELLE_LONG>\n{_mefs(group.levels)}"
                  f"        <DIVISIONS_APPARTENANCE>\n{divisions}        </DIVISIONS_APPARTENANCE>\n      </GROUPE>\n")
    out.write("    </GROUPES>\n  </DONNEES>\n</BEE_STRUCTURES>\n")


def _mefs(levels: tuple[int, ...]) -> str:
    inner = "".join(f"          <MEF_APPARTENANCE>\n            <CODE_MEF>{ref.COLLEGE_MEFS[level][0]}</CODE_MEF>\n"
                    f"          </MEF_APPARTENANCE>\n" for level in levels)
    return f"        <MEFS_APPARTENANCE>\n{inner}        </MEFS_APPARTENANCE>\n"
