"""« Gestion des services » and « Paramétrage » (guide §2): services open, per-service and portal settings."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from teleservices.accounts.api.deps import scoped
from teleservices.accounts.configuration import Configuration, Context, dump
from teleservices.accounts.domain import establishment_settings as es
from teleservices.accounts.domain.model import ActionRefused
from teleservices.shared import letters
from teleservices.shared.security.staff import Menu
from teleservices.shared.web import Staff

router = APIRouter(prefix="/api/v1/establishments/{uai}", tags=["paramétrage"])


def _configuration(request: Request) -> Configuration:
    configuration: Configuration = request.app.state.configuration
    return configuration


Config = Annotated[Configuration, Depends(_configuration)]


class Body(BaseModel):
    """A settings form: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class ServiceIn(Body):
    open: bool = Field(description="Ouvrir (true) ou fermer (false) le service")


class PublicationIn(Body):
    publication: es.PublicationNotes


class DateIn(Body):
    code_mef: str = Field(min_length=1, max_length=11, examples=["10310019110"])
    division: str = Field(min_length=1, max_length=8, examples=["3A"])
    date: date


class PaiementIn(Body):
    numero_tipi: str = Field(max_length=10, examples=["12345"])
    montant_minimum: Decimal = Field(examples=["15.00"])
    adresse_messagerie: str = Field(max_length=200, examples=["intendance@exemple.fr"])


class SemainesIn(Body):
    nombre_semaines: int


class AdresseIn(Body):
    adresse_messagerie: str | None = Field(default=None, max_length=200)


class MessageIn(Body):
    texte: str = Field(max_length=20_000, description="Au plus 2000 caractères ; liens permis")


class EntIn(Body):
    type_courrier: es.TypeCourrier
    lien_ent_predefini: str | None = Field(default=None, description="Identifiant d'un lien de la liste académique")
    lien_ent_specifique: str | None = Field(default=None, max_length=500)


class ContactIn(Body):
    adresse_contact: str | None = Field(default=None, max_length=200)
    actif: bool


class CourrierIn(Body):
    texte: str = Field(max_length=20_000, description="Texte avec des champs [Champ] ; aucune autre syntaxe")


class LienIn(Body):
    libelle: str = Field(max_length=200)
    url: str = Field(max_length=500)


@router.get("/services")
async def services(uai: str, staff: Staff, config: Config) -> list[dict[str, Any]]:
    """Ouverture / fermeture: every service with its state, locks and reasons (guide §2.1)."""
    scoped(staff, uai)
    return await config.services(uai)


@router.put("/services/{code}")
async def set_service(uai: str, code: str, body: ServiceIn, staff: Staff, config: Config) -> dict[str, Any]:
    """Open or close one service."""
    scoped(staff, uai, Menu.gestion_services)
    return {"open": await config.set_service_open(staff, uai, code, body.open)}


@router.get("/settings")
async def settings(uai: str, staff: Staff, config: Config) -> dict[str, Any]:
    """Every settings group."""
    scoped(staff, uai)
    return await config.settings(uai)


async def _change(config: Configuration, staff: Staff, uai: str, menu: Menu, group: str, apply: Any,
                  with_divisions: bool = False) -> Any:
    scoped(staff, uai, menu)
    return dump(await config.change(staff, uai, group, apply, with_divisions=with_divisions))


@router.put("/settings/notes/publication")
async def notes_publication(uai: str, body: PublicationIn, staff: Staff, config: Config) -> Any:
    """Configuration Notes: au fil de l'eau or à échéance (guide §2.2)."""
    return await _change(config, staff, uai, Menu.gestion_services, "notes",
                         lambda ctx, v: v.with_publication(body.publication, ctx.is_open("notes")))


@router.post("/settings/notes/dates")
async def notes_add_date(uai: str, body: DateIn, staff: Staff, config: Config) -> Any:
    """« + »: a publication date for a MEF and division."""
    return await _change(config, staff, uai, Menu.gestion_services, "notes", lambda ctx, v: v.add_date(
        body.code_mef, body.division, body.date, ctx.divisions, ctx.is_open("notes")), with_divisions=True)


@router.delete("/settings/notes/dates")
async def notes_remove_date(uai: str, body: DateIn, staff: Staff, config: Config) -> Any:
    """« − »: remove a publication date."""
    return await _change(config, staff, uai, Menu.gestion_services, "notes", lambda ctx, v: v.remove_date(
        body.code_mef, body.division, body.date, ctx.is_open("notes")))


@router.get("/settings/paiement/tipi/{numero}")
async def check_tipi(uai: str, numero: str, staff: Staff, config: Config, request: Request) -> dict[str, str]:
    """The TIPI reference list's match, shown for confirmation before validating (guide §2.3)."""
    scoped(staff, uai, Menu.gestion_services)
    async with request.app.state.runtime.db.connection() as conn:
        from teleservices.accounts.configuration import context

        ctx = await context(conn, uai)
    match = es.check_tipi(numero, ctx.academy["tipi_reference"])
    return {"numero_tipi": match.number, "libelle": match.label}


@router.put("/settings/paiement")
async def paiement(uai: str, body: PaiementIn, staff: Staff, config: Config) -> Any:
    """Paiement en ligne des factures."""
    return await _change(config, staff, uai, Menu.gestion_services, "paiement", lambda ctx, v: es.configure_paiement(
        body.numero_tipi, body.montant_minimum, body.adresse_messagerie, ctx.academy["tipi_reference"]))


