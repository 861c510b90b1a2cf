"""A paper letter's data and its HTML: the establishment's templates filled, laid out for a window envelope.

Everything staff typed or that comes from SIECLE reaches the HTML through jinja2's autoescape only: a template
is text with [Champ] fields (shared.letters), never markup nor code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import zxingcpp
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict, Field, model_validator

from teleservices.shared.letters import CNIL_MENTION, DEFAULTS, FIELDS, TemplatePart, fields_in, fill
from teleservices.shared.messages.catalog import LetterVariant, Population

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "pdf"
STYLESHEET = TEMPLATES / "letters.css"
TITLE = "Accès aux services en ligne de l'établissement"
_DARK_RUN = re.compile(b"\x00+")
"""Dark modules in zxing-cpp's symbol image (one byte per module: 0 dark, 255 light)."""
QR_QUIET_ZONE = 4
"""The light margin the QR code standard asks around the symbol, in modules."""
QR_TITLE = "Code QR menant à la page de première connexion des services en ligne"
ADDRESS_LINES = 4
_NAME_FIELDS = frozenset({"Civilité", "Nom", "Prénom"})
_ADDRESS_FIELDS = frozenset({f"Adresse ligne {n}" for n in range(1, ADDRESS_LINES + 1)} | {"Code postal", "Commune",
                                                                                                "Pays"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_POSTCODE_TOWN = re.compile(r"^(\d{5})\s+(.+)$")
_LINE_BREAK = "\x1f"
"""Stands for a line break inside one value while fill() works line by line (values never hold control chars)."""

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined, trim_blocks=False,
)


class LetterData(BaseModel):
    """Everything one paper letter prints. No birth date: a letter never needs one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    academie: str
    etablissement: str
    adresse_etablissement: tuple[str, ...] = ()
    telephone: str | None = None
    courriel_etablissement: str | None = None
    commune_etablissement: str | None = None
    chef_etablissement: str | None = None
    civilite: str | None = None
    nom: str
    prenom: str
    adresse: tuple[str, ...] = ()
    """The recipient's address lines before the postcode line ([Adresse ligne 1] to [Adresse ligne 4])."""
    code_postal: str | None = None
    commune: str | None = None
    pays: str | None = None
    nom_eleve: str | None = None
    prenom_eleve: str | None = None
    division: str | None = None
    identifiant: str
    mot_de_passe: str | None = None
    """The temporary password, in clear: printed in the body, never in the QR code."""
    adresse_des_services: str
    date: date
    population: Population
    variant: LetterVariant
    templates: dict[TemplatePart, str] = Field(default_factory=lambda: dict(DEFAULTS))
    """The establishment's templates; a part it lacks is the default one."""
    qr_url: str | None = None
    """A one-time link to the portal's first-connection page, printed as a QR code (never holds the password)."""

    @model_validator(mode="after")
    def _consistent(self) -> LetterData:
        if len(self.adresse) > ADDRESS_LINES:
            raise ValueError(f"au plus {ADDRESS_LINES} lignes d'adresse")
        if self.variant is LetterVariant.nouveau_compte and not self.mot_de_passe:
            raise ValueError("un courrier « nouveau compte » porte le mot de passe provisoire")
        if self.qr_url is not None:
            if not self.qr_url.startswith(("https://", "http://")):
                raise ValueError("le code QR ne porte qu'une adresse http(s)")
            if self.mot_de_passe and self.mot_de_passe in self.qr_url:
                raise ValueError("le mot de passe ne doit jamais figurer dans le code QR")
        return self

    @property
    def body_part(self) -> TemplatePart:
        """The body template of this population and letter."""
        return TemplatePart(f"{self.population.value}_{self.variant.value}")

    def template(self, part: TemplatePart) -> str:
        """The establishment's text for a part, or the default one (line ends as a browser's form sends them too)."""
        return (self.templates.get(part) or DEFAULTS[part]).replace("\r\n", "\n").replace("\r", "\n")


def _clean(value: str | None) -> str:
    """One line of text: control characters (tabs, line breaks…) become spaces."""
    return _CONTROL.sub(" ", value or "").strip()


def values(letter: LetterData) -> dict[str, str]:
    """The value of every [Champ] of shared.letters.FIELDS for this letter ("" when unknown).

    Each value is one line, except [Adresse établissement] whose lines are joined by "\\n".
    """
    address = [_clean(line) for line in letter.adresse] + [""] * (ADDRESS_LINES - len(letter.adresse))
    found = {
        "Civilité": _clean(letter.civilite), "Nom": _clean(letter.nom), "Prénom": _clean(letter.prenom),
        "Nom élève": _clean(letter.nom_eleve), "Prénom élève": _clean(letter.prenom_eleve),
        "Division": _clean(letter.division),
        **{f"Adresse ligne {n}": line for n, line in enumerate(address, start=1)},
        "Code postal": _clean(letter.code_postal), "Commune": _clean(letter.commune), "Pays": _clean(letter.pays),
        "Établissement": _clean(letter.etablissement),
        "Adresse établissement": "\n".join(line for line in map(_clean, letter.adresse_etablissement) if line),
        "Téléphone": _clean(letter.telephone), "Courriel établissement": _clean(letter.courriel_etablissement),
        "Académie": _clean(letter.academie), "Date": letter.date.strftime("%d/%m/%Y"),
        "Adresse des services": _clean(letter.adresse_des_services), "Identifiant": _clean(letter.identifiant),
        "Mot de passe": _clean(letter.mot_de_passe), "Chef d'établissement": _clean(letter.chef_etablissement),
        "Commune établissement": _clean(letter.commune_etablissement),
    }
    return {name: found[name] for name in FIELDS}


def recipient_address(lines: Sequence[str]) -> dict[str, Any]:
    """A composed address (its lines, then "CODE COMMUNE", then a foreign country, as accounts keep it) as the
    `adresse`, `code_postal`, `commune` and `pays` of a LetterData (more than 4 lines before the town: the last ones
    share the 4th line)."""
    kept = [line for line in map(_clean, lines) if line]
    before, code_postal, commune, pays = kept, None, None, None
    for i in range(len(kept) - 1, -1, -1):
        if match := _POSTCODE_TOWN.match(kept[i]):
            before, code_postal, commune, pays = kept[:i], match.group(1), match.group(2), " ".join(kept[i + 1:])
            break
    if len(before) > ADDRESS_LINES:
        before = [*before[:ADDRESS_LINES - 1], ", ".join(before[ADDRESS_LINES - 1:])]
    return {"adresse": tuple(before), "code_postal": code_postal, "commune": commune, "pays": pays or None}


def _fill_lines(text: str, filled_values: Mapping[str, str]) -> list[str]:
    """fill() the text, then its lines (a multi-line value gives several)."""
    one_line = {name: value.replace("\n", _LINE_BREAK) for name, value in filled_values.items()}
    return fill(text, one_line).replace(_LINE_BREAK, "\n").split("\n") if text else []


def split_header(text: str) -> tuple[str, str, str]:
    """The header template as (establishment part, recipient part, what follows).

    The recipient part is the run of lines around the first [Adresse ligne 1]: the name lines just above it and the
    address lines just below it. It is what shows through the envelope's window.
    """
    lines = text.split("\n")
    anchor = next((i for i, line in enumerate(lines) if "[Adresse ligne 1]" in line), None)
    if anchor is None:
        anchor = next((i for i, line in enumerate(lines) if "[Nom]" in line), None)
    if anchor is None:
        return text, "", ""
    start = anchor
    while start > 0 and _NAME_FIELDS & set(fields_in(lines[start - 1])):
        start -= 1
    end = anchor
    while end + 1 < len(lines) and (_NAME_FIELDS | _ADDRESS_FIELDS) & set(fields_in(lines[end + 1])):
        end += 1
    return "\n".join(lines[:start]), "\n".join(lines[start:end + 1]), "\n".join(lines[end + 1:])


def _trim(lines: list[str]) -> list[str]:
    """Without the blank lines at either end."""
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def _paragraphs(lines: list[str]) -> list[list[str]]:
    """Lines grouped into paragraphs at blank lines."""
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paragraphs[-1].append(line.replace("\t", " "))
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


def qr_payload(letter: LetterData) -> str | None:
    """What the QR code holds: the one-time first-connection link, nothing else."""
    return letter.qr_url


def qr_svg(payload: str) -> Markup:
    """The QR code as inline SVG, one stroke per run of dark modules; it holds no text from the letter but its title.

    zxing-cpp (C++) makes the symbol: error correction level M, the mask the standard's penalty rules find most
    readable, and the smallest version for the link (byte and alphanumeric segments mixed where that is shorter).
    Drawing the SVG from its rows here is a regular expression per row."""
    image = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level="M").to_image(
        scale=1, add_quiet_zones=False)
    side = image.shape[0]
    modules = bytes(memoryview(image))
    rows = [modules[y * side:(y + 1) * side] for y in range(side)]
    size = side + 2 * QR_QUIET_ZONE
    return Markup(  # noqa: S704 - numbers of our own making, and an escaped fixed title.
        f'<svg viewBox="0 0 {size} {size}" class="qr-code"><title>{escape(QR_TITLE)}</title>'
        f'<path class="qrline" stroke="#000" d="{_dark_runs_path(rows, QR_QUIET_ZONE)}"/></svg>')


