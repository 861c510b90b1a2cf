"""Turning the texts of an export into values: kept fields, dates, names, e-mails, addresses, the PARAMETRES header."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, datetime

from teleservices.sync.siecle.model import CHAMPS_CONSERVES, Adresse, ExportHeader, ExportKind
from teleservices.sync.siecle.problems import ProblemLog, SiecleFileError
from teleservices.sync.siecle.reader import Record

DATE_SANS_FIN = date(9999, 12, 31)
"""SIECLE's "no end" date."""

_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_HORODATAGE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2}):(\d{2})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_UAJ = re.compile(r"\d{7}[A-Z]")


class InvalidDate(ValueError):
    """A date text that is not a real date; `reason` completes a French sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def kept_fields(element: ET.Element, kind: str) -> dict[str, str]:
    """Texts of the kept children of an element: absent tag → no key, empty tag → "" (text stripped)."""
    kept = CHAMPS_CONSERVES[kind]
    fields: dict[str, str] = {}
    for child in element:
        if child.tag in kept and child.tag not in fields:
            fields[child.tag] = (child.text or "").strip()
    return fields


def identifier(element: ET.Element, name: str) -> str:
    """An identifier given as attribute (the usual form) or as child element; "" when missing."""
    value = element.get(name)
    if value is None:
        child = element.find(name)
        value = child.text if child is not None else None
    return (value or "").strip()


def element_path(record: Record, key: str, value: str) -> str:
    """The record's path, its element named by identifier, or by rank when the identifier is missing."""
    return f"{record.path}[{key}={value}]" if value else f"{record.path}[n°{record.position}]"


def parse_date(text: str) -> date:
    """A JJ/MM/AAAA date; raises InvalidDate."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        raise InvalidDate("n'est pas une date au format JJ/MM/AAAA")
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidDate("n'existe pas") from None


def parse_horodatage(text: str) -> datetime:
    """A JJ/MM/AAAA HH:MM:SS timestamp; raises InvalidDate."""
    match = _HORODATAGE.fullmatch(text.strip())
    if match is None:
        raise InvalidDate("n'est pas un horodatage au format JJ/MM/AAAA HH:MM:SS")
    day, month, year, hour, minute, second = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise InvalidDate("n'existe pas") from None


def date_field(fields: dict[str, str], name: str, label: str, whose: str, log: ProblemLog, path: str,
               siecle_id: str) -> date | None:
    """A date field: None when absent or empty; an erreur (and None) when it is not a real date."""
    text = fields.get(name)
    if not text:
        return None
    try:
        return parse_date(text)
    except InvalidDate as invalid:
        log.erreur(f"{path}/{name}", f"La {label} {text} {whose} {invalid.reason}", siecle_id, name)
        return None


def email_field(fields: dict[str, str], whose: str, log: ProblemLog, path: str, siecle_id: str) -> str | None:
    """MEL as written; an avertissement when it does not look like an e-mail address (the value is kept)."""
    email = fields.get("MEL")
    if email and _EMAIL.fullmatch(email) is None:
        log.avertissement(f"{path}/MEL", f"L'adresse électronique « {email} » {whose} n'a pas la forme d'une "
                                         f"adresse électronique ; elle est gardée telle quelle", siecle_id, "MEL")
    return email


def names(fields: dict[str, str]) -> tuple[str | None, str | None]:
    """(nom, nom_usage): NOM_DE_FAMILLE (NOM before 2016), and NOM_USAGE falling back to the family name."""
    nom = fields.get("NOM_DE_FAMILLE") or fields.get("NOM") or None
    return nom, fields.get("NOM_USAGE") or nom


def read_adresse(element: ET.Element) -> Adresse:
    """An ADRESSE element as kept."""
    fields = kept_fields(element, "ADRESSE")
    lignes = tuple(line for n in range(1, 5) if (line := fields.get(f"LIGNE{n}_ADRESSE")))
    return Adresse(
        lignes=lignes,
        code_postal=fields.get("CODE_POSTAL") or None,
        commune=fields.get("LIBELLE_POSTAL") or fields.get("COMMUNE_ETRANGERE") or None,
        code_pays=fields.get("CODE_PAYS") or None,
        pays=fields.get("LL_PAYS") or None,
    )


def read_header(record: Record, kind: ExportKind, log: ProblemLog) -> ExportHeader:
    """The PARAMETRES block; a file without UAJ or ANNEE_SCOLAIRE cannot be imported at all."""
    fields = kept_fields(record.element, "PARAMETRES")
    uaj = fields.get("UAJ", "")
    if _UAJ.fullmatch(uaj) is None:
        raise SiecleFileError(log.file, f"PARAMETRES/UAJ « {uaj} » n'est pas un numéro d'établissement (UAI) valide")
    annee = fields.get("ANNEE_SCOLAIRE", "")
    if not (annee.isascii() and annee.isdigit() and len(annee) == 4):
        raise SiecleFileError(log.file, f"PARAMETRES/ANNEE_SCOLAIRE « {annee} » n'est pas une année")
    date_export = horodatage = None
    if text := fields.get("DATE_EXPORT"):
        try:
            date_export = parse_date(text)
        except InvalidDate as invalid:
            log.avertissement(f"{record.path}/DATE_EXPORT", f"La date d'export {text} {invalid.reason}",
                              None, "DATE_EXPORT")
    if text := fields.get("HORODATAGE"):
        try:
            horodatage = parse_horodatage(text)
        except InvalidDate as invalid:
            log.avertissement(f"{record.path}/HORODATAGE", f"L'horodatage {text} {invalid.reason}", None, "HORODATAGE")
    return ExportHeader(kind, log.file, uaj, int(annee), date_export, horodatage)


def required_header(header: ExportHeader | None, file: str) -> ExportHeader:
    """The header, or a clean error when the file had no PARAMETRES block."""
    if header is None:
        raise SiecleFileError(file, "le bloc PARAMETRES (UAJ, ANNEE_SCOLAIRE) est absent")
    return header