@router.put("/settings/emploi_du_temps")
async def emploi_du_temps(uai: str, body: SemainesIn, staff: Staff, config: Config) -> Any:
    """Emploi du temps: weeks shown (not editable while the service is closed)."""
    return await _change(config, staff, uai, Menu.gestion_services, "emploi_du_temps",
                         lambda ctx, v: es.configure_emploi_du_temps(body.nombre_semaines,
                                                                     ctx.is_open("emploi_du_temps")))


@router.put("/settings/bourse_college")
async def bourse_college(uai: str, body: AdresseIn, staff: Staff, config: Config) -> Any:
    """Bourse de collège: the contact address."""
    return await _change(config, staff, uai, Menu.gestion_services, "bourse_college",
                         lambda ctx, v: es.configure_bourse_college(body.adresse_messagerie))


@router.put("/settings/bourse_lycee")
async def bourse_lycee(uai: str, body: AdresseIn, staff: Staff, config: Config) -> Any:
    """Bourse de lycée: an optional contact address (« Nous contacter » only with one)."""
    return await _change(config, staff, uai, Menu.gestion_services, "bourse_lycee",
                         lambda ctx, v: es.configure_bourse_lycee(body.adresse_messagerie))


@router.post("/settings/message_accueil/preview")
async def message_preview(uai: str, body: MessageIn, staff: Staff) -> dict[str, str]:
    """What families will see, before validating (guide §2.7)."""
    scoped(staff, uai, Menu.parametrage)
    return {"html": es.write_message_accueil(body.texte).html}


@router.put("/settings/message_accueil")
async def message_accueil(uai: str, body: MessageIn, staff: Staff, config: Config) -> Any:
    """Message d'accueil (≤ 2000 characters, links allowed, sanitised); shown at once."""
    return await _change(config, staff, uai, Menu.parametrage, "message_accueil",
                         lambda ctx, v: es.write_message_accueil(body.texte))


@router.put("/settings/ent_et_courrier")
async def ent_et_courrier(uai: str, body: EntIn, staff: Staff, config: Config) -> Any:
    """ENT et courrier de notification: letter type and ENT link (guide §2.8)."""
    def apply(ctx: Context, v: Any) -> es.EntEtCourrier:
        links = [es.LienEntPredefini(**link) for link in ctx.academy["ent_links"]]
        return es.configure_ent_et_courrier(body.type_courrier, links, body.lien_ent_predefini,
                                            body.lien_ent_specifique)

    return await _change(config, staff, uai, Menu.parametrage, "ent_et_courrier", apply)


@router.put("/settings/contact")
async def contact(uai: str, body: ContactIn, staff: Staff, config: Config) -> Any:
    """Contact établissement: one of the establishment's addresses, active or not (guide §2.9)."""
    return await _change(config, staff, uai, Menu.parametrage, "contact", lambda ctx, v: es.configure_contact(
        body.adresse_contact, body.actif, tuple(ctx.establishment["emails"])))


@router.post("/settings/liens_utiles")
async def add_lien(uai: str, body: LienIn, staff: Staff, config: Config) -> Any:
    """Liens utiles: add a link (shown in creation order, guide §2.10)."""
    return await _change(config, staff, uai, Menu.parametrage, "liens_utiles",
                         lambda ctx, v: v.add(body.libelle, body.url)[0])


@router.put("/settings/liens_utiles/{lien_id}")
async def update_lien(uai: str, lien_id: uuid.UUID, body: LienIn, staff: Staff, config: Config) -> Any:
    """Change a useful link."""
    return await _change(config, staff, uai, Menu.parametrage, "liens_utiles",
                         lambda ctx, v: v.update(lien_id, body.libelle, body.url))


@router.delete("/settings/liens_utiles/{lien_id}")
async def remove_lien(uai: str, lien_id: uuid.UUID, staff: Staff, config: Config) -> Any:
    """Remove a useful link."""
    return await _change(config, staff, uai, Menu.parametrage, "liens_utiles", lambda ctx, v: v.remove(lien_id))


@router.get("/settings/courriers")
async def courriers(uai: str, staff: Staff, config: Config) -> dict[str, Any]:
    """The header and each body of the letters, as customised or by default, with the fields available."""
    scoped(staff, uai)
    custom = (await config.settings(uai))["courriers"] or {}
    return {"fields": list(letters.FIELDS), "cnil": letters.CNIL_MENTION, "parts": {
        part.value: {"texte": custom.get(part.value, letters.DEFAULTS[part]), "par_defaut": part.value not in custom,
                     "champs_obligatoires": list(letters.REQUIRED[part])} for part in letters.TemplatePart}}


def _with_part(part: letters.TemplatePart, texte: str | None) -> Any:
    def apply(ctx: Context, current: dict[str, str]) -> dict[str, str]:
        updated = dict(current)
        if texte is None:
            updated.pop(part.value, None)
            return updated
        try:
            updated[part.value] = letters.check_template(part, texte)
        except letters.TemplateRefused as refused:
            raise ActionRefused(refused.field, refused.reason) from refused
        return updated

    return apply


@router.put("/settings/courriers/{part}")
async def edit_courrier(uai: str, part: letters.TemplatePart, body: CourrierIn, staff: Staff, config: Config) -> Any:
    """« Modifier en-tête / corps »: keep the edited text (required fields and the CNIL mention stay)."""
    return await _change(config, staff, uai, Menu.parametrage, "courriers", _with_part(part, body.texte))


@router.delete("/settings/courriers/{part}")
async def reset_courrier(uai: str, part: letters.TemplatePart, staff: Staff, config: Config) -> Any:
    """« Réinitialiser »: back to the default text."""
    return await _change(config, staff, uai, Menu.parametrage, "courriers", _with_part(part, None))