def _dark_runs_path(rows: Sequence[bytes], border: int) -> str:
    """Each row's runs of dark modules as horizontal strokes: an absolute move to the first, then moves relative
    to the end of the previous one (half a module down: a stroke of width 1 covers its row)."""
    parts: list[str] = []
    end: tuple[int, int] | None = None
    for y, row in enumerate(rows, start=border):
        for run in _DARK_RUN.finditer(row):
            x = run.start() + border
            parts.append(f"M{x} {y}.5" if end is None else f"m{x - end[0]} {y - end[1]}")
            parts.append(f"h{run.end() - run.start()}")
            end = (run.end() + border, y)
    return "".join(parts)


@dataclass(frozen=True)
class _Laid:
    """One letter ready for the template (every string still to be escaped, but qr_svg)."""

    establishment: list[tuple[str, str]]
    recipient: list[str]
    after_header: list[str]
    body: list[list[str]]
    signature: str
    qr_svg: Markup | None


def _lay_out(letter: LetterData) -> _Laid:
    filled_values = values(letter)
    establishment, recipient, after = split_header(letter.template(TemplatePart.en_tete))
    body = letter.template(letter.body_part)
    payload = qr_payload(letter)
    return _Laid(
        establishment=[(left, right.strip()) for left, _, right in
                       (line.partition("\t") for line in _trim(_fill_lines(establishment, filled_values)))],
        recipient=[line for line in _fill_lines(recipient, filled_values) if line.strip()],
        after_header=_trim(_fill_lines(after, filled_values)),
        body=_paragraphs(_fill_lines(body, filled_values)),
        signature="" if "[Chef d'établissement]" in body else filled_values["Chef d'établissement"],
        qr_svg=qr_svg(payload) if payload else None,
    )


@cache
def stylesheet_text() -> str:
    """The letters' CSS."""
    return STYLESHEET.read_text(encoding="utf-8")


def document_title(letters: Sequence[LetterData]) -> str:
    """The document's title: the letters' object, and the establishment when they share one."""
    names = {_clean(letter.etablissement) for letter in letters}
    return f"{TITLE} – {names.pop()}" if len(names) == 1 else TITLE


def document_html(letters: Sequence[LetterData], *, inline_css: bool = True, title: str | None = None) -> str:
    """One HTML document holding the letters in the given order, one per page."""
    if not letters:
        raise ValueError("aucun courrier à mettre en page")
    establishments = {_clean(letter.etablissement) for letter in letters}
    return _environment.get_template("letters.html").render(
        title=title or document_title(letters),
        author=next(iter(establishments)) if len(establishments) == 1 else "",
        css=Markup(stylesheet_text()) if inline_css else None,  # noqa: S704 - our own stylesheet file.
        letters=[_lay_out(letter) for letter in letters],
        cnil=CNIL_MENTION,
    )


def render_letter_html(letter: LetterData) -> str:
    """One letter as a standalone HTML document (its stylesheet inline): a preview of the printed page."""
    return document_html([letter])
